// Investor page: hero numbers, the animated transaction flow, business value, the comparison with
// user-supplied reference figures, the narrative line and the full-screen cinematic mode.
(function () {
  "use strict";
  var HEROES = {
    transactions: { label: "Transactions", value: function (h) { return h.transactions; }, fmt: function (v) { return v >= 1e6 ? FS.fmtCompact(v) : FS.fmtInt(v); },
      cap: function (h) { return h["final"] ? "completed in the run" : "completed so far"; } },
    fraud_blocked: { label: "Fraud blocked", value: function (h) { return h.fraud_blocked; }, fmt: FS.fmtInt,
      cap: function (h) {
        return FS.fmtInt(h.fraud_missed) + " missed · " + (h.fraud_unscored ? FS.fmtInt(h.fraud_unscored) + " got no verdict · " : "") +
          FS.fmtInt(h.false_positives) + " false alarms";
      } },
    money_saved: { label: "Money saved", value: function (h) { return h.money_saved; }, fmt: function (v) { return FS.fmtMoney(v); },
      cap: function (h) { return "caught fraud, in " + h.currency; } },
    uptime: { label: "Uptime", value: function (h) { return h.uptime_pct; }, fmt: function (v) { return FS.fmtPct(v, 2); },
      cap: function () { return "share of seconds with answers"; } },
    tps: { label: "Current TPS", value: function (h) { return h.tps; }, fmt: FS.fmtInt,
      cap: function (h) { return (h["final"] ? "average · " : "") + "peak " + FS.fmtInt(h.peak_tps); } },
    // Recall and precision, not accuracy: with few fraud among many legitimate payments, a detector
    // that flags nothing is still "accurate" (the analytics page shows accuracy with that caveat).
    recall: { label: "Fraud caught (recall)", value: function (h) { return h.recall * 100; }, fmt: function (v) { return FS.fmtPct(v, 1); },
      cap: function (h) {
        return h.fraud_unscored ? FS.fmtPct(h.recall_effective * 100) + " of all fraud (" + FS.fmtInt(h.fraud_unscored) + " got no verdict)"
          : "of the fraud the detector answered";
      } },
    precision: { label: "Precision", value: function (h) { return h.precision * 100; }, fmt: function (v) { return FS.fmtPct(v, 1); },
      cap: function (h) { return "of flagged payments were fraud · " + FS.fmtInt(h.false_positives) + " false alarms"; } },
    roi: { label: "Net ROI", value: function (h) { return h.roi_pct; }, fmt: FS.fmtRoi,
      cap: function (h) {
        return h.roi_pct == null ? "nothing spent yet" : "(prevented − false-decline loss − cost) ÷ cost";
      } }
  };
  var built = null;

  function buildHeroes() {
    var keys = (FS.presentation && FS.presentation.hero) || Object.keys(HEROES);
    var sig = keys.join(",");
    if (built === sig) return;
    built = sig;
    document.getElementById("heroes").innerHTML = keys.filter(function (k) { return HEROES[k]; }).map(function (k) {
      return '<div class="hero" id="hero-' + k + '"><span class="label">' + HEROES[k].label + '</span>' +
        '<span class="num" id="hero-' + k + '-value" data-key="' + k + '">–</span><span class="cap" id="hero-' + k + '-cap"></span></div>';
    }).join("");
  }

  // Shrinks a hero number until it fits its card (long currencies, large counts, cinematic type).
  function fit(el) {
    el.style.fontSize = "";
    var size = parseFloat(getComputedStyle(el).fontSize);
    while (el.scrollWidth > el.clientWidth + 1 && size > 14) {
      size *= 0.92;
      el.style.fontSize = size + "px";
    }
  }
  function fitAll() { Array.prototype.forEach.call(document.querySelectorAll(".hero .num"), fit); }

  // What was tested: the target and the declared mix of the synthetic traffic. Real card fraud is
  // far rarer than a test mix, and the money figures scale with the fraud share: say so.
  function renderTested() {
    var h = FS.headline || {}, run = FS.run || {};
    var target = h.target || run.target, traffic = h.traffic || run.traffic, mix = h.mix || run.mix;
    document.getElementById("tested-target").textContent = target || "not reported";
    document.getElementById("tested-mix").textContent = traffic || "synthetic (mix not reported)";
    document.getElementById("mix-note").textContent = mix
      ? "The traffic is synthetic with a declared " + FS.fmtPct(mix.fraud * 100, 1).replace(/\.0%$/, "%") +
        " fraud share; real card fraud is far rarer, and money saved and ROI scale with the fraud share."
      : "";
  }

  // Between ticks the counters are extrapolated from the last tick's rate: say so until a tick lands.
  function renderLive() {
    var h = FS.headline, live = !!(h && h.live && !h["final"]);
    document.getElementById("live-tag").hidden = !live;
    document.getElementById("heroes").classList.toggle("estimate", live);
  }

  function renderHeroes() {
    buildHeroes();
    renderLive();
    var h = FS.headline;
    if (!h) return;
    Object.keys(HEROES).forEach(function (k) {
      var el = document.getElementById("hero-" + k + "-value");
      if (!el) return;
      var d = HEROES[k];
      FS.animate(el, d.value(h), d.fmt);
      var lab = el.parentNode.querySelector(".label");
      if (k === "tps") lab.textContent = h["final"] ? "Average TPS" : "Current TPS";
      document.getElementById("hero-" + k + "-cap").textContent = d.cap(h);
    });
    // After the count-up has settled on its final text.
    setTimeout(fitAll, 500);
  }

  function renderValue() {
    var h = FS.headline;
    if (!h) return;
    FS.animate(document.getElementById("bv-cpt"), h.cost_per_txn, function (v) { return FS.fmtMoney(v, h.currency, v < 0.01 ? 5 : 3); });
    FS.animate(document.getElementById("bv-roi"), h.roi_pct, FS.fmtRoi);
    FS.animate(document.getElementById("bv-fd-loss"), h.false_decline_loss, function (v) { return FS.fmtMoney(v, h.currency); });
    document.getElementById("roi-formula").textContent = h.roi_formula + "; false-decline loss = " +
      h.false_decline_cost_ratio + " × falsely declined amount (declared).";
    FS.animate(document.getElementById("bv-saved"), h.money_saved, function (v) { return FS.fmtMoney(v, h.currency); });
    FS.animate(document.getElementById("bv-cost"), h.total_cost, function (v) { return FS.fmtMoney(v, h.currency, v < 100 ? 2 : 0); });
    FS.animate(document.getElementById("bv-fd"), h.false_decline_amount, function (v) { return FS.fmtMoney(v, h.currency); });
    var m = FS.costModel;
    if (m) {
      var cur = m.currency;
      var rows = [["Reporting currency", h.currency + (h.fx_rate !== 1 ? " (from " + cur + " at the declared rate " + h.fx_rate.toPrecision(4) + ")" : "")],
        ["Infrastructure per transaction", m.per_txn_infra + " " + cur], ["Per model call", m.per_model_call + " " + cur],
        ["Model calls per transaction", m.model_calls_per_txn], ["Fixed per hour", m.fixed_per_hour + " " + cur],
        ["False-decline cost ratio", m.false_decline_cost_ratio + " (share of a falsely declined amount the business loses)"],
        ["Formula", "cost = txns × (infra + calls × per call) + hours × fixed; false-decline loss = ratio × falsely declined amount; " +
          "net ROI = (prevented − false-decline loss − cost) / cost"]];
      document.getElementById("model").innerHTML = rows.map(function (r) {
        return "<dt>" + FS.esc(r[0]) + "</dt><dd>" + FS.esc(r[1]) + "</dd>";
      }).join("");
    }
  }

  function ours(figure, h) {
    switch (figure) {
      case "tps": return h.tps;
      case "peak_tps": return h.peak_tps;
      case "p99_ms": return h.p99_ms;
      case "accuracy": return h.accuracy * 100;
      case "recall": return h.recall * 100;
      case "recall_effective": return h.recall_effective * 100;
      case "precision": return h.precision * 100;
      case "cost_per_txn": return h.cost_per_txn;
      case "uptime_pct": return h.uptime_pct;
      default: return null;
    }
  }

  function renderComparison() {
    var refs = (FS.presentation && FS.presentation.references) || [];
    var panel = document.getElementById("comparison-panel");
    panel.hidden = refs.length === 0;
    panel.parentNode.classList.toggle("cols-2", refs.length > 0);
    if (!refs.length) return;
    var h = FS.headline || {};
    var body = refs.map(function (r) {
      var o = ours(r.figure, h);
      return "<tr><td>" + FS.esc(r.name) + "</td><td>" + FS.esc(FS.label(r.figure)) + '</td><td class="num">' +
        FS.esc(FS.fmtCompact(r.value) + (r.unit ? " " + r.unit : "")) + '</td><td class="num">' +
        (o == null ? "–" : FS.esc(FS.fmtCompact(o) + (r.unit ? " " + r.unit : ""))) + '</td><td class="muted">' + FS.esc(r.source) + "</td></tr>";
    }).join("");
    document.getElementById("comparison").innerHTML =
      '<table><thead><tr><th>Product</th><th>Figure</th><th class="num">Published</th><th class="num">This run</th><th>Source</th></tr></thead><tbody>' +
      body + "</tbody></table><p class=\"note\">Reference figures come only from the file the presenter supplied, each with its source.</p>";
  }

  // ---- transaction flow ----
  // The stages are the agents the target names in its answers, in the order the answers list them
  // (a pipeline's order); each dot goes through every stage, as each transaction does. A node's
  // colour is the agent's health as metrics-core computes it (docs/results.md); a target that
  // reports no per-agent timings gets no invented stages.
  var canvas, ctx, particles = [], lastT = 0, spawnDebt = 0, known = [];

  function latest() { return FS.ticks.length ? FS.ticks[FS.ticks.length - 1] : null; }

  function stages() {
    var t = latest();
    // At the end the whole run's agent figures replace the last (partial) tick's.
    var list = FS.summary && FS.summary.agents && FS.summary.agents.length ? FS.summary.agents : (t ? t.agents || [] : []);
    var byName = {};
    list.forEach(function (a) {
      byName[a.name] = a;
      if (known.indexOf(a.name) < 0) known.push(a.name);
    });
    return known.slice(0, 8).map(function (name) {
      var a = byName[name];
      // An agent that served nothing in the tick has no health to show.
      return { name: name, health: a && a.requests > 0 ? a.health : null };
    });
  }

  // Sent, each stage, Verdict: one row, left to right.
  function layout(w, h, n) {
    var slots = n + 2, pad = 12, slot = (w - 2 * pad) / slots, pts = [];
    for (var i = 0; i < slots; i++) pts.push({ x: pad + slot * (i + 0.5), y: h / 2 });
    return { points: pts, nodeW: Math.min(170, slot * 0.86) };
  }

  function color(health) { return FS.HEALTH_COLORS[FS.healthClass(health)]; }
  var NEUTRAL = "#38bdf8";

  function roundRect(x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y); ctx.arcTo(x + w, y, x + w, y + h, r); ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r); ctx.arcTo(x, y, x + w, y, r); ctx.closePath();
  }

  // A label that fits in `width`: the font shrinks down to 10 px.
  function fitText(text, x, y, width, size, weight) {
    var px = size;
    do { ctx.font = weight + " " + px + "px system-ui, sans-serif"; px -= 1; } while (px >= 10 && ctx.measureText(text).width > width);
    ctx.fillText(text, x, y);
  }

  function node(p, w, label, sub, c) {
    var h = 54;
    roundRect(p.x - w / 2, p.y - h / 2, w, h, 12);
    ctx.fillStyle = "rgba(15,22,41,0.95)"; ctx.fill();
    ctx.lineWidth = 2; ctx.strokeStyle = c; ctx.stroke();
    ctx.fillStyle = "#e2e8f0"; ctx.textAlign = "center";
    fitText(label, p.x, p.y - (sub ? 3 : -5), w - 12, 13, "600");
    if (sub) { ctx.fillStyle = c; fitText(sub, p.x, p.y + 15, w - 12, 12, ""); }
  }

  function link(a, b, c) {
    ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y);
    ctx.strokeStyle = c; ctx.globalAlpha = 0.28; ctx.lineWidth = 2; ctx.stroke(); ctx.globalAlpha = 1;
  }

  function resize() {
    var r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(300, r.width) * dpr; canvas.height = r.height * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // One dot stands for `unit` transactions: a power of ten that keeps the dots countable.
  function unitFor(tps) { return Math.pow(10, Math.max(0, Math.ceil(Math.log10(Math.max(1, tps) / 80)))); }

  function draw(now) {
    requestAnimationFrame(draw);
    if (!ctx) return;
    var dt = lastT ? Math.min(0.1, (now - lastT) / 1000) : 0;
    lastT = now;
    var w = canvas.width / (window.devicePixelRatio || 1), hgt = canvas.height / (window.devicePixelRatio || 1);
    ctx.clearRect(0, 0, w, hgt);
    var s = stages(), L = layout(w, hgt, s.length), P = L.points, legs = P.length - 1;
    FS.flowStages = s.map(function (a) { return a.name; });
    var h = FS.headline, tps = h && !h["final"] && (FS.state === "running" || FS.state === "ramping_up") ? h.tps : 0;
    var unit = unitFor(tps);
    var rate = tps > 0 ? "· " + FS.fmtInt(tps) + " TPS · one dot = " + FS.fmtInt(unit) + " transaction" + (unit > 1 ? "s" : "") : "";
    var t = latest();
    document.getElementById("flow-rate").textContent = rate + (t && !s.length ? (rate ? " · " : "· ") + "no per-agent timings from this target" : "");
    // The colour of the leg into stage k is that stage's; the last leg (to the verdict) is neutral.
    var legColor = function (k) { return k < s.length ? color(s[k].health) : NEUTRAL; };
    for (var k = 0; k < legs; k++) link(P[k], P[k + 1], legColor(k));
    spawnDebt += (tps / unit) * dt;
    while (spawnDebt >= 1 && particles.length < 600) {
      spawnDebt -= 1;
      particles.push({ t: 0, leg: 0, speed: 1.6 + Math.random() * 0.8, jitter: (Math.random() - 0.5) * 14 });
    }
    particles = particles.filter(function (p) {
      p.t += dt * p.speed;
      while (p.t >= 1) { p.t -= 1; p.leg += 1; }
      if (p.leg >= legs) return false;
      var a = P[p.leg], b = P[p.leg + 1];
      ctx.beginPath();
      ctx.arc(a.x + (b.x - a.x) * p.t, a.y + p.jitter * Math.sin(Math.PI * p.t), 3, 0, 2 * Math.PI);
      ctx.fillStyle = legColor(p.leg);
      ctx.shadowColor = ctx.fillStyle; ctx.shadowBlur = 8; ctx.fill(); ctx.shadowBlur = 0;
      return true;
    });
    node(P[0], L.nodeW, "Sent", tps > 0 ? FS.fmtInt(tps) + " TPS" : FS.label(FS.state), NEUTRAL);
    s.forEach(function (a, i) {
      node(P[i + 1], L.nodeW, FS.label(a.name), a.health == null ? "no requests" : "health " + Math.round(a.health), color(a.health));
    });
    node(P[P.length - 1], L.nodeW, "Verdict", h ? FS.fmtInt(h.fraud_blocked) + " blocked" : "", NEUTRAL);
  }

  function renderStory() {
    var el = document.getElementById("narrative");
    if (FS.narrative) el.textContent = FS.narrative;
    if (FS.presentation) document.getElementById("title").textContent = FS.presentation.company + " · live stress test";
  }

  var render = FS.throttled(function () { renderStory(); renderTested(); renderHeroes(); renderValue(); renderComparison(); });
  FS.on(function (type) { if (type !== "stats" && type !== "connection") render(); });

  document.addEventListener("DOMContentLoaded", function () {
    canvas = document.getElementById("flow");
    ctx = canvas.getContext("2d");
    resize();
    window.addEventListener("resize", resize);
    requestAnimationFrame(draw);
    buildHeroes();
    document.getElementById("show-inputs").addEventListener("click", function () {
      var el = document.getElementById("inputs"); el.hidden = !el.hidden;
    });
    var cine = document.getElementById("cinematic");
    cine.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      if (document.body.classList.contains("cinematic")) { document.body.classList.remove("cinematic"); setTimeout(fitAll, 50); return; }
      document.body.classList.add("cinematic");
      var req = document.documentElement.requestFullscreen;
      if (req) document.documentElement.requestFullscreen().catch(function () { /* stays cinematic in the window */ });
      setTimeout(function () { resize(); fitAll(); }, 100);
    });
    document.addEventListener("fullscreenchange", function () {
      if (!document.fullscreenElement) document.body.classList.remove("cinematic");
      setTimeout(function () { resize(); fitAll(); }, 100);
    });
    window.addEventListener("resize", fitAll);
  });
})();
