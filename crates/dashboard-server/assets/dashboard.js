// fraudstress dashboards: the WebSocket feed, the shared state and the helpers every page uses.
// Loaded first on every page. Errors are collected in window.__fsErrors so tests can read them.
(function () {
  "use strict";
  var errors = (window.__fsErrors = []);
  window.addEventListener("error", function (e) {
    errors.push(String(e.message || e.type) + (e.filename ? " at " + e.filename + ":" + e.lineno : ""));
  });
  window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) { errors.push("CSP blocked " + e.blockedURI + " (" + e.violatedDirective + ")"); });
  var origError = console.error;
  console.error = function () {
    errors.push(Array.prototype.slice.call(arguments).join(" "));
    return origError.apply(console, arguments);
  };

  var MAX_TICKS = 3600;
  var FS = (window.FS = {
    ticks: [], events: [], headline: null, narrative: "", faults: [], summary: null, presentation: null,
    controls: false, costModel: null, run: null, state: "idle", dropped: 0, clients: 0, connected: false, messages: 0,
    listeners: []
  });

  FS.on = function (fn) { FS.listeners.push(fn); };
  function emit(type, msg) {
    FS.listeners.forEach(function (fn) {
      try { fn(type, msg); } catch (e) { errors.push("listener failed on " + type + ": " + (e && e.stack || e)); }
    });
  }

  function handle(msg) {
    FS.messages += 1;
    switch (msg.type) {
      case "hello":
        FS.presentation = msg.presentation; FS.controls = msg.controls; FS.costModel = msg.cost_model; FS.run = msg.run || null;
        FS.ticks = msg.ticks || []; FS.events = msg.events || []; FS.headline = msg.headline;
        FS.narrative = msg.narrative; FS.faults = msg.faults || []; FS.summary = msg.summary; FS.state = msg.state;
        FS.dropped = msg.dropped_messages || 0; FS.aws = msg.aws || null;
        break;
      case "frame":
        FS.ticks.push(msg.frame);
        if (FS.ticks.length > MAX_TICKS) FS.ticks.splice(0, FS.ticks.length - MAX_TICKS);
        FS.headline = msg.headline; FS.narrative = msg.narrative; FS.faults = msg.faults || FS.faults;
        FS.state = msg.frame.state;
        break;
      case "live":
        if (!FS.headline || !FS.headline["final"]) FS.headline = msg.headline;
        break;
      case "event":
        FS.events.push(msg.event);
        if (FS.events.length > 1000) FS.events.shift();
        if (msg.state && !FS.summary) FS.state = msg.state;
        break;
      case "summary":
        FS.summary = msg.summary; FS.headline = msg.headline; FS.narrative = msg.narrative;
        FS.faults = msg.faults || []; FS.costModel = msg.cost_model; FS.state = msg.headline.state;
        break;
      case "stats":
        FS.dropped = msg.dropped_messages; FS.clients = msg.clients;
        break;
      case "aws":
        FS.aws = msg.aws;
        break;
    }
    emit(msg.type, msg);
  }

  var retry = 500;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = function () { FS.connected = true; retry = 500; emit("connection", {}); };
    ws.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { errors.push("bad feed message: " + err); return; }
      handle(msg);
    };
    ws.onclose = function () {
      FS.connected = false; emit("connection", {});
      setTimeout(connect, retry); retry = Math.min(retry * 2, 8000);
    };
  }

  // ---- formatting ----
  // One helper puts the thousands separators in (the same rules as the Rust side's
  // models::format): FS.fmtNum(1314.75, 2) is "1,314.75"; every other formatter goes through it.
  var SYMBOL = { USD: "$", EUR: "€", GBP: "£", JPY: "¥" };
  FS.fmtNum = function (v, digits) {
    if (v == null || isNaN(v)) return "–";
    if (!isFinite(v)) return v > 0 ? "inf" : "-inf";
    var text = Math.abs(v).toFixed(digits == null ? 0 : digits);
    var neg = v < 0 && /[1-9]/.test(text);
    var parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + parts.join(".");
  };
  FS.fmtInt = function (v) { return FS.fmtNum(v, 0); };
  FS.fmtCompact = function (v) {
    if (v == null || isNaN(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1e9) return FS.fmtNum(v / 1e9, 2) + "B";
    if (a >= 1e6) return FS.fmtNum(v / 1e6, 2) + "M";
    return a >= 100 ? FS.fmtInt(v) : (Math.round(v * 10) / 10).toString();
  };
  // Whole units from 10,000 up (millions and billions as M and B), cents below, three
  // significant digits under one unit: "$1,314.75", "$155.62M", "$0.000270".
  FS.fmtMoney = function (v, cur, digits) {
    if (v == null || isNaN(v)) return "–";
    cur = cur || (FS.headline && FS.headline.currency) || "USD";
    var a = Math.abs(v), body;
    if (digits != null) body = FS.fmtNum(v, digits);
    else if (a >= 1e9) body = FS.fmtNum(v / 1e9, 2) + "B";
    else if (a >= 1e6) body = FS.fmtNum(v / 1e6, 2) + "M";
    else if (a >= 1e4) body = FS.fmtNum(v, 0);
    else if (a >= 1 || a === 0) body = FS.fmtNum(v, 2);
    else body = FS.fmtNum(v, Math.min(12, Math.max(2, 2 - Math.floor(Math.log10(a)))));
    return SYMBOL[cur] ? (v < 0 ? "-" + SYMBOL[cur] + body.slice(1) : SYMBOL[cur] + body) : body + " " + cur;
  };
  FS.fmtPct = function (v, digits) {
    if (v == null || isNaN(v)) return "–";
    return FS.fmtNum(v, digits == null ? 1 : digits) + "%";
  };
  // A ROI in percent: up to 10,000% as a percentage, above as the multiple of the cost it returned
  // net ("195,989×"), as models::format::roi prints it in the terminal and the report.
  FS.fmtRoi = function (v) {
    if (v == null || isNaN(v)) return "–";
    if (Math.abs(v) >= 10000) return FS.fmtNum(v / 100, 0) + "×";
    return FS.fmtNum(v, 1).replace(/\.0$/, "") + "%";
  };
  FS.fmtDur = function (s) {
    if (s == null || isNaN(s)) return "–";
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h > 0 ? h + ":" + pad(m) : m) + ":" + pad(sec);
  };
  FS.label = function (s) { return String(s || "").replace(/_/g, " "); };
  FS.esc = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  FS.healthClass = function (h) {
    if (h == null || isNaN(h)) return "unknown";
    return h >= 90 ? "good" : h >= 60 ? "warn" : "bad";
  };
  FS.HEALTH_COLORS = { good: "#22c55e", warn: "#f59e0b", bad: "#ef4444", unknown: "#64748b" };

  // Sets an element's number at once in data-value (what tests read) and tweens the text to it.
  FS.animate = function (el, value, fmt) {
    if (!el) return;
    el.dataset.value = value == null ? "" : String(value);
    var from = parseFloat(el.dataset.shown);
    if (value == null || isNaN(value)) { el.textContent = "–"; el.dataset.shown = ""; return; }
    if (isNaN(from) || from === value || document.hidden) {
      el.textContent = fmt(value); el.dataset.shown = String(value); return;
    }
    var start = performance.now(), dur = 450, token = {};
    el.__tween = token;
    function step(now) {
      if (el.__tween !== token) return;
      var k = Math.min(1, (now - start) / dur), e = 1 - Math.pow(1 - k, 3);
      var v = from + (value - from) * e;
      el.textContent = fmt(k >= 1 ? value : v);
      el.dataset.shown = String(k >= 1 ? value : v);
      if (k < 1) requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  };

  // ---- page frame ----
  var PAGES = [["/investor", "Investor"], ["/analytics", "Analytics"], ["/agents", "Agents"], ["/admin", "Admin"]];
  FS.header = function () {
    var el = document.getElementById("topbar");
    if (!el) return;
    var here = location.pathname.replace(/\/$/, "") || "/";
    var links = PAGES.map(function (p) {
      return '<a href="' + p[0] + '"' + (here === p[0] ? ' class="active"' : "") + ">" + p[1] + "</a>";
    }).join("");
    el.innerHTML =
      '<a class="brand" href="/"><img id="brand-logo" alt="" hidden><span id="brand-name">fraudstress</span></a>' +
      '<nav>' + links + '</nav><div class="status"><span id="run-phase" class="phase"></span>' +
      '<span id="run-state" class="state idle">connecting</span><span id="run-clock" class="clock">0:00</span></div>';
    function refresh() {
      var p = FS.presentation;
      if (p) {
        document.getElementById("brand-name").textContent = p.company;
        var logo = document.getElementById("brand-logo");
        if (p.logo_data_url && logo.getAttribute("src") !== p.logo_data_url) { logo.src = p.logo_data_url; logo.hidden = false; }
      }
      var st = document.getElementById("run-state");
      var state = FS.connected ? FS.state : (FS.summary ? FS.state : "offline");
      st.textContent = FS.label(state);
      st.className = "state " + state;
      var h = FS.headline;
      document.getElementById("run-clock").textContent = h ? FS.fmtDur(h.t_s) : "0:00";
      var story = document.getElementById("narrative");
      if (story && FS.narrative && document.body.dataset.page === "index") story.textContent = FS.narrative;
      document.getElementById("run-phase").textContent = h && h.phase && !h["final"] ? FS.label(h.phase) : (FS.summary ? "final figures" : "");
    }
    FS.on(refresh);
    refresh();
  };

  // ---- charts (uPlot) ----
  var AXIS = { stroke: "#94a3b8", grid: { stroke: "rgba(148,163,184,0.12)", width: 1 }, ticks: { stroke: "rgba(148,163,184,0.25)" } };
  FS.axis = function (extra) {
    var a = { stroke: AXIS.stroke, grid: AXIS.grid, ticks: AXIS.ticks, font: "12px system-ui, sans-serif" };
    for (var k in extra) a[k] = extra[k];
    return a;
  };
  FS.timeAxis = function () { return FS.axis({ values: function (u, vals) { return vals.map(FS.fmtDur); } }); };
  FS.charts = [];
  FS.chart = function (el, opts, data) {
    opts.width = Math.max(280, el.clientWidth - 8);
    opts.height = opts.height || 240;
    opts.legend = opts.legend || { live: true };
    var u = new uPlot(opts, data, el);
    FS.charts.push({ u: u, el: el });
    return u;
  };
  window.addEventListener("resize", function () {
    FS.charts.forEach(function (c) { c.u.setSize({ width: Math.max(280, c.el.clientWidth - 8), height: c.u.height }); });
  });

  // Repaints at most once per animation frame however many messages arrive.
  FS.throttled = function (fn) {
    var pending = false;
    return function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; fn(); });
    };
  };

  document.addEventListener("DOMContentLoaded", function () {
    FS.header();
    connect();
  });
})();
