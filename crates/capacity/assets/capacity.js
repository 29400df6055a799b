// Draws capacity.html's charts with uPlot from the JSON blob in #capacity-data: figures against
// offered load, SLO thresholds as dashed horizontal lines, the answer, its interval and the knees marked.
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("capacity-data").textContent);
  var C = { p50: "#16a34a", p95: "#d97706", p99: "#dc2626", recall: "#0891b2", precision: "#7c3aed",
    errors: "#dc2626", dropped: "#9ca3af", slo: "#111827", answer: "#2563eb", knee: "#ea580c", qknee: "#0f766e" };

  function width(el) { return Math.max(640, (el.clientWidth || 1100) - 4); }
  function fixed(n) { return function (u, v) { return v == null ? "-" : v.toFixed(n); }; }

  // Horizontal SLO lines (on the given scale) and vertical markers for the answer and the knees.
  function marks(hlines) {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx, b = u.bbox, px = uPlot.pxRatio;
      ctx.save();
      ctx.font = Math.round(11 * px) + "px sans-serif";
      var lo = d.markers.interval[0], hi = d.markers.interval[1];
      if (lo != null) {
        var x0 = u.valToPos(lo, "x", true), x1 = hi != null ? u.valToPos(hi, "x", true) : x0;
        ctx.fillStyle = "rgba(37, 99, 235, 0.12)";
        ctx.fillRect(x0, b.top, Math.max(x1 - x0, 2 * px), b.height);
      }
      [["answer", C.answer, "max sustainable"], ["knee", C.knee, "knee"], ["quality_knee", C.qknee, "quality knee"]]
        .forEach(function (m, i) {
          var v = d.markers[m[0]];
          if (v == null) return;
          var x = u.valToPos(v, "x", true);
          if (x < b.left || x > b.left + b.width) return;
          ctx.strokeStyle = m[1]; ctx.lineWidth = 2 * px; ctx.setLineDash([]);
          ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
          ctx.fillStyle = m[1];
          ctx.fillText(m[2] + " " + Math.round(v), x + 4 * px, b.top + (14 + 13 * i) * px);
        });
      hlines.forEach(function (h) {
        var y = u.valToPos(h.value, h.scale || "y", true);
        if (!(y >= b.top && y <= b.top + b.height)) return;
        ctx.strokeStyle = C.slo; ctx.lineWidth = 1.5 * px; ctx.setLineDash([6 * px, 4 * px]);
        ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
        ctx.fillStyle = C.slo;
        ctx.fillText("SLO " + h.label, b.left + b.width - 120 * px, y - 4 * px);
      });
      ctx.restore();
    }] } };
  }

  function line(label, color, opts) {
    var s = { label: label, stroke: color, width: 1.5, points: { show: true, size: 6 } };
    for (var k in opts || {}) s[k] = opts[k];
    return s;
  }

  function chart(id, opts, cols) {
    var el = document.getElementById(id);
    if (!el) return;
    if (!cols[0].length) { el.textContent = "No steps were measured."; return; }
    opts.width = width(el);
    opts.height = 280;
    new uPlot(opts, cols, el);
  }

  var c = d.curve, t = d.thresholds;
  var xAxis = { label: "offered load (TPS)" };
  var xScale = { x: { time: false } };
  // Keep the SLO lines in view: the y range reaches at least a little above the highest threshold.
  function rangeWith(values) {
    return function (u, min, max) {
      values.forEach(function (v) { if (v > max) max = v * 1.1; if (v < min) min = v; });
      return [Math.min(0, min), max > 0 ? max : 1];
    };
  }

  chart("chart-latency", {
    scales: { x: { time: false }, y: { range: rangeWith(t.latency.map(function (h) { return h.value; })) } },
    plugins: [marks(t.latency)],
    series: [{ label: "TPS" }, line("p50 ms", C.p50, { value: fixed(1) }),
      line("p95 ms", C.p95, { value: fixed(1) }), line("p99 ms", C.p99, { value: fixed(1) })],
    axes: [xAxis, { label: "latency (ms, from the intended send)" }]
  }, [c.tps, c.p50, c.p95, c.p99]);

  chart("chart-quality", {
    scales: { x: { time: false }, y: { range: [0, 1.02] } },
    plugins: [marks(t.quality)],
    series: [{ label: "TPS" }, line("recall", C.recall, { value: fixed(3) }),
      line("precision", C.precision, { value: fixed(3) })],
    axes: [xAxis, { label: "share" }]
  }, [c.tps, c.recall, c.precision]);

  chart("chart-errors", {
    scales: { x: { time: false }, y: { range: rangeWith(t.errors.map(function (h) { return h.value; })) } },
    plugins: [marks(t.errors)],
    series: [{ label: "TPS" }, line("error rate", C.errors, { value: fixed(4) }),
      line("dropped rate", C.dropped, { value: fixed(4) })],
    axes: [xAxis, { label: "share of requests" }]
  }, [c.tps, c.error_rate, c.dropped_rate]);
  void xScale;
})();
