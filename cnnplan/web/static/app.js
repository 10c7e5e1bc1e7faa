// cnnplan serve: the page. Every text shown is set with textContent (never innerHTML); the
// pictures are the SVG documents the server renders, parsed as XML and put into the page
// (so their tooltips work) without any script or foreign content.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { rows: [], columns: [], sort: null, selected: 0, count: 0, timers: {}, asked: {} };
const NUMBER = new Intl.NumberFormat("en-US");
const SHAPES = new Set(["output", "input"]);

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

// shapes as 3x64x64; unused rows per axis as the table prints them (1, or 0,1); names as a list
function cellText(value, column) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) {
    if (SHAPES.has(column)) return value.join("x");
    if (column === "unused" && value.every((v) => v === value[0])) return String(value[0]);
    return value.map((v) => cellText(v)).join(column === "unused" ? "," : ", ");
  }
  if (Number.isInteger(value)) return NUMBER.format(value);
  return String(value);
}

// An SVG document from the server, parsed as XML, put into `holder` (its old picture goes)
function showPicture(holder, text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!(svg instanceof SVGSVGElement) || doc.querySelector("parsererror")) {
    throw new Error("the picture could not be read");
  }
  svg.querySelectorAll("script, foreignObject").forEach((e) => e.remove());
  holder.replaceChildren(document.importNode(svg, true));
  return holder.firstElementChild;
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
    columns.forEach((column) => {
      const cell = tr.insertCell();
      cell.textContent = cellText(row[column], column);
      if (typeof row[column] === "number") cell.className = "num";
    });
    if (onSelect) {
      if (n === selected) tr.className = "selected";
      tr.addEventListener("click", () => onSelect(n));
    }
  });
}

function sortBy(column) {
  const ascending = !(state.sort && state.sort.column === column && state.sort.ascending);
  state.sort = { column, ascending };
  const combine = column === "unused" ? (a, b) => a + b : (a, b) => a * b;
  const key = (row) => (Array.isArray(row[column]) ? row[column].reduce(combine) : row[column]);
  state.rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (ascending ? 1 : -1));
  selectRow(0);
}

// The diagram of the selected row: its own question (every value fixed) drawn by the
// server, captioned with the page's count ("solution 3 of 43", not that question's "1 solution")
async function selectRow(n) {
  state.selected = n;
  drawTable($("solve-table"), state.columns, state.rows, selectRow, n);
  const row = state.rows[n];
  const holder = $("solve-svg");
  const latest = ask("diagram");
  if (!row) { holder.replaceChildren(); holder.dataset.url = ""; return; }
  const fix = ["k", "s", "p", "d", "op"].filter((v) => v in row).map((v) => v + "=" + row[v]).join(",");
  const url = "/api/solve?" + solveQuery([["fix", fix], ["format", "svg"]]).toString();
  try {
    const response = await fetch(url);
    const text = await response.text();
    if (!latest()) return;
    if (!response.ok) throw new Error(JSON.parse(text).error);
    const svg = showPicture(holder, text);
    const counted = `solution ${n + 1} of ${NUMBER.format(state.count)}`;
    svg.querySelectorAll(".caption, svg > title").forEach((caption) => {
      caption.textContent = caption.textContent.replace(/: 1 solution$/, ": " + counted);
    });
    holder.dataset.url = url;
  } catch (err) {
    if (latest()) showStatus("solve-status", err.message, true);
  }
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
    state.count = data.count;
    state.columns = rows.length ? Object.keys(rows[0]) : [];
    state.sort = null;
    const shown = rows.length < data.count ? ` (first ${rows.length} shown)` : "";
    let text = `${NUMBER.format(data.count)} solution${data.count === 1 ? "" : "s"}${shown}`;
    if (!data.count && data.nearest && data.nearest.length) {
      text += "; nearest reachable outputs: " + data.nearest.map((n) => cellText(n.output, "output")).join(", ");
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
  const collapse = $("network-collapse").value.trim();
  const text = $("network-specs").value;
  const input = $("network-in").value.trim();
  const params = new URLSearchParams();
  const isPlan = /^\s*(\[|[A-Za-z_]+\s*=)/m.test(text);
  // a plan's own `input = ...` wins over the field (which is for specs and plans without one)
  if (input && !(isPlan && /^\s*input\s*=/m.test(text))) params.append("in", input);
  params.append("format", format);
  if (command === "inputs") params.append("range", INPUT_RANGE);
  if (format === "svg" && collapse) params.append("collapse", collapse);
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
    const columns = ["name", "from", "spec", "output", "size", "params", "macs", "rf", "jump",
      "eff_padding"]
      .filter((c) => layers.some((l) => c in l));
    drawTable($("network-table"), columns, layers, null, -1);
    const issues = (data.mismatches || []).join("; ");
    showStatus("network-status", `${layers.length} layers, output ${cellText(data.output, "output")}, ` +
      `${NUMBER.format(data.params)} params${issues ? "; " + issues : ""}`, Boolean(issues));
    updateInputs(latest);
    const [url, options] = networkRequest("svg");
    const response = await fetch(url, options);
    const text = await response.text();
    if (!response.ok) throw new Error(JSON.parse(text).error);
    if (!latest()) return;
    showPicture($("network-svg"), text);
  } catch (err) {
    if (!latest()) return;
    showStatus("network-status", err.message, true);
    $("network-inputs").textContent = "";
    drawTable($("network-table"), [], [], null, -1);
    $("network-svg").replaceChildren();
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
    showStatus("solve-status", err.message, true);   // (a ReferenceError hid this before)
  }
  $("solve-form").addEventListener("input", () => debounce("solve", updateSolve));
  $("solve-form").addEventListener("submit", (e) => { e.preventDefault(); updateSolve(); });
  $("network-form").addEventListener("input", () => debounce("network", updateNetwork, 400));
  updateSolve();
}

document.addEventListener("DOMContentLoaded", start);
