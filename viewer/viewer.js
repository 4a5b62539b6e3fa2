// The dashboard: one WebSocket to the Perspective host, a table picker, layouts from the node (or a default
// 2x2 for a time-series table), layouts saved per table in this browser, and automatic reconnection when
// Node-RED restarts. The shown table is REPLICATED into this page (replica.js): a snapshot and row deltas
// from the server fill a table in the page's own Perspective worker, and the four viewers compute their
// group-bys, expressions, filters and sorts on that local table, never on the server. Every file comes from
// this server; nothing is loaded from elsewhere.
/* global Option, URLSearchParams, navigator */
// Load order matters: the viewer defines the element and its WASM, which the client then reuses.
import "./assets/@finos/perspective-viewer/dist/cdn/perspective-viewer.js";
import "./assets/@finos/perspective-viewer-datagrid/dist/cdn/perspective-viewer-datagrid.js";
import "./assets/@finos/perspective-viewer-d3fc/dist/cdn/perspective-viewer-d3fc.js";
import perspective from "./assets/@finos/perspective/dist/cdn/perspective.js";
import { openClient, replicate, WireTap } from "./replica.js";
import { Freshness } from "./freshness.js";
import { describeHealth, emptyMessage } from "./health.js";

const viewers = ["v1", "v2", "v3", "v4"].map((id) => document.getElementById(id));
const picker = document.getElementById("table-picker");
const info = document.getElementById("table-info");
const healthLine = document.getElementById("health");
const connection = document.getElementById("connection");
const grid = document.getElementById("grid");
const empty = document.getElementById("empty");
const notice = document.getElementById("notice");

const wsUrl = (() => {
  const u = new URL("ws", location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  u.search = "";
  u.hash = "";
  return u.href;
})();

/** How often config.json (table list and health) is read again besides on hosted-table changes. */
const CONFIG_EVERY_MS = 3000;
/**
 * A page whose local table cannot keep up (a slow machine, many pages on one) starts over from a fresh snapshot
 * once its oldest unapplied delta is this old, or this many wait: without it, it fell further behind for as long
 * as the stream lasted (10 pages on 2 cores were 100 s behind after a minute) and held every waiting delta.
 * `#behindMs=N` in the page's address changes the time (a slower machine may prefer a longer one).
 */
const BEHIND_MS = Number(new URLSearchParams(location.hash.slice(1)).get("behindMs")) || 5000;
const BEHIND_DELTAS = 1000;
/** How long the status line says that the page fell behind and started over. */
const BEHIND_SHOWN_MS = 30000;

// Exposed for tests and for the curious: what the page is showing right now.
const state = { connected: false, table: undefined, entity: undefined, generation: undefined, updates: 0, rows: 0, loads: 0, replications: 0, skippedDeltas: 0, catchUps: 0, error: undefined };
window.dashboard = state;
const freshness = new Freshness();
let tap = new WireTap();
/** Freshness samples, and what this page asked the server for (request kind -> count, over all connections). */
const sentTotals = new Map();
window.dashboardMetrics = {
  freshness,
  /** Request kinds (Perspective protobuf field numbers) sent to the server, with counts. */
  sentKinds: () => {
    const all = new Map(sentTotals);
    for (const [k, n] of tap.sent) all.set(k, (all.get(k) || 0) + n);
    return Object.fromEntries(all);
  },
  bytesIn: () => tap.bytesIn,
  /** The page's own table (in its worker), for tests: size and schema of what the viewers show. */
  local: () => replica?.table,
};

let client;
let socket;
/**
 * Rejects when the current connection closes. A request on a closed Perspective client never settles, so
 * every wait on the server in a load races this one: a load cut off by a reconnection gives up instead of
 * holding up every later refresh (table switches included) for good.
 */
let connectionLost = new Promise(() => undefined);
/** The page's own Perspective engine (a Web Worker); it outlives reconnections. */
const worker = perspective.worker();
worker.catch(reportError);
let replica;
let tsColumn;
let newestView;
let newestTs;
let tables = [];
/** Tables published but not created yet (config.json `waiting`), with their health. */
let waiting = [];
let retryMs = 500;
let connecting = false;
let refreshing = Promise.resolve();
/** Layouts the viewers had before the connection dropped, to put back once the table is there again. */
let pendingLayouts;
/** The viewers show the current replica (they wait for its first row). */
let viewersLoaded = false;
/** When the page last fell behind and started over, and how far behind it was. */
let fellBehindAt;
let wantedLayouts;

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

async function layoutsFor(desc, local) {
  const saved = savedLayouts(desc.name);
  if (saved) return saved;
  if (Array.isArray(desc.layouts) && desc.layouts.length) return desc.layouts;
  return defaultLayouts(await local.schema(), desc.index);
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
  for (const o of picker.options) {
    const h = tables.find((t) => t.name === o.value)?.health;
    o.dataset.health = h?.state || "";
    o.textContent = h && h.state !== "ok" && h.state !== "unknown" ? `${o.value} (${h.state})` : o.value;
  }
  empty.hidden = names.length > 0;
  renderWaiting();
}

/**
 * Tables that nodes publish but that have no first rows yet (config.json's `waiting`, e.g. while TDengine is
 * down): the empty state names each with what its health says, instead of only "no tables yet".
 */
function renderWaiting() {
  const box = document.getElementById("empty-waiting");
  const items = waiting.filter((w) => w && typeof w.name === "string");
  box.hidden = items.length === 0;
  empty.querySelector("h2").textContent = items.length ? "Waiting for the first rows" : "No tables yet";
  box.replaceChildren(
    ...items.map((w) => {
      const p = document.createElement("p");
      p.dataset.state = w.health?.state || "unknown";
      p.textContent = emptyMessage(w.name, w.health, 0).join(" ");
      return p;
    }),
  );
}

function chooseTable() {
  const names = tables.map((t) => t.name);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("table") || state.table || localStorage.getItem("perspective-dashboard:table");
  return names.includes(wanted) ? wanted : names[0];
}

/** Health line, row count and, when the table has nothing to show, a message in place of the viewers. */
function renderStatus() {
  const desc = tables.find((t) => t.name === state.table);
  const health = desc?.health;
  const newestAgeMs = newestTs !== undefined ? Date.now() - newestTs : undefined;
  const h = describeHealth(health, { rows: state.rows, newestAgeMs });
  healthLine.dataset.state = h.state;
  healthLine.textContent = h.text;
  healthLine.hidden = h.text === "";
  if (state.table) {
    const behind = fellBehindAt && Date.now() - fellBehindAt.at < BEHIND_SHOWN_MS ? ` · fell ${fellBehindAt.seconds} s behind, reloaded` : "";
    info.textContent = (state.rows === undefined ? `loading ${state.table}…` : `${state.rows} rows`) + behind;
  }
  const lines = state.table ? emptyMessage(state.table, health, state.rows) : undefined;
  if (lines) {
    notice.replaceChildren(...lines.map((l) => Object.assign(document.createElement("p"), { textContent: l })));
    notice.dataset.state = h.down ? "error" : "waiting";
    notice.hidden = false;
  } else if (h.down) {
    // Rows are there (possibly stale): keep the viewers, say above them what is wrong.
    notice.replaceChildren(Object.assign(document.createElement("p"), { textContent: `${state.table}: ${h.text}` }));
    notice.dataset.state = "banner";
    notice.hidden = false;
  } else {
    notice.hidden = true;
  }
  // The viewers keep their place while a table loads; they give way to the message, or to the empty state.
  grid.hidden = Boolean(lines) || tables.length === 0;
}

/** Reads the newest timestamp of the local table (for the row age shown, and freshness after a delta). */
async function noteNewest() {
  const view = newestView;
  if (!view) return undefined;
  const cols = await view.to_columns({ start_row: 0, end_row: 1 });
  // The table was replaced while this waited: its newest row is not the shown table's.
  if (view !== newestView) return undefined;
  const ts = cols[tsColumn]?.[0];
  if (typeof ts === "number") newestTs = ts;
  return typeof ts === "number" ? ts : undefined;
}

/** After each delta applied to the local table: counters, a freshness sample, the viewers on the first row. */
async function afterDelta(local) {
  // Deltas applied while replicate() is still finishing are counted by loadTable, which reads the size itself.
  if (replica?.table !== local) return;
  state.updates++;
  // Both questions at once: one round trip to the page's Perspective worker (busy rendering the viewers) instead
  // of two in a row, which only delayed the freshness sample and the status line.
  const [rows, ts] = await Promise.all([local.size(), noteNewest()]);
  // Replaced while this waited (a table switch, a reconnection): these figures are another table's.
  if (replica?.table !== local) return;
  state.rows = rows;
  if (ts !== undefined) freshness.add(Date.now() - ts);
  if (!viewersLoaded && state.rows > 0) await showViewers(local);
  renderStatus();
}

/** The local table each viewer was loaded with. */
const loadedWith = new WeakMap();
/**
 * Everything that loads, restores or ejects viewers runs here one step at a time: an eject while a load is
 * still going on leaves a viewer waiting forever.
 */
let viewerOps = Promise.resolve();
function onViewers(step) {
  const run = viewerOps.then(step);
  viewerOps = run.catch(reportError);
  return run;
}

async function ejectViewers() {
  for (const v of viewers) {
    if (!loadedWith.has(v)) continue;
    loadedWith.delete(v);
    // A render still pending from the last delta would find no table after the eject: let it finish first.
    await v.flush().catch(() => undefined);
    await v.eject().catch(() => undefined);
  }
}

/** Drops the current replica: the server view, the viewers' views on the local table, then the local table. */
async function dropReplica() {
  const old = replica;
  replica = undefined;
  viewersLoaded = false;
  newestTs = undefined;
  if (!old) return;
  // After a reconnection the old session and its server view are already gone.
  if (old.client === client) await Promise.race([old.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  await onViewers(ejectViewers);
  if (newestView) await newestView.delete().catch(() => undefined);
  newestView = undefined;
  await old.table.delete().catch(() => undefined);
}

/** Puts `list` (up to four viewer configurations) on the viewers, each loaded with `local`. */
async function applyLayouts(local, list) {
  grid.dataset.count = String(Math.min(list.length, 4));
  for (let i = 0; i < viewers.length; i++) {
    const v = viewers[i];
    v.hidden = i >= list.length;
    if (v.hidden) continue;
    if (loadedWith.get(v) !== local) {
      await v.load(local);
      loadedWith.set(v, local);
    }
    await v.restore({ ...list[i] });
  }
}

function showViewers(local) {
  // Only for the table shown now. A late call for a replaced table used to set the flag for its successor,
  // whose viewers then never loaded (the table picker's intermittent failure).
  if (replica?.table !== local) return Promise.resolve();
  viewersLoaded = true;
  return onViewers(async () => {
    // Replaced meanwhile (another table, a reconnection): nothing to show any more.
    if (replica?.table !== local) return;
    const list = wantedLayouts || (await layoutsFor(tables.find((t) => t.name === state.table) || { name: state.table }, local));
    wantedLayouts = undefined;
    await applyLayouts(local, list);
    state.loads++;
    renderStatus();
  });
}

/**
 * Shows table `desc` (again, after a reconnect or when its table was replaced): replicates it into the
 * page's worker and loads the viewers on the local table. An empty table is replicated too, but the viewers
 * wait for its first row (the charts would draw paths of NaN); the page says what it waits for meanwhile.
 */
async function loadTable(desc, layouts) {
  await dropReplica();
  const from = client;
  const lost = connectionLost;
  const untilLost = (p) => Promise.race([p, lost]);
  const remote = await untilLost(from.open_table(desc.entity));
  state.table = desc.name;
  state.rows = undefined;
  wantedLayouts = layouts;
  localStorage.setItem("perspective-dashboard:table", desc.name);
  const opts = {
    tap,
    onDelta: (_delta, local) => void afterDelta(local).catch(reportError),
    maxBacklogMs: BEHIND_MS,
    maxBacklogDeltas: BEHIND_DELTAS,
    onBehind: (b, local) => fellBehind(local, b),
  };
  if (desc.index) opts.index = desc.index;
  else if (desc.limit) opts.limit = desc.limit;
  const w = await worker;
  const attempt = replicate(remote, (data, options) => w.table(data, options), opts);
  const r = await untilLost(attempt).catch((err) => {
    // A replica finished after all is dropped with the old connection.
    attempt.then((late) => late.table.delete().catch(() => undefined), () => undefined);
    throw err;
  });
  r.client = from;
  replica = r;
  // Only now: a failed attempt leaves these unset, so the next refresh tries again.
  state.entity = desc.entity;
  state.generation = desc.generation;
  state.replications++;
  // Deltas the snapshots already held (skipped), over this page's loads: shows the ordering at work.
  state.skippedDeltas += r.stats.dropped;
  const schema = await r.table.schema();
  tsColumn = schema.ts === "datetime" ? "ts" : Object.keys(schema).find((c) => schema[c] === "datetime");
  if (tsColumn) newestView = await r.table.view({ columns: [tsColumn], sort: [[tsColumn, "desc"]] });
  state.rows = await r.table.size();
  await noteNewest();
  if (state.rows > 0 && !viewersLoaded) await showViewers(r.table);
  fillPicker();
  renderStatus();
  return true;
}

async function currentLayouts() {
  const out = [];
  for (const v of viewers) if (!v.hidden) out.push(await v.save());
  return out;
}

function reportError(err) {
  state.error = String(err && err.message ? err.message : err);
}

/**
 * The local table fell too far behind the server's: replicate afresh (the next refresh loads the table again, with
 * the viewers' current layouts), and say so in the status line for a while.
 */
function fellBehind(local, backlog) {
  refreshing = refreshing.then(async () => {
    // Queued behind the load that made `local`: by now it is the shown replica, unless it was replaced.
    if (replica?.table !== local) return;
    state.catchUps++;
    fellBehindAt = { at: Date.now(), seconds: Math.max(1, Math.round(backlog.ageMs / 1000)) };
    console.info(`dashboard: ${backlog.deltas} updates waiting, the oldest ${backlog.ageMs} ms old: reloading ${state.table}`);
    pendingLayouts = { table: state.table, layouts: await currentLayouts().catch(() => undefined) };
    state.entity = undefined;
  }).catch(reportError);
  refresh();
}

/** Re-reads the list of tables and their health; reloads the viewers when the shown table was replaced or is gone. */
function refresh() {
  refreshing = refreshing.then(async () => {
    const cfg = await fetchConfig();
    tables = Array.isArray(cfg.tables) ? cfg.tables : [];
    waiting = Array.isArray(cfg.waiting) ? cfg.waiting : [];
    fillPicker();
    if (!client) return renderStatus();
    const name = chooseTable();
    const desc = tables.find((t) => t.name === name);
    if (!desc) {
      if (state.table) await dropReplica();
      state.table = state.entity = state.generation = undefined;
      return renderStatus();
    }
    if (desc.name !== state.table || desc.entity !== state.entity || desc.generation !== state.generation) {
      const keep = pendingLayouts && pendingLayouts.table === desc.name ? pendingLayouts.layouts : undefined;
      if (await loadTable(desc, keep)) pendingLayouts = undefined;
    }
    renderStatus();
  }).catch(reportError);
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
      // The old session and its views are gone: replicate the table again once it is there, keeping the layouts.
      pendingLayouts = { table: state.table, layouts: await currentLayouts().catch(() => undefined) };
      state.entity = undefined;
      state.generation = undefined;
    }
    const old = socket;
    client = socket = undefined;
    if (old) old.close();
    for (const [k, n] of tap.sent) sentTotals.set(k, (sentTotals.get(k) || 0) + n);
    tap = new WireTap();
    const { Client } = await customElements.get("perspective-viewer").__wasm_module__;
    // An upgrade can hang (a Node-RED that is still starting leaves unknown upgrade paths alone): give up
    // after a while and try again.
    let lost = false;
    let markLost;
    const lostHere = new Promise((_, reject) => (markLost = reject));
    lostHere.catch(() => undefined);
    const onClose = () => {
      lost = true;
      markLost(new Error("connection lost"));
      if (socket === conn) {
        client = socket = undefined;
        connecting = false;
        scheduleReconnect();
      }
    };
    const attempt = openClient(wsUrl, { WebSocket, makeClient: (send, close) => new Client(send, close), tap, onClose });
    const conn = await Promise.race([
      attempt,
      new Promise((_, reject) => setTimeout(() => reject(new Error("connect timeout")), 5000)),
    ]).catch((err) => {
      attempt.then((late) => late.close(), () => undefined);
      throw err;
    });
    if (lost) throw new Error("closed while connecting");
    client = conn.client;
    socket = conn;
    connectionLost = lostHere;
    await client.on_hosted_tables_update(() => void refresh());
    state.connected = true;
    retryMs = 500;
    setConnection("connected");
    connecting = false;
    await refresh();
  } catch {
    connecting = false;
    client = socket = undefined;
    scheduleReconnect();
  }
}

picker.addEventListener("change", () => {
  location.hash = `table=${encodeURIComponent(picker.value)}`;
});
window.addEventListener("hashchange", () => void refresh());

document.getElementById("save-layout").addEventListener("click", async () => {
  if (!state.table || !viewersLoaded) return;
  const name = state.table;
  localStorage.setItem(layoutKey(name), JSON.stringify(await onViewers(currentLayouts)));
});

// For a ui-perspective widget of Dashboard 2.0: its Layout option takes one of these objects.
document.getElementById("copy-layout").addEventListener("click", async () => {
  if (!viewersLoaded) return;
  const text = JSON.stringify(await onViewers(currentLayouts), null, 2);
  await navigator.clipboard.writeText(text).catch(() => window.prompt("Copy the layouts:", text));
});

document.getElementById("reset-layout").addEventListener("click", async () => {
  if (!state.table || !replica) return;
  localStorage.removeItem(layoutKey(state.table));
  const desc = tables.find((t) => t.name === state.table);
  if (!desc) return;
  // Same local table, the configured (or default) layouts again: no need to replicate anew.
  const local = replica.table;
  await onViewers(async () => {
    await applyLayouts(local, await layoutsFor(desc, local));
    state.loads++;
  });
});

setInterval(() => {
  void refresh();
}, CONFIG_EVERY_MS);
// The row age moves even when no rows come.
setInterval(renderStatus, 1000);

await customElements.whenDefined("perspective-viewer");
await refresh();
await connect();
