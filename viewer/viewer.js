// The dashboard: one WebSocket to the Perspective host for all viewers, a table picker, layouts from the
// node (or a default 2x2 for a time-series table), layouts saved per table in this browser, and automatic
// reconnection when Node-RED restarts. Every file comes from this server; nothing is loaded from elsewhere.
/* global Option, URLSearchParams */
// Load order matters: the viewer defines the element and its WASM, which the client then reuses.
import "./assets/@finos/perspective-viewer/dist/cdn/perspective-viewer.js";
import "./assets/@finos/perspective-viewer-datagrid/dist/cdn/perspective-viewer-datagrid.js";
import "./assets/@finos/perspective-viewer-d3fc/dist/cdn/perspective-viewer-d3fc.js";
import perspective from "./assets/@finos/perspective/dist/cdn/perspective.js";

const viewers = ["v1", "v2", "v3", "v4"].map((id) => document.getElementById(id));
const picker = document.getElementById("table-picker");
const info = document.getElementById("table-info");
const connection = document.getElementById("connection");
const grid = document.getElementById("grid");
const empty = document.getElementById("empty");

const wsUrl = (() => {
  const u = new URL("ws", location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  u.search = "";
  u.hash = "";
  return u.href;
})();

// Exposed for tests and for the curious: what the page is showing right now.
const state = { connected: false, table: undefined, entity: undefined, generation: undefined, updates: 0, rows: 0, loads: 0, error: undefined };
window.dashboard = state;

let client;
let table;
let statsView;
let tables = [];
let retryMs = 500;
let connecting = false;
let refreshing = Promise.resolve();
/** Layouts the viewers had before the connection dropped, to put back once the table is there again. */
let pendingLayouts;

function setConnection(s) {
  connection.dataset.state = s;
  connection.textContent = s;
}

const layoutKey = (name) => `perspective-dashboard:layout:${name}`;

/** A 2x2 dashboard for a time-series table: grouped grid, area, line and treemap of the numeric columns. */
function defaultLayouts(schema, index) {
  const cols = Object.keys(schema);
  const strings = cols.filter((c) => schema[c] === "string");
  const preferred = ["location", "groupid"].filter((c) => c in schema);
  const groupBy = preferred.length ? preferred : strings.slice(0, 2);
  const time = cols.find((c) => schema[c] === "datetime" || schema[c] === "date");
  const values = cols.filter((c) => (schema[c] === "float" || schema[c] === "integer") && !groupBy.includes(c) && c !== index);
  const last = (list) => Object.fromEntries(list.filter(Boolean).map((c) => [c, "last"]));
  const gridCols = [time, ...strings.filter((c) => !groupBy.includes(c) || c === "location"), ...values].filter(Boolean);
  const base = { theme: "Pro Dark", settings: false, group_by: groupBy, split_by: [], filter: [], sort: [], expressions: {} };
  const treemapValue = values.includes("voltage") ? "voltage" : values[0];
  return [
    { ...base, plugin: "Datagrid", columns: gridCols, aggregates: last(gridCols) },
    { ...base, plugin: "Y Area", columns: values, aggregates: last(values) },
    { ...base, plugin: "Y Line", columns: values, aggregates: last(values) },
    { ...base, plugin: "Treemap", columns: treemapValue ? [treemapValue, null, null] : [], aggregates: last([treemapValue]) },
  ];
}

function savedLayouts(name) {
  try {
    const v = JSON.parse(localStorage.getItem(layoutKey(name)) || "null");
    return Array.isArray(v) && v.length ? v : undefined;
  } catch {
    return undefined;
  }
}

async function layoutsFor(desc) {
  const saved = savedLayouts(desc.name);
  if (saved) return saved;
  if (Array.isArray(desc.layouts) && desc.layouts.length) return desc.layouts;
  return defaultLayouts(await table.schema(), desc.index);
}

async function fetchConfig() {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  return res.json();
}

function fillPicker() {
  const names = tables.map((t) => t.name);
  const current = [...picker.options].map((o) => o.value);
  if (names.join("\n") !== current.join("\n")) {
    picker.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (state.table) picker.value = state.table;
  empty.hidden = names.length > 0;
}

function chooseTable() {
  const names = tables.map((t) => t.name);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("table") || state.table || localStorage.getItem("perspective-dashboard:table");
  return names.includes(wanted) ? wanted : names[0];
}

async function updateInfo() {
  if (!table) return;
  state.rows = await table.size();
  info.textContent = `${state.rows} rows · updated ${new Date().toLocaleTimeString()}`;
}

let emptyRetry;

/**
 * Shows table `desc` in the viewers (again, after a reconnect or when its table was replaced). An empty table
 * is not loaded yet (the charts would draw paths of NaN): it is looked at again every second until rows come.
 */
async function loadTable(desc, layouts) {
  const candidate = await client.open_table(desc.entity);
  if ((await candidate.size()) === 0) {
    info.textContent = `${desc.name}: waiting for rows`;
    if (!emptyRetry) {
      emptyRetry = setTimeout(() => {
        emptyRetry = undefined;
        void refresh();
      }, 1000);
    }
    return false;
  }
  const previous = statsView;
  statsView = undefined;
  if (previous) await previous.delete().catch(() => undefined);
  table = candidate;
  state.table = desc.name;
  state.entity = desc.entity;
  state.generation = desc.generation;
  localStorage.setItem("perspective-dashboard:table", desc.name);
  const list = layouts || (await layoutsFor(desc));
  grid.dataset.count = String(Math.min(list.length, 4));
  for (let i = 0; i < viewers.length; i++) {
    const v = viewers[i];
    v.hidden = i >= list.length;
    if (v.hidden) {
      if (state.loads > 0) await v.eject().catch(() => undefined);
      continue;
    }
    // A viewer that showed another table starts from scratch: drawing the new table with the old
    // configuration makes the charts log NaN paths.
    if (state.loads > 0) await v.eject().catch(() => undefined);
    await v.load(table);
    await v.restore({ ...list[i] });
  }
  statsView = await table.view({ columns: [] });
  await statsView.on_update(() => {
    state.updates++;
    void updateInfo();
  });
  await updateInfo();
  state.loads++;
  fillPicker();
  return true;
}

async function currentLayouts() {
  const out = [];
  for (const v of viewers) if (!v.hidden) out.push(await v.save());
  return out;
}

/** Re-reads the list of tables; reloads the viewers when the shown table was replaced or is gone. */
function refresh() {
  refreshing = refreshing.then(async () => {
    if (!client) return;
    const cfg = await fetchConfig();
    tables = cfg.tables;
    const name = chooseTable();
    fillPicker();
    const desc = tables.find((t) => t.name === name);
    if (!desc) return;
    if (desc.name !== state.table || desc.entity !== state.entity || desc.generation !== state.generation) {
      const keep = pendingLayouts && pendingLayouts.table === desc.name ? pendingLayouts.layouts : undefined;
      if (await loadTable(desc, keep)) pendingLayouts = undefined;
    }
  }).catch((err) => {
    state.error = String(err && err.message ? err.message : err);
    console.warn("dashboard refresh failed:", state.error);
  });
  return refreshing;
}

function scheduleReconnect() {
  if (connecting) return;
  state.connected = false;
  setConnection("reconnecting");
  const wait = retryMs;
  retryMs = Math.min(retryMs * 2, 5000);
  setTimeout(connect, wait);
}

async function connect() {
  if (connecting) return;
  connecting = true;
  try {
    if (state.entity !== undefined) {
      // The old session and its views are gone: load the table again once it is there, keeping the layouts.
      pendingLayouts = { table: state.table, layouts: await currentLayouts().catch(() => undefined) };
      state.entity = undefined;
      state.generation = undefined;
    }
    const old = client;
    client = undefined;
    if (old) old.terminate().catch(() => undefined);
    // An upgrade can hang (a Node-RED that is still starting leaves unknown upgrade paths alone): give up
    // after a while and try again.
    const attempt = perspective.websocket(wsUrl);
    const c = await Promise.race([
      attempt,
      new Promise((_, reject) => setTimeout(() => reject(new Error("connect timeout")), 5000)),
    ]).catch((err) => {
      attempt.then((late) => late.terminate().catch(() => undefined), () => undefined);
      throw err;
    });
    client = c;
    c.on_error(() => {
      if (client === c) {
        client = undefined;
        connecting = false;
        scheduleReconnect();
      }
    });
    await c.on_hosted_tables_update(() => void refresh());
    state.connected = true;
    retryMs = 500;
    setConnection("connected");
    connecting = false;
    await refresh();
  } catch {
    connecting = false;
    client = undefined;
    scheduleReconnect();
  }
}

picker.addEventListener("change", () => {
  location.hash = `table=${encodeURIComponent(picker.value)}`;
});
window.addEventListener("hashchange", () => void refresh());

document.getElementById("save-layout").addEventListener("click", async () => {
  if (!state.table) return;
  localStorage.setItem(layoutKey(state.table), JSON.stringify(await currentLayouts()));
});

document.getElementById("reset-layout").addEventListener("click", async () => {
  if (!state.table) return;
  localStorage.removeItem(layoutKey(state.table));
  const desc = tables.find((t) => t.name === state.table);
  if (desc) await loadTable(desc);
});

await customElements.whenDefined("perspective-viewer");
await connect();
