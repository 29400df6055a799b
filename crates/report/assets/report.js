// Builds the report's charts with uPlot from the JSON blob in #report-data. Hand-written and small:
// uPlot does the drawing; this file only maps series to charts and shades fault windows.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var COLORS = { planned: "#9ca3af", achieved: "#2563eb", dropped: "#dc2626", p50: "#16a34a", p95: "#d97706",
    p99: "#dc2626", precision: "#7c3aed", recall: "#0891b2", recall_effective: "#db2777", load: "#9ca3af", a: "#2563eb", b: "#ea580c" };
  var ERROR_COLORS = ["#dc2626", "#ea580c", "#a16207", "#7c3aed", "#0f766e", "#be185d", "#4b5563"];

  function width(el) { return Math.max(640, (el.clientWidth || 1200) - 4); }
  function smallWidth(el) { return Math.max(280, (el.clientWidth || 400) - 4); }

  function clock(s) {
    if (s == null) return "";
    var t = Math.round(s), h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, sec = t % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }

  // Shades fault windows behind the series, with their names along the top edge.
  function faultBands(faults) {
    return { hooks: { drawClear: [function (u) {
      if (!faults || !faults.length) return;
      var ctx = u.ctx, left = u.bbox.left, right = left + u.bbox.width;
      ctx.save();
      ctx.font = Math.round(11 * uPlot.pxRatio) + "px sans-serif";
      faults.forEach(function (f) {
        var x0 = Math.max(left, u.valToPos(f.start_s, "x", true));
        var x1 = Math.min(right, u.valToPos(f.end_s, "x", true));
        if (!(x1 > x0)) return;
        ctx.fillStyle = "rgba(220, 38, 38, 0.10)";
        ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
        ctx.fillStyle = "rgba(153, 27, 27, 0.85)";
        ctx.fillText(f.label, x0 + 3 * uPlot.pxRatio, u.bbox.top + 12 * uPlot.pxRatio);
      });
      ctx.restore();
    }] } };
  }

  // Tick steps in seconds, so that time labels fall on round minutes.
  var TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

  function timeAxis() {
    return { label: "time since start (m:ss)", incrs: TIME_INCRS, space: 60,
      values: function (u, vals) { return vals.map(clock); } };
  }

  function line(label, color, opts) {
    var s = { label: label, stroke: color, width: 1.5, spanGaps: false };
    for (var k in opts || {}) s[k] = opts[k];
    return s;
  }

  function chart(id, opts, columns) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (!columns[0] || !columns[0].length) { el.textContent = "No data for this chart."; el.style.minHeight = "0"; return null; }
    opts.width = opts.small ? smallWidth(el) : width(el);
    opts.height = opts.height || 250;
    return new uPlot(opts, columns, el);
  }

  function fixed(d) { return function (u, v) { return v == null ? "-" : v.toFixed(d); }; }

  function reportCharts() {
    var s = data.series, faults = data.faults || [];
    var xTime = { x: { time: false } };

    chart("chart-throughput", {
      scales: xTime, plugins: [faultBands(faults)],
      series: [{ label: "t", value: function (u, v) { return clock(v); } },
        line("planned TPS", COLORS.planned, { dash: [6, 4], value: fixed(1) }),
        line("achieved TPS", COLORS.achieved, { value: fixed(1) }),
        line("dropped /s", COLORS.dropped, { scale: "drop", value: fixed(1) })],
      axes: [timeAxis(), { label: "requests / s" }, { scale: "drop", side: 1, label: "dropped / s", grid: { show: false } }]
    }, [s.t, s.planned_tps, s.achieved_tps, s.dropped_per_s]);

    chart("chart-latency", {
      scales: xTime, plugins: [faultBands(faults)],
      series: [{ label: "t", value: function (u, v) { return clock(v); } },
        line("latency p50", COLORS.p50, { value: fixed(2) }),
        line("latency p95", COLORS.p95, { value: fixed(2) }),
        line("latency p99", COLORS.p99, { value: fixed(2) }),
        line("service p50", COLORS.p50, { dash: [4, 4], width: 1, value: fixed(2) }),
        line("service p95", COLORS.p95, { dash: [4, 4], width: 1, value: fixed(2) }),
        line("service p99", COLORS.p99, { dash: [4, 4], width: 1, value: fixed(2) })],
      axes: [timeAxis(), { label: "ms", size: 60 }]
    }, [s.t, s.lat_p50, s.lat_p95, s.lat_p99, s.svc_p50, s.svc_p95, s.svc_p99]);

    var c = data.curve || { x: [], v: [] };
    var maxX = c.x.length ? c.x[c.x.length - 1] : 10;
    chart("chart-hdr", {
      scales: { x: { time: false, distr: 3, log: 10, range: function () { return [1, Math.max(10, maxX * 1.15)]; } } },
      series: [{ label: "percentile", value: function (u, v) { return v == null ? "-" : (100 * (1 - 1 / v)).toPrecision(6) + "%"; } },
        line("latency (ms)", COLORS.p99, { width: 2, value: fixed(3) })],
      axes: [{ label: "percentile (1/(1-q) scale)", splits: function (u) {
          var out = [], max = u.scales.x.max;
          for (var v = 1; v <= max * 1.0001; v *= 10) out.push(v);
          return out;
        }, values: function (u, vals) {
          return vals.map(function (v) { var q = 100 * (1 - 1 / v); return (Math.round(q * 10000) / 10000) + "%"; });
        } },
        { label: "latency (ms)", size: 60 }]
    }, [c.x, c.v]);

    var kinds = Object.keys(s.errors_per_s || {});
    var errSeries = [{ label: "t", value: function (u, v) { return clock(v); } }], errCols = [s.t];
    kinds.forEach(function (k, i) {
      errSeries.push(line(k, ERROR_COLORS[i % ERROR_COLORS.length], { value: fixed(2) }));
      errCols.push(s.errors_per_s[k]);
    });
    if (!kinds.length) {
      errSeries.push(line("errors /s", ERROR_COLORS[0], { value: fixed(2) }));
      errCols.push(s.t.map(function () { return 0; }));
    }
    chart("chart-errors", {
      scales: xTime, plugins: [faultBands(faults)], series: errSeries,
      axes: [timeAxis(), { label: "errors / s" }]
    }, errCols);

    chart("chart-detection", {
      scales: { x: { time: false }, ratio: { range: function (u, min, max) {
        // From a little below the worst value to 100 %, so that small dips stay visible.
        var lo = min == null ? 0 : Math.max(0, Math.floor((Math.min(min, 0.8) - 0.05) * 20) / 20);
        return [lo, 1.005];
      } } }, plugins: [faultBands(faults)],
      series: [{ label: "t", value: function (u, v) { return clock(v); } },
        line("precision", COLORS.precision, { scale: "ratio", width: 2, value: fixed(4) }),
        line("recall", COLORS.recall, { scale: "ratio", width: 2, value: fixed(4) }),
        line("recall of all fraud", COLORS.recall_effective, { scale: "ratio", width: 1.5, dash: [4, 4], value: fixed(4) }),
        line("achieved TPS", COLORS.load, { width: 1, dash: [3, 3], value: fixed(1) })],
      axes: [timeAxis(), { scale: "ratio", label: "precision / recall", values: function (u, v) { return v.map(function (x) { return Math.round(x * 100) + "%"; }); } },
        { side: 1, label: "achieved TPS", grid: { show: false } }]
    }, [s.t, s.precision, s.recall, s.recall_effective || s.recall.map(function () { return null; }), s.achieved_tps]);

    // The system's infrastructure metrics from aws.json: one small chart per series.
    (data.aws_infra || []).forEach(function (c) {
      chart(c.id, {
        small: true, height: 140, scales: xTime, legend: { show: false },
        series: [{ label: "t", value: function (u, v) { return clock(v); } },
          line(c.label, COLORS.achieved, { width: 1.5, points: { show: true }, value: fixed(2) })],
        axes: [{ incrs: TIME_INCRS, space: 50, values: function (u, vals) { return vals.map(clock); } }, { size: 50 }]
      }, [c.t, c.v]);
    });
  }

  function compareCharts() {
    var a = data.a, b = data.b;
    var joined = uPlot.join([[a.t, a.achieved_tps, a.lat_p99], [b.t, b.achieved_tps, b.lat_p99]]);
    var t = joined[0];
    chart("chart-cmp-throughput", {
      scales: { x: { time: false } },
      series: [{ label: "t", value: function (u, v) { return clock(v); } },
        line(a.label, COLORS.a, { spanGaps: true, value: fixed(1) }), line(b.label, COLORS.b, { spanGaps: true, value: fixed(1) })],
      axes: [timeAxis(), { label: "achieved TPS" }]
    }, [t, joined[1], joined[3]]);
    chart("chart-cmp-p99", {
      scales: { x: { time: false } },
      series: [{ label: "t", value: function (u, v) { return clock(v); } },
        line(a.label, COLORS.a, { spanGaps: true, value: fixed(2) }), line(b.label, COLORS.b, { spanGaps: true, value: fixed(2) })],
      axes: [timeAxis(), { label: "p99 latency (ms)", size: 60 }]
    }, [t, joined[2], joined[4]]);
  }

  if (data.mode === "compare") compareCharts(); else reportCharts();
})();
