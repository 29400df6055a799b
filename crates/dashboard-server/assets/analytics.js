// Analytics page: current and peak load, elapsed time, detection accuracy against load, load and
// detection over time, and a heatmap of the detection rate per fraud pattern over time.
(function () {
  "use strict";
  var FRAUD = ["card_testing", "account_takeover", "velocity", "impossible_travel", "high_value_anomaly", "risky_merchant"];
  var accLoad = null, overTime = null;

  function tickAccuracy(t) {
    var f = t.fraud, n = f.tp + f.fp + f.tn + f["fn"];
    return n > 0 ? (f.tp + f.tn) / n * 100 : null;
  }
  function tickRecall(t) {
    var f = t.fraud, n = f.tp + f["fn"];
    return n > 0 ? f.tp / n * 100 : null;
  }
  // Over all fraud of the tick: fraud without a verdict (error, timeout, dropped) counts as let through.
  function tickRecallEffective(t) {
    var f = t.fraud, n = f.tp + f["fn"] + (f.unscored || 0);
    return n > 0 ? f.tp / n * 100 : null;
  }

  // Mean accuracy and recall per throughput band (up to 24 bands over the range seen).
  function byLoad() {
    var ticks = FS.ticks.filter(function (t) { return t.completed > 0; });
    if (!ticks.length) return [[], [], [], []];
    var max = Math.max.apply(null, ticks.map(function (t) { return t.achieved_tps; }));
    var bands = 24, width = Math.max(1, max / bands), sums = {};
    ticks.forEach(function (t) {
      var b = Math.min(bands - 1, Math.floor(t.achieved_tps / width));
      var s = sums[b] || (sums[b] = { tps: 0, acc: 0, rec: 0, eff: 0, nAcc: 0, nRec: 0, nEff: 0, n: 0 });
      s.tps += t.achieved_tps; s.n += 1;
      var a = tickAccuracy(t), r = tickRecall(t), e = tickRecallEffective(t);
      if (a != null) { s.acc += a; s.nAcc += 1; }
      if (r != null) { s.rec += r; s.nRec += 1; }
      if (e != null) { s.eff += e; s.nEff += 1; }
    });
    var keys = Object.keys(sums).map(Number).sort(function (a, b) { return a - b; });
    return [keys.map(function (k) { return sums[k].tps / sums[k].n; }),
      keys.map(function (k) { return sums[k].nAcc ? sums[k].acc / sums[k].nAcc : null; }),
      keys.map(function (k) { return sums[k].nRec ? sums[k].rec / sums[k].nRec : null; }),
      keys.map(function (k) { return sums[k].nEff ? sums[k].eff / sums[k].nEff : null; })];
  }

  function overTimeData() {
    return [FS.ticks.map(function (t) { return t.t_s; }), FS.ticks.map(function (t) { return t.achieved_tps; }),
      FS.ticks.map(function (t) { return t.planned_tps; }), FS.ticks.map(tickAccuracy), FS.ticks.map(tickRecall),
      FS.ticks.map(tickRecallEffective)];
  }

  function charts() {
    var a = byLoad();
    if (!accLoad) {
      accLoad = FS.chart(document.getElementById("acc-load"), {
        scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [Math.min(lo == null ? 90 : lo, 90) - 1, 100.5]; } } },
        axes: [FS.axis({ label: "throughput (TPS)", labelSize: 22, values: function (u, v) { return v.map(FS.fmtCompact); } }),
          FS.axis({ label: "%", labelSize: 22 })],
        series: [{ label: "TPS", value: function (u, v) { return v == null ? "–" : FS.fmtInt(v); } },
          { label: "accuracy %", stroke: "#38bdf8", width: 2, points: { show: true, size: 6 }, spanGaps: true },
          { label: "recall %", stroke: "#a78bfa", width: 2, points: { show: true, size: 6 }, spanGaps: true },
          { label: "recall of all fraud %", stroke: "#f472b6", width: 2, dash: [4, 4], points: { show: true, size: 4 }, spanGaps: true }]
      }, a);
    } else accLoad.setData(a);
    var d = overTimeData();
    if (!overTime) {
      overTime = FS.chart(document.getElementById("over-time"), {
        scales: { x: { time: false }, tps: {}, pct: { range: [0, 100] } },
        axes: [FS.timeAxis(), FS.axis({ scale: "tps", values: function (u, v) { return v.map(FS.fmtCompact); } }),
          FS.axis({ scale: "pct", side: 1, grid: { show: false } })],
        series: [{ label: "t", value: function (u, v) { return FS.fmtDur(v); } },
          { label: "achieved TPS", scale: "tps", stroke: "#38bdf8", width: 2, fill: "rgba(56,189,248,0.08)" },
          { label: "planned TPS", scale: "tps", stroke: "#64748b", width: 1, dash: [5, 5] },
          { label: "accuracy %", scale: "pct", stroke: "#22c55e", width: 1.5, spanGaps: true },
          { label: "recall %", scale: "pct", stroke: "#a78bfa", width: 1.5, spanGaps: true },
          { label: "recall of all fraud %", scale: "pct", stroke: "#f472b6", width: 1.5, dash: [4, 4], spanGaps: true }]
      }, d);
    } else overTime.setData(d);
  }

  function heatColor(rate) {
    // red (0) -> amber (0.5) -> green (1)
    var r, g, b;
    if (rate < 0.5) { var k = rate / 0.5; r = 239 + (245 - 239) * k; g = 68 + (158 - 68) * k; b = 68 + (11 - 68) * k; }
    else { var k2 = (rate - 0.5) / 0.5; r = 245 + (34 - 245) * k2; g = 158 + (197 - 158) * k2; b = 11 + (94 - 11) * k2; }
    return "rgb(" + Math.round(r) + "," + Math.round(g) + "," + Math.round(b) + ")";
  }

  function heatmap() {
    var el = document.getElementById("heatmap"), ticks = FS.ticks;
    var patterns = FRAUD.filter(function (p) {
      return ticks.some(function (t) { var c = t.per_pattern && t.per_pattern[p]; return c && c.tp + c["fn"] > 0; });
    });
    if (!ticks.length || !patterns.length) {
      el.style.gridTemplateColumns = "1fr";
      el.innerHTML = '<div class="empty">No fraud has been sent yet.</div>';
      return;
    }
    var cols = Math.min(60, ticks.length), per = ticks.length / cols, html = "";
    el.style.gridTemplateColumns = "170px repeat(" + cols + ", minmax(0, 1fr))";
    patterns.forEach(function (p) {
      html += '<div class="rowlabel">' + FS.esc(FS.label(p)) + "</div>";
      for (var c = 0; c < cols; c++) {
        var tp = 0, fn = 0, un = 0, from = Math.floor(c * per), to = Math.floor((c + 1) * per);
        for (var i = from; i < Math.max(to, from + 1) && i < ticks.length; i++) {
          var x = ticks[i].per_pattern && ticks[i].per_pattern[p];
          if (x) { tp += x.tp; fn += x["fn"]; un += x.unscored || 0; }
        }
        var n = tp + fn, t0 = ticks[from].t_s - ticks[from].interval_s, t1 = ticks[Math.min(ticks.length - 1, Math.max(to, from + 1) - 1)].t_s;
        var title = FS.label(p) + " " + FS.fmtDur(t0) + "–" + FS.fmtDur(t1) + ": " + (n ? FS.fmtPct(tp / n * 100) + " of " + n + " detected" : "none answered") +
          (un ? ", " + un + " without a verdict" : "");
        html += '<div class="cell" title="' + FS.esc(title) + '"' + (n ? ' style="background:' + heatColor(tp / n) + '"' : "") + "></div>";
      }
    });
    html += '<div></div><div class="axis" style="grid-column: span ' + cols + '; display:flex; justify-content:space-between"><span>' +
      FS.fmtDur(ticks[0].t_s - ticks[0].interval_s) + "</span><span>" + FS.fmtDur(ticks[ticks.length - 1].t_s) + "</span></div>";
    el.innerHTML = html;
  }

  function kpis() {
    var h = FS.headline;
    if (!h) return;
    FS.animate(document.getElementById("k-tps"), h.tps, FS.fmtInt);
    FS.animate(document.getElementById("k-peak"), h.peak_tps, FS.fmtInt);
    FS.animate(document.getElementById("k-planned"), h.planned_tps, FS.fmtInt);
    var el = document.getElementById("k-elapsed"); el.dataset.value = h.t_s; el.textContent = FS.fmtDur(h.t_s);
    FS.animate(document.getElementById("k-p99"), h.p99_ms, function (v) { return FS.fmtNum(v, 1) + " ms"; });
    FS.animate(document.getElementById("k-acc"), h.accuracy * 100, function (v) { return FS.fmtPct(v, 2); });
    FS.animate(document.getElementById("k-recall"), h.recall * 100, function (v) { return FS.fmtPct(v, 1); });
    FS.animate(document.getElementById("k-precision"), h.precision * 100, function (v) { return FS.fmtPct(v, 1); });
  }

  var full = FS.throttled(function () { kpis(); charts(); heatmap(); });
  var light = FS.throttled(kpis);
  FS.on(function (type) {
    if (type === "hello" || type === "frame" || type === "summary") full();
    else if (type === "live") light();
  });
})();
