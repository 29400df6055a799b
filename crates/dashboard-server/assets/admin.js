// Admin page: target health, resource charts, cost so far and projected, the run controls (with the
// token typed in and kept in sessionStorage only), export links, agents and the event log.
(function () {
  "use strict";
  var FAULTS = ["agent_crash", "db_throttle", "stream_lag", "model_rate_limit", "network_partition", "latency_spike",
    "connection_reset", "bandwidth_limit", "slow_response", "http_error"];
  var KEY = "fraudstress.token";
  var cpu = null, mem = null, net = null;

  function token() { return sessionStorage.getItem(KEY) || ""; }
  function showToken() {
    document.getElementById("token-state").textContent = token() ? "token set for this tab" : "no token";
  }

  function say(text, cls) {
    var el = document.getElementById("result");
    el.textContent = text; el.className = "result " + (cls || "");
  }

  function control(action, body) {
    if (!token()) { say("Type the control token first (it was printed when the dashboard started).", "warn"); return; }
    fetch("/api/control/" + action, {
      method: "POST",
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : ""
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.ok) say(action + ": done", "good");
        else say(action + " refused (" + r.status + "): " + (j.error || r.statusText), r.status === 401 ? "bad" : "warn");
      });
    }).catch(function (e) { say(action + " failed: " + e, "bad"); });
  }

  function resources() {
    var t = FS.ticks, xs = t.map(function (x) { return x.t_s; });
    var gen = function (f) { return t.map(function (x) { return f(x.resources.generator); }); };
    var tgt = function (f) { return t.map(function (x) { return x.resources.target ? f(x.resources.target) : null; }); };
    var rate = function (get) {
      return t.map(function (x, i) {
        if (i === 0 || x.interval_s <= 0) return null;
        var d = get(x) - get(t[i - 1]);
        return d >= 0 ? d / x.interval_s / 1024 : null;
      });
    };
    var cpuData = [xs, gen(function (p) { return p.cpu_pct; }), tgt(function (p) { return p.cpu_pct; })];
    var memData = [xs, gen(function (p) { return p.rss_bytes / 1048576; }), tgt(function (p) { return p.rss_bytes / 1048576; })];
    var netData = [xs, rate(function (x) { return x.resources.generator.net_rx_bytes; }), rate(function (x) { return x.resources.generator.net_tx_bytes; })];
    var opts = function (a, b) {
      return {
        height: 200, scales: { x: { time: false } },
        // Room for labels such as "12.5k" (uPlot's default axis width cuts them).
        axes: [FS.timeAxis(), FS.axis({ size: 64, values: function (u, v) { return v.map(FS.fmtCompact); } })],
        series: [{ label: "t", value: function (u, v) { return FS.fmtDur(v); } },
          { label: a, stroke: "#38bdf8", width: 2, fill: "rgba(56,189,248,0.08)" },
          { label: b, stroke: "#a78bfa", width: 2, spanGaps: true }]
      };
    };
    var last = t.length ? t[t.length - 1] : null, src = document.getElementById("target-source");
    var scraped = t.some(function (x) { return x.resources.target || x.target_scrape_error; });
    if (last && last.target_scrape_error) {
      src.textContent = "Target resources: the last scrape failed: " + last.target_scrape_error;
      src.className = "note warn";
    } else if (scraped) {
      src.textContent = "Target resources: read from the target's Prometheus endpoint at every tick (process_cpu_seconds_total, process_resident_memory_bytes).";
      src.className = "note";
    }
    if (!cpu) {
      cpu = FS.chart(document.getElementById("cpu"), opts("generator", "target"), cpuData);
      mem = FS.chart(document.getElementById("mem"), opts("generator", "target"), memData);
      net = FS.chart(document.getElementById("net"), opts("rx", "tx"), netData);
    } else { cpu.setData(cpuData); mem.setData(memData); net.setData(netData); }
  }

  function health() {
    var t = FS.ticks.length ? FS.ticks[FS.ticks.length - 1] : null, h = FS.headline;
    // At the end the whole run's agent figures replace the last (partial) tick's.
    var agents = FS.summary && FS.summary.agents && FS.summary.agents.length ? FS.summary.agents : (t ? t.agents || [] : []);
    if (t) {
      // Target health: the degradation level, the least healthy agent (health as metrics-core
      // computes it) and the faults in place, whichever is worst; the reason is shown with it.
      var lvl = t.degradation, el = document.getElementById("a-health"), text = "healthy", cls = "good";
      var worst = null;
      agents.forEach(function (a) { if (a.requests > 0 && (!worst || a.health < worst.health)) worst = a; });
      if (lvl !== "none") { text = lvl; cls = lvl === "moderate" ? "warn" : "bad"; }
      else if (worst && FS.healthClass(worst.health) !== "good") {
        text = FS.label(worst.name) + " at " + Math.round(worst.health); cls = FS.healthClass(worst.health);
      } else if (t.active_faults.length && !FS.summary) { text = "under fault"; cls = "warn"; }
      el.textContent = text; el.dataset.value = lvl; el.className = "v " + cls;
      el.style.fontSize = text.length > 10 ? "16px" : "";
      var errs = 0; for (var k in t.errors) if (k !== "dropped") errs += t.errors[k];
      FS.animate(document.getElementById("a-err"), t.completed ? errs / t.completed * 100 : 0, function (v) { return FS.fmtPct(v, 2); });
      FS.animate(document.getElementById("a-inflight"), t.in_flight, FS.fmtInt);
      var f = document.getElementById("a-faults");
      f.textContent = t.active_faults.length ? t.active_faults.map(FS.label).join(", ") : "none";
      f.className = "v " + (t.active_faults.length ? "warn" : "");
      f.style.fontSize = t.active_faults.length ? "16px" : "";
      var rows = agents.map(function (a) {
        return "<tr><td>" + FS.esc(FS.label(a.name)) + '</td><td class="num ' + FS.healthClass(a.health) + '">' + Math.round(a.health) +
          '</td><td class="num">' + FS.fmtPct(a.success_rate * 100, 2) + '</td><td class="num">' + FS.fmtNum(a.mean_ms, 2) +
          '</td><td class="num">' + FS.fmtNum(a.p99_ms, 2) + "</td></tr>";
      }).join("");
      document.querySelector("#agent-table tbody").innerHTML = rows || '<tr><td colspan="5" class="muted">no agent figures</td></tr>';
    }
    if (h) {
      FS.animate(document.getElementById("a-dropped"), h.dropped, FS.fmtInt);
      FS.animate(document.getElementById("c-total"), h.total_cost, function (v) { return FS.fmtMoney(v, h.currency, 4); });
      FS.animate(document.getElementById("c-hour"), h.cost_per_hour, function (v) { return FS.fmtMoney(v, h.currency, 2); });
      FS.animate(document.getElementById("c-day"), h.cost_per_day, function (v) { return FS.fmtMoney(v, h.currency, 2); });
      // From the headline (frame or summary): the running cost over the declared budget.
      var b = document.getElementById("c-budget");
      if (h.budget_used_pct == null) {
        b.textContent = "no budget"; b.className = "v muted"; delete b.dataset.value;
      } else {
        b.dataset.value = h.budget_used_pct;
        b.textContent = FS.fmtPct(h.budget_used_pct, 1) + " of " + FS.fmtMoney(h.budget, h.currency, 2);
        b.className = "v " + (h.budget_used_pct >= 100 ? "bad" : h.budget_used_pct >= 80 ? "warn" : "good");
      }
    }
    var m = FS.costModel;
    if (m) {
      document.getElementById("model").innerHTML = [["Currency", m.currency], ["Infrastructure per transaction", m.per_txn_infra],
        ["Per model call", m.per_model_call], ["Model calls per transaction", m.model_calls_per_txn], ["Fixed per hour", m.fixed_per_hour]]
        .map(function (r) { return "<dt>" + FS.esc(r[0]) + "</dt><dd>" + FS.esc(r[1]) + "</dd>"; }).join("");
    }
  }

  function eventText(e) {
    switch (e.event) {
      case "state_changed": return "state " + FS.label(e.from) + " → " + FS.label(e.to);
      case "phase_started": return "phase " + e.name;
      case "rate_multiplier": return "rate × " + e.value;
      case "fault_started": return "fault " + FS.label(e.fault) + " started" + (e.stage ? " on " + e.stage : "");
      case "fault_ended": return "fault " + FS.label(e.fault) + " ended";
      case "degradation": return "degradation " + e.from + " → " + e.to;
      case "alert_raised": return "alert " + e.name + " (" + e.severity + "): " + e.message;
      case "alert_cleared": return "alert " + e.name + " cleared";
      case "criterion_failed": return "criterion failed: " + e.name + " (actual " + e.actual + ")";
      case "criterion_not_measured": return "criterion " + (e.skipped ? "skipped" : "failed") + ": " + e.name + " (not measured: " + e.reason + ")";
      case "budget_warning": return "budget warning: " + e.spent + " of " + e.budget;
      case "message": return e.text;
      default: return e.event;
    }
  }

  function log() {
    var ev = FS.events.slice(-80).reverse();
    document.getElementById("events").innerHTML = ev.map(function (e) {
      return '<div><span class="t">' + FS.fmtDur(e.t_s) + "</span>" + FS.esc(eventText(e)) + "</div>";
    }).join("") || '<div class="muted">no events yet</div>';
  }

  function controlsState() {
    document.getElementById("replay-banner").hidden = FS.controls || !FS.presentation;
    var off = !FS.controls;
    Array.prototype.forEach.call(document.querySelectorAll("[data-action], #rate-apply, #inject"), function (b) { b.disabled = off; });
  }

  // aws.json: what was published to CloudWatch, the system's infrastructure metrics over the run
  // window (one row per series: points, last, max) and the X-Ray latency breakdown per segment.
  function aws() {
    var a = FS.aws, el = document.getElementById("aws");
    if (!a) return;
    var num = function (v) { return v == null ? "–" : FS.fmtCompact(v); };
    var html = "", s = a.cloudwatch_sink;
    html += s ? '<p id="aws-published">CloudWatch: ' + FS.fmtInt(s.published_datums) + " datums published, " + FS.fmtInt(s.failed_datums) +
      " failed, " + FS.fmtInt(s.dropped_frames) + " frames dropped (" + FS.fmtInt(s.retries) + " retries)" +
      (s.last_error ? '; last error: <span class="warn">' + FS.esc(s.last_error) + "</span>" : "") + "</p>"
      : '<p class="muted">Run metrics were not published to CloudWatch.</p>';
    var series = (a.infra && a.infra.series) || [];
    if (series.length) {
      html += '<table id="aws-infra"><thead><tr><th>Resource</th><th>Metric</th><th>Stat</th><th class="num">Points</th><th class="num">Last</th><th class="num">Max</th></tr></thead><tbody>' +
        series.map(function (x) {
          var v = x.points.map(function (p) { return p.value; });
          return "<tr><td>" + FS.esc(x.service + " " + x.resource) + "</td><td>" + FS.esc(x.metric) + "</td><td>" + FS.esc(x.stat) +
            '</td><td class="num">' + v.length + '</td><td class="num">' + num(v.length ? v[v.length - 1] : null) +
            '</td><td class="num">' + num(v.length ? Math.max.apply(null, v) : null) + "</td></tr>";
        }).join("") + "</tbody></table>";
    }
    var x = a.xray;
    if (x) {
      html += "<p>X-Ray: " + FS.fmtInt(x.traces) + " traces in the run window</p>";
      if (x.segments.length) {
        html += '<table id="aws-xray"><thead><tr><th>Segment</th><th>Kind</th><th class="num">Count</th><th class="num">Mean ms</th><th class="num">p50 ms</th><th class="num">p99 ms</th></tr></thead><tbody>' +
          x.segments.map(function (g) {
            return "<tr><td>" + FS.esc(g.name) + "</td><td>" + FS.esc(g.kind) + '</td><td class="num">' + FS.fmtInt(g.count) +
              '</td><td class="num">' + FS.fmtNum(g.mean_ms, 2) + '</td><td class="num">' + FS.fmtNum(g.p50_ms, 2) + '</td><td class="num">' + FS.fmtNum(g.p99_ms, 2) + "</td></tr>";
          }).join("") + "</tbody></table>";
      }
    }
    el.innerHTML = html;
  }

  function stats() {
    FS.animate(document.getElementById("a-feed-dropped"), FS.dropped, FS.fmtInt);
  }

  var full = FS.throttled(function () { controlsState(); health(); resources(); log(); stats(); aws(); });
  FS.on(function (type) {
    if (type === "stats") stats();
    else if (type === "event") log();
    else if (type !== "connection") full();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("fault-kind").innerHTML = FAULTS.map(function (f) {
      return '<option value="' + f + '">' + FS.label(f) + "</option>";
    }).join("");
    showToken();
    document.getElementById("token-save").addEventListener("click", function () {
      var v = document.getElementById("token").value.trim();
      if (v) sessionStorage.setItem(KEY, v);
      document.getElementById("token").value = "";
      showToken();
    });
    document.getElementById("token-forget").addEventListener("click", function () { sessionStorage.removeItem(KEY); showToken(); });
    Array.prototype.forEach.call(document.querySelectorAll("[data-action]"), function (b) {
      b.addEventListener("click", function () { control(b.dataset.action); });
    });
    document.getElementById("rate-apply").addEventListener("click", function () {
      control("rate", { multiplier: parseFloat(document.getElementById("rate").value) });
    });
    document.getElementById("inject").addEventListener("click", function () {
      var body = { kind: document.getElementById("fault-kind").value, duration: document.getElementById("fault-duration").value };
      var stage = document.getElementById("fault-stage").value;
      if (stage) body.stage = stage;
      control("inject", body);
    });
  });
})();
