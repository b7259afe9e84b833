"use strict";
// Sortable tables: each <td> carries its sort value in data-v ("" = no value, always last).
(function () {
  function sortTable(table, col, dir) {
    const th = table.tHead.rows[0].cells[col];
    const num = th.dataset.kind === "num";
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).map(function (r, i) { return { r: r, i: i, v: r.cells[col].dataset.v }; });
    rows.sort(function (a, b) {
      const ea = a.v === "", eb = b.v === "";
      if (ea || eb) { return ea === eb ? a.i - b.i : (ea ? 1 : -1); }
      let c = num ? parseFloat(a.v) - parseFloat(b.v) : a.v.localeCompare(b.v);
      if (dir === "descending") { c = -c; }
      return c !== 0 ? c : a.i - b.i;
    });
    rows.forEach(function (x) { body.appendChild(x.r); });
    Array.from(table.tHead.rows[0].cells).forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.from(table.tHead.rows[0].cells).forEach(function (th, col) {
      th.addEventListener("click", function () {
        const cur = th.getAttribute("aria-sort");
        let dir = th.dataset.first === "asc" ? "ascending" : "descending";
        if (cur === "ascending") { dir = "descending"; } else if (cur === "descending") { dir = "ascending"; }
        sortTable(table, col, dir);
      });
    });
  });
})();

// Per-pattern matrices: one visible at a time, picked by its tab (without script, all are shown).
// Keyboard as the ARIA tabs pattern: Tab reaches the selected tab only, arrows, Home and End move.
(function () {
  const tabs = Array.from(document.querySelectorAll("#pattern-tabs [role=tab]"));
  function pick(tab) {
    tabs.forEach(function (t) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.dataset.target).hidden = !on;
    });
  }
  const KEYS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
  tabs.forEach(function (t, i) {
    t.addEventListener("click", function () { pick(t); });
    t.addEventListener("keydown", function (e) {
      let j = null;
      if (e.key in KEYS) { j = (i + KEYS[e.key] + tabs.length) % tabs.length; }
      else if (e.key === "Home") { j = 0; }
      else if (e.key === "End") { j = tabs.length - 1; }
      if (j === null) { return; }
      e.preventDefault();
      pick(tabs[j]);
      tabs[j].focus();
    });
  });
  if (tabs.length) { pick(tabs[0]); }
})();

// Episode timeline: drawn from the JSON data block with DOM calls only (text via textContent).
(function () {
  const D = JSON.parse(document.getElementById("timeline-data").textContent);
  const S = D.strings;
  const COLORS = { correct: "#228833", premature: "#cc3311", duplicate: "#ee7733", wrong_args: "#aa3377", extraneous: "#8c8c8c", unscored: "#4477aa" };
  const MODEL_COLOR = "#9db4d6";
  const NS = "http://www.w3.org/2000/svg";
  const runSel = document.getElementById("tl-run");
  const epSel = document.getElementById("tl-episode");
  const chart = document.getElementById("tl-chart");
  const str = function (i) { return i >= 0 ? S[i] : ""; };

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) { e.setAttribute(k, String(attrs[k])); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function tip(e, text) { e.appendChild(el("title", {}, text)); return e; }
  function niceStep(span) {
    const raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  const legend = document.getElementById("tl-legend");
  const addKey = function (color, label) {
    const s = document.createElement("span"), i = document.createElement("i");
    i.style.background = color; s.appendChild(i); s.appendChild(document.createTextNode(label)); legend.appendChild(s);
  };
  addKey(MODEL_COLOR, "model time");
  D.classes.forEach(function (c) { if (c !== "unscored") { addKey(COLORS[c], c); } });

  function render(run, ep) {
    const turns = ep[5], calls = ep[6];
    let end = ep[4];
    turns.forEach(function (t) { end = Math.max(end, t[1]); });
    calls.forEach(function (c) { end = Math.max(end, c[2]); });
    end = end > 0 ? end : 1;
    const LEFT = 190, RIGHT = 40, ROW = 18, TOP = 22, W = Math.max(640, chart.clientWidth - 16);
    const H = TOP + ROW * (calls.length + 1) + 8;
    const x = function (s) { return LEFT + (W - LEFT - RIGHT) * s / end; };
    const svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "episode timeline" });
    const axis = el("g", { class: "axis" });
    const step = niceStep(end);
    for (let s = 0; s <= end + 1e-9; s += step) {
      axis.appendChild(el("line", { x1: x(s), x2: x(s), y1: TOP - 4, y2: H - 6, stroke: "#e3e7ee" }));
      axis.appendChild(el("text", { x: x(s), y: 12, "text-anchor": "middle" }, (Math.round(s * 1000) / 1000) + " s"));
    }
    svg.appendChild(axis);
    svg.appendChild(el("text", { x: 4, y: TOP + 12 }, "model"));
    turns.forEach(function (t, k) {
      const bar = el("rect", { class: "tl-model", x: x(t[0]), y: TOP + 2, width: Math.max(1, x(t[1]) - x(t[0])), height: ROW - 5, fill: MODEL_COLOR, rx: 2 });
      const text = str(t[2]);
      svg.appendChild(tip(bar, "turn " + (k + 1) + ": model " + t[0].toFixed(3) + "\u2013" + t[1].toFixed(3) + " s" + (text ? "\n" + text : "")));
    });
    calls.forEach(function (c, k) {
      const y = TOP + ROW * (k + 1);
      const cls = D.classes[c[3]], name = str(c[5]), args = str(c[6]);
      const label = el("text", { x: 4, y: y + 12 }, "t" + c[0] + " " + name);
      svg.appendChild(tip(label, name + "(" + args + ")"));
      const straggler = (c[4] & 1) !== 0, timedOut = (c[4] & 2) !== 0;
      const bar = el("rect", {
        class: "tl-call tl-" + cls + (straggler ? " tl-straggler" : ""), x: x(c[1]), y: y + 2,
        width: Math.max(2, x(c[2]) - x(c[1])), height: ROW - 5, fill: COLORS[cls], rx: 2,
        stroke: straggler ? "#111" : "none", "stroke-width": straggler ? 2 : 0,
      });
      svg.appendChild(tip(bar, name + "(" + args + ")\n" + cls + ", " + c[1].toFixed(3) + "\u2013" + c[2].toFixed(3) + " s" +
        (straggler ? ", straggler" : "") + (timedOut ? ", timed out" : "") + (c[7] >= 0 ? ", error: " + str(c[7]) : "")));
      let mark = "";
      if (cls === "premature") { mark += "!"; }
      if (straggler) { mark += "\u2691"; }
      if (timedOut) { mark += "\u00d7"; }
      if (mark) { svg.appendChild(el("text", { class: "tl-mark", x: x(c[2]) + 4, y: y + 12, fill: "#cc3311" }, mark)); }
    });
    chart.replaceChildren(svg);

    const body = document.querySelector("#tl-calls tbody");
    body.replaceChildren();
    calls.forEach(function (c, k) {
      const tr = document.createElement("tr");
      const notes = [];
      if (c[4] & 1) { notes.push("straggler"); }
      if (c[4] & 2) { notes.push("timed out"); }
      if (c[4] & 4) { notes.push("hedged"); }
      if (c[7] >= 0) { notes.push("error: " + str(c[7])); }
      [String(k + 1), String(c[0]), str(c[5]), str(c[6]), D.classes[c[3]], c[1].toFixed(3), c[2].toFixed(3), notes.join(", ")].forEach(function (v) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("tl-final").textContent = str(ep[7]) || "(none)";
    document.getElementById("tl-summary").textContent = run.label + " \u00b7 " + str(ep[0]) + " \u00b7 epoch " + ep[1] + " \u00b7 " +
      (ep[2] ? "success" : "failure") + " \u00b7 stop: " + str(ep[3]) + " \u00b7 wall " + ep[4].toFixed(3) + " s \u00b7 " +
      turns.length + " turns, " + calls.length + " calls";
  }

  function fillEpisodes() {
    const run = D.runs[+runSel.value];
    epSel.replaceChildren();
    run.episodes.forEach(function (ep, i) {
      const o = document.createElement("option");
      o.value = String(i);
      o.textContent = str(ep[0]) + (ep[1] ? " (epoch " + ep[1] + ")" : "") + (ep[2] ? " \u2713" : " \u2717") + " \u00b7 " + ep[6].length + " calls";
      epSel.appendChild(o);
    });
  }
  function show() {
    const run = D.runs[+runSel.value];
    if (!run || !run.episodes.length) { chart.replaceChildren(); return; }
    render(run, run.episodes[+epSel.value || 0]);
  }
  D.runs.forEach(function (r, i) {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = r.label + " \u00b7 " + r.suite + " (" + r.episodes.length + " episodes)";
    runSel.appendChild(o);
  });
  runSel.addEventListener("change", function () { fillEpisodes(); show(); });
  epSel.addEventListener("change", show);
  if (D.runs.length) {
    fillEpisodes();
    let best = 0;
    D.runs[0].episodes.forEach(function (ep, i) { if (ep[6].length > D.runs[0].episodes[best][6].length) { best = i; } });
    epSel.value = String(best);
    show();
  }
})();
