// Agents page: a card per agent (health, load, latency) and charts of the workload distribution and
// the agents' latency over time.
(function () {
  "use strict";
  var COLORS = ["#38bdf8", "#a78bfa", "#22c55e", "#f59e0b", "#f472b6", "#2dd4bf", "#fb7185", "#facc15"];
  var workload = null, latency = null, names = "";

  function latest() { return FS.ticks.length ? FS.ticks[FS.ticks.length - 1] : null; }

  function agentNames() {
    var seen = {}, out = [];
    FS.ticks.forEach(function (t) { (t.agents || []).forEach(function (a) { if (!seen[a.name]) { seen[a.name] = 1; out.push(a.name); } }); });
    return out;
  }

  function cards() {
    var t = latest(), el = document.getElementById("agents");
    var list = FS.summary && FS.summary.agents && FS.summary.agents.length ? FS.summary.agents : (t ? t.agents : []);
    if (!list || !list.length) return;
    var final = !!FS.summary;
    el.innerHTML = list.map(function (a) {
      var idle = !final && a.requests === 0, cls = idle ? "unknown" : FS.healthClass(a.health), rate = t && t.interval_s > 0 && !final ? a.requests / t.interval_s : null;
      // A serial pipeline gives every stage every request, so a share of the requests says nothing;
      // how busy the agent's servers were does (the meter below).
      return '<div class="panel agent" data-agent="' + FS.esc(a.name) + '"><h3><span>' + FS.esc(FS.label(a.name)) + '</span></h3>' +
        '<div class="health ' + cls + '" data-value="' + a.health + '">' + (idle ? "idle" : Math.round(a.health)) + '<span class="muted" style="font-size:14px"> / 100 health</span></div>' +
        '<div class="muted">busy ' + FS.fmtPct(a.utilization * 100, 0) + ' of its servers\' time</div><div class="meter"><span style="width:' + Math.min(100, a.utilization * 100).toFixed(1) + '%"></span></div>' +
        '<dl><dt>Mean latency</dt><dd>' + FS.fmtNum(a.mean_ms, 2) + ' ms</dd><dt>p99 latency</dt><dd>' + FS.fmtNum(a.p99_ms, 2) + ' ms</dd>' +
        '<dt>Success</dt><dd>' + FS.fmtPct(a.success_rate * 100, 2) + '</dd><dt>' + (final ? "Requests (run)" : "Requests/s") + '</dt><dd>' +
        FS.fmtInt(final ? a.requests : rate) + '</dd></dl></div>';
    }).join("");
  }

  function series(label, color) { return { label: FS.label(label), stroke: color, width: 2 }; }

  function charts() {
    var list = agentNames();
    if (!list.length) return;
    var xs = FS.ticks.map(function (t) { return t.t_s; });
    function col(f) {
      return list.map(function (n) {
        return FS.ticks.map(function (t) {
          var a = (t.agents || []).filter(function (x) { return x.name === n; })[0];
          return a ? f(a, t) : null;
        });
      });
    }
    var wl = [xs].concat(col(function (a, t) { return t.interval_s > 0 ? a.requests / t.interval_s : 0; }));
    // An agent that answered nothing (crashed) has no latency: a gap, not 0 ms.
    var lat = [xs].concat(col(function (a) { return a.success_rate > 0 ? a.mean_ms : null; }));
    var sig = list.join(",");
    if (sig !== names) {
      names = sig;
      ["workload", "latency"].forEach(function (id) { document.getElementById(id).innerHTML = ""; });
      FS.charts = FS.charts.filter(function (c) { return c.u !== workload && c.u !== latency; });
      var mk = function (id, data, fill) {
        return FS.chart(document.getElementById(id), {
          scales: { x: { time: false } },
          axes: [FS.timeAxis(), FS.axis({ values: function (u, v) { return v.map(FS.fmtCompact); } })],
          series: [{ label: "t", value: function (u, v) { return FS.fmtDur(v); } }].concat(list.map(function (n, i) {
            var s = series(n, COLORS[i % COLORS.length]);
            if (fill) s.fill = COLORS[i % COLORS.length] + "14";
            return s;
          }))
        }, data);
      };
      workload = mk("workload", wl, true);
      latency = mk("latency", lat, false);
    } else {
      workload.setData(wl);
      latency.setData(lat);
    }
  }

  var render = FS.throttled(function () { cards(); charts(); });
  FS.on(function (type) { if (type === "hello" || type === "frame" || type === "summary") render(); });
})();
