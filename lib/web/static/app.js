// PackageBee's web dashboard: draws the Connections page and a connection's Inventory and
// History tabs from beed's JSON API (/api/v1/, docs/HTTP-API.md), and sends the two Actions
// with the admin token as a bearer header (kept in sessionStorage, never a cookie: no CSRF).
// Plain DOM, no framework; text is always set with textContent, never parsed as HTML.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "packagebee.adminToken";
const PAGE_SIZE = 50;
const REFRESH_MS = 3000;

const $ = (id) => document.getElementById(id);

// The view's state: which connection, and the inventory listing's cursors for Previous.
const view = { name: null, tab: "inventory", sku: "", changed: false, cursors: [null], page: 0,
               timer: null };

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const response = await fetch(API + path, { credentials: "omit", cache: "no-store", ...options });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error : response.status + " " + response.statusText;
    throw new ApiError(response.status, message);
  }
  return body;
}

function enc(text) { return encodeURIComponent(text); }

// "2026-12-07T09:04:15Z" -> local date and time; "" for null.
function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function badge(row, text, kind) {
  const td = row.insertCell();
  const span = document.createElement("span");
  span.className = "badge " + kind;
  span.textContent = text;
  td.appendChild(span);
  return td;
}

function notice(text, kind) {
  const p = $("notice");
  p.textContent = text || "";
  p.className = "notice " + (kind || "info");
  p.hidden = !text;
}

function resultKind(result) {
  if (result === "ok") return "ok";
  if (result === "running" || result === "queued") return "info";
  return "bad";
}

function stateText(c) {
  if (c.progress) return c.state + " (" + c.progress.phase + ")";
  return c.paused ? c.state + ", paused" : c.state;
}

// ---- Connections page ---------------------------------------------------------------------

async function showConnections() {
  const data = await api("/connections");
  $("version").textContent = "beed " + data.version;
  const body = $("connections").tBodies[0];
  body.replaceChildren();
  for (const c of data.connections) {
    const row = body.insertRow();
    const link = document.createElement("a");
    link.href = "#/c/" + enc(c.name);
    link.textContent = c.name;
    row.insertCell().appendChild(link);
    badge(row, stateText(c), c.paused ? "warn" : c.state === "idle" ? "muted" : "info");
    const last = c.last_sync;
    cell(row, last ? when(last.finished_at || last.started_at) + " (" + last.kind + ")" : "never");
    if (last) badge(row, last.result, resultKind(last.result)); else cell(row, "");
    cell(row, c.paused ? "paused" : when(c.next_sync_at));
  }
  $("connections-empty").hidden = data.connections.length > 0;
}

// ---- a connection's page ------------------------------------------------------------------

async function showConnection() {
  const c = await api("/connections/" + enc(view.name));
  $("c-name").textContent = c.name;
  $("c-title").textContent = c.name;
  const facts = $("c-facts");
  facts.replaceChildren();
  const last = c.last_sync;
  const add = (term, value) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    facts.append(dt, dd);
  };
  add("Warehouse", c.warehouse || "");
  add("Store", c.store || "");
  add("State", stateText(c));
  add("Last run", last ? "#" + last.id + " " + last.kind + ", " + last.result + ", " +
      when(last.finished_at || last.started_at) : "never");
  add("Next run", c.paused ? "paused" : when(c.next_sync_at));
}

function inventoryQuery() {
  let q = "?limit=" + PAGE_SIZE;
  if (view.sku) q += "&sku=" + enc(view.sku);
  if (view.changed) q += "&changed=true";
  const after = view.cursors[view.page];
  if (after !== null) q += "&after=" + enc(after);
  return q;
}

async function showInventory() {
  const data = await api("/connections/" + enc(view.name) + "/inventory" + inventoryQuery());
  const body = $("inventory").tBodies[0];
  body.replaceChildren();
  for (const item of data.items) {
    const row = body.insertRow();
    cell(row, item.sku, "sku");
    cell(row, item.quantity, "num");
    cell(row, when(item.updated_at));
    cell(row, item.store_quantity, "num");
    if (item.pending) badge(row, "pending", "warn"); else cell(row, "");
    cell(row, item.error, item.error ? "error" : "");
  }
  $("inventory-empty").hidden = data.items.length > 0;
  const more = Boolean(data.next_after);
  view.cursors.length = view.page + 1;
  if (more) view.cursors.push(data.next_after);
  $("prev").disabled = view.page === 0;
  $("next").disabled = !more;
  $("page-info").textContent = data.items.length
    ? "Page " + (view.page + 1) + " \u00b7 " + data.items[0].sku + " \u2026 " +
      data.items[data.items.length - 1].sku
    : "";
}

async function showHistory() {
  const data = await api("/connections/" + enc(view.name) + "/history?limit=50");
  const body = $("history").tBodies[0];
  body.replaceChildren();
  for (const run of data.runs) {
    const row = body.insertRow();
    row.dataset.run = run.id;
    cell(row, run.id, "num");
    cell(row, run.kind === "smart" ? "Smart Sync" : "Full Sync");
    cell(row, run.trigger);
    cell(row, when(run.started_at));
    cell(row, run.finished_at ? (run.duration_ms / 1000).toFixed(1) + " s" : "");
    badge(row, run.result, resultKind(run.result));
    cell(row, run.read, "num");
    cell(row, run.changed, "num");
    cell(row, run.pushed, "num");
    cell(row, run.rejected, "num");
    cell(row, run.error, run.error ? "error" : "");
  }
  $("history-empty").hidden = data.runs.length > 0;
}

function selectTab(tab) {
  view.tab = tab;
  $("tab-inventory").className = tab === "inventory" ? "active" : "";
  $("tab-history").className = tab === "history" ? "active" : "";
  $("tab-inventory").href = "#/c/" + enc(view.name);
  $("tab-history").href = "#/c/" + enc(view.name) + "/history";
  $("pane-inventory").hidden = tab !== "inventory";
  $("pane-history").hidden = tab !== "history";
}

// ---- the Actions --------------------------------------------------------------------------

function askToken() {
  return new Promise((resolve) => {
    const dialog = $("token-dialog");
    $("token-input").value = "";
    const done = (value) => {
      $("token-form").onsubmit = null;
      $("token-cancel").onclick = null;
      dialog.close();
      resolve(value);
    };
    $("token-form").onsubmit = (e) => { e.preventDefault(); done($("token-input").value.trim()); };
    $("token-cancel").onclick = () => done(null);
    dialog.showModal();
  });
}

async function runAction(action) {
  $("actions").open = false;
  const label = action === "sync" ? "Update inventory (Smart Sync)" : "Full inventory update";
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    token = await askToken();
    if (!token) return;
  }
  try {
    const run = await api("/connections/" + enc(view.name) + "/" + action, {
      method: "POST", headers: { "Authorization": "Bearer " + token } });
    sessionStorage.setItem(TOKEN_KEY, token);
    notice(label + " started: run " + run.run_id + (run.queued ? " (queued)" : ""), "ok");
    selectTab("history");
    location.hash = "#/c/" + enc(view.name) + "/history";
    await refresh();
  } catch (e) {
    // A refused token is forgotten, so that the next click asks again.
    if (e.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    notice(label + " refused: " + e.message, "bad");
  }
}

// ---- routing and refresh ------------------------------------------------------------------

async function refresh() {
  try {
    if (view.name === null) {
      await showConnections();
    } else {
      await showConnection();
      if (view.tab === "inventory") await showInventory(); else await showHistory();
    }
  } catch (e) {
    notice(e.message, "bad");
  }
}

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const parts = hash.split("/");
  const name = parts[0] === "c" && parts[1] ? decodeURIComponent(parts[1]) : null;
  if (name !== view.name) {
    Object.assign(view, { name, sku: "", changed: false, cursors: [null], page: 0 });
    $("search-sku").value = "";
    $("changed-only").checked = false;
    notice("");
  }
  $("view-connections").hidden = name !== null;
  $("view-connection").hidden = name === null;
  $("nav-connections").className = name === null ? "active" : "";
  if (name !== null) selectTab(parts[2] === "history" ? "history" : "inventory");
  refresh();
}

function restartListing() {
  view.cursors = [null];
  view.page = 0;
  refresh();
}

function wire() {
  window.addEventListener("hashchange", route);
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    view.sku = $("search-sku").value.trim();
    restartListing();
  });
  $("changed-only").addEventListener("change", () => {
    view.changed = $("changed-only").checked;
    restartListing();
  });
  $("prev").addEventListener("click", () => { if (view.page > 0) { view.page--; refresh(); } });
  $("next").addEventListener("click", () => {
    if (view.page + 1 < view.cursors.length) { view.page++; refresh(); }
  });
  for (const button of document.querySelectorAll("[data-action]"))
    button.addEventListener("click", () => runAction(button.dataset.action));
  // Live state without reloading; the inventory page is left alone (it may be mid-reading).
  view.timer = setInterval(() => {
    if (document.hidden || $("token-dialog").open) return;
    if (view.name === null || view.tab === "history") refresh();
    else showConnection().catch((e) => notice(e.message, "bad"));
  }, REFRESH_MS);
  route();
}

document.addEventListener("DOMContentLoaded", wire);
