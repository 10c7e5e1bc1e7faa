// cnnplan serve: the page. Every text shown is set with textContent (never innerHTML); the
// pictures are SVG files the server renders, shown through <img> (which runs no script).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { rows: [], columns: [], sort: null, selected: 0, timers: {}, asked: {} };

// Answers can arrive out of order while the user types: only the latest question's counts.
function ask(name) {
  state.asked[name] = (state.asked[name] || 0) + 1;
  const n = state.asked[name];
  return () => n === state.asked[name];
}

function debounce(name, fn, ms = 250) {
  clearTimeout(state.timers[name]);
  state.timers[name] = setTimeout(fn, ms);
}

function showStatus(id, text, isError) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
}

function cellText(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join("x");
  return String(value);
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const text = await response.text();
  let doc;
  try { doc = JSON.parse(text); } catch (e) { doc = { error: text.trim() || response.statusText }; }
  if (!response.ok) throw new Error(doc.error || response.statusText);
  return doc;
}

function solveQuery(extra) {
  const params = new URLSearchParams();
  for (const name of ["in", "out", "layer", "mode"]) {
    const value = $("solve-" + name).value.trim();
    if (value) params.append(name, value);
  }
  for (const [name, value] of extra) params.append(name, value);
  return params;
}

function drawTable(table, columns, rows, onSelect, selected) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  columns.forEach((column) => {
    const th = document.createElement("th");
    th.textContent = column;
    if (state.sort && state.sort.column === column && table.id === "solve-table") {
      th.className = state.sort.ascending ? "sorted-asc" : "sorted-desc";
    }
    if (onSelect) th.addEventListener("click", () => sortBy(column));
    head.appendChild(th);
  });
  const body = table.createTBody();
  rows.forEach((row, n) => {
    const tr = body.insertRow();
    columns.forEach((column) => { tr.insertCell().textContent = cellText(row[column]); });
    if (onSelect) {
      if (n === selected) tr.className = "selected";
      tr.addEventListener("click", () => onSelect(n));
    }
  });
}

function sortBy(column) {
  const ascending = !(state.sort && state.sort.column === column && state.sort.ascending);
  state.sort = { column, ascending };
  const key = (row) => (Array.isArray(row[column]) ? row[column].reduce((a, b) => a * b, 1) : row[column]);
  state.rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (ascending ? 1 : -1));
  selectRow(0);
}

function selectRow(n) {
  state.selected = n;
  drawTable($("solve-table"), state.columns, state.rows, selectRow, n);
  const row = state.rows[n];
  const img = $("solve-svg");
  if (!row) { img.removeAttribute("src"); img.hidden = true; return; }
  const fix = ["k", "s", "p", "d", "op"].filter((v) => v in row).map((v) => v + "=" + row[v]).join(",");
  img.hidden = false;
  img.src = "/api/solve?" + solveQuery([["fix", fix], ["format", "svg"]]).toString();
}

async function updateSolve() {
  const extra = [];
  for (const name of ["fix", "max", "where"]) {
    const value = $("solve-" + name).value.trim();
    if (value) extra.push([name, value]);
  }
  extra.push(["limit", "500"]);
  const url = "/api/solve?" + solveQuery(extra).toString();
  const latest = ask("solve");
  try {
    const data = await getJSON(url);
    if (!latest()) return;
    const rows = data.solutions || [];
    state.rows = rows;
    state.columns = rows.length ? Object.keys(rows[0]) : [];
    state.sort = null;
    const shown = rows.length < data.count ? ` (first ${rows.length} shown)` : "";
    let text = `${data.count} solution${data.count === 1 ? "" : "s"}${shown}`;
    if (!data.count && data.nearest && data.nearest.length) {
      text += "; nearest reachable outputs: " + data.nearest.map((n) => cellText(n.output)).join(", ");
    }
    showStatus("solve-status", text, false);
    selectRow(0);
  } catch (err) {
    if (!latest()) return;
    showStatus("solve-status", err.message, true);
    state.rows = [];
    drawTable($("solve-table"), [], [], null, -1);
    selectRow(0);
  }
}

const INPUT_RANGE = "1..1024";   // the input sizes the network panel asks `inputs` about

function networkRequest(format, command = "shapes") {
  const text = $("network-specs").value;
  const input = $("network-in").value.trim();
  const params = new URLSearchParams();
  const isPlan = /^\s*(\[|[A-Za-z_]+\s*=)/m.test(text);
  // a plan's own `input = ...` wins over the field (which is for specs and plans without one)
  if (input && !(isPlan && /^\s*input\s*=/m.test(text))) params.append("in", input);
  params.append("format", format);
  if (command === "inputs") params.append("range", INPUT_RANGE);
  const url = "/api/" + command + "?";
  if (isPlan) return [url + params.toString(), { method: "POST", body: text }];
  text.split("\n").map((s) => s.trim()).filter(Boolean).forEach((s) => params.append("spec", s));
  return [url + params.toString(), {}];
}

// Which square input sizes the network accepts (`cnnplan inputs`): its rule, or why none.
async function updateInputs(latest) {
  const line = $("network-inputs");
  try {
    const data = await getJSON(...networkRequest("json", "inputs"));
    if (!latest()) return;
    const rule = data.count ? (data.rule || data.sizes.slice(0, 12).join(", ")) : "none";
    line.textContent = `input sizes accepted in ${INPUT_RANGE}: ${data.count} (${rule})`;
  } catch (err) {
    if (latest()) line.textContent = "";
  }
}

async function updateNetwork() {
  const latest = ask("network");
  try {
    const data = await getJSON(...networkRequest("json"));
    if (!latest()) return;
    const layers = data.layers || [];
    const columns = ["name", "spec", "output", "size", "params", "macs", "rf", "jump"]
      .filter((c) => layers.some((l) => c in l));
    drawTable($("network-table"), columns, layers, null, -1);
    const issues = (data.mismatches || []).join("; ");
    showStatus("network-status", `${layers.length} layers, output ${cellText(data.output)}, ` +
      `${data.params} params${issues ? "; " + issues : ""}`, Boolean(issues));
    updateInputs(latest);
    const [url, options] = networkRequest("svg");
    const response = await fetch(url, options);
    if (!response.ok) throw new Error((await response.json()).error);
    const blob = await response.blob();
    if (!latest()) return;
    const img = $("network-svg");
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    img.hidden = false;
  } catch (err) {
    if (!latest()) return;
    showStatus("network-status", err.message, true);
    $("network-inputs").textContent = "";
    drawTable($("network-table"), [], [], null, -1);
    $("network-svg").hidden = true;
  }
}

function fillChoices(select, values, chosen) {
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    option.selected = value === chosen;
    return option;
  }));
}

async function start() {
  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
    document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== tab.dataset.panel; });
    if (tab.dataset.panel === "network") updateNetwork();
  }));
  try {
    const about = await getJSON("/api");
    const solve = about.options.solve;
    fillChoices($("solve-layer"), solve.layer.choices, solve.layer.default);
    fillChoices($("solve-mode"), solve.mode.choices, solve.mode.default);
  } catch (err) {
    if (!latest()) return;
    showStatus("solve-status", err.message, true);
  }
  $("solve-form").addEventListener("input", () => debounce("solve", updateSolve));
  $("solve-form").addEventListener("submit", (e) => { e.preventDefault(); updateSolve(); });
  $("network-form").addEventListener("input", () => debounce("network", updateNetwork, 400));
  updateSolve();
}

document.addEventListener("DOMContentLoaded", start);
