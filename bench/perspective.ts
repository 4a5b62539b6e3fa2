// Rows per second perspective-out accepts (message in -> done(), i.e. rows in the table), for a `limit` table
// and an indexed table, with no open views and with 4 viewer-like server-side views (perspective-config's
// "server-side views" on) held by a remote client over the
// WebSocket (group-by location/groupid, refetching their data on every update, as perspective-viewer does).
// Runs the real node in node-red-node-test-helper on this machine's Node-RED (NR_RUNTIME, default node-red).
// Usage: npm run build && node dist/bench/perspective.js [rowsPerScenario]
import { cpus, totalmem } from "node:os";
import helper from "../test/support/helper";
import { runtimeVersion } from "../test/support/runtime";
import { loadPerspective, type Client, type View } from "../lib/perspective/load";
import { runMain } from "./support/procs";
import { unspy } from "./support/unspy";

const perspectiveOut = require("../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../nodes/perspective-config/perspective-config");

const BATCH = 250;
const TOTAL = Number(process.argv[2] ?? 100_000);
const CITIES = ["California.SanFrancisco", "California.LosAngeles", "California.SanDiego", "California.SanJose", "California.PaloAlto"];
const COLUMNS = [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
  { name: "current", type: 6, typeName: "FLOAT", length: 4 },
  { name: "voltage", type: 4, typeName: "INT", length: 4 },
  { name: "phase", type: 6, typeName: "FLOAT", length: 4 },
  { name: "location", type: 8, typeName: "VARCHAR", length: 24 },
  { name: "groupid", type: 4, typeName: "INT", length: 4 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];

function batches(): Record<string, unknown>[][] {
  const out: Record<string, unknown>[][] = [];
  const t0 = Date.now();
  for (let b = 0; b < TOTAL / BATCH; b++) {
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      const meter = n % 1000;
      rows.push({
        ts: new Date(t0 + n), current: 10 + Math.random() * 5, voltage: 215 + (n % 10), phase: Math.random(),
        location: CITIES[meter % 5], groupid: (meter % 3) + 1, tbname: `d${meter}`,
      });
    }
    out.push(rows);
  }
  return out;
}

interface Scenario {
  name: string;
  props: Record<string, unknown>;
  views: number;
}

async function openViews(client: Client, table: string, n: number): Promise<OpenView[]> {
  const t = await client.open_table(table);
  const views: OpenView[] = [];
  for (let i = 0; i < n; i++) {
    const view = await t.view({
      group_by: ["location", "groupid"],
      columns: ["current", "voltage", "phase"],
      aggregates: { current: "last", voltage: "last", phase: "last" },
    });
    const ov: OpenView = { view, id: 0, fetching: Promise.resolve() };
    // One refetch at a time per view, like a viewer repainting.
    ov.id = await view.on_update(() => {
      ov.fetching = ov.fetching.then(() => view.to_columns()).then(() => undefined, () => undefined);
    });
    views.push(ov);
  }
  return views;
}

interface OpenView {
  view: View;
  id: number;
  fetching: Promise<void>;
}

async function closeViews(views: OpenView[]): Promise<void> {
  // A view must not be deleted while a fetch on it is still running.
  for (const v of views) await v.view.remove_update(v.id).catch(() => undefined);
  for (const v of views) await v.fetching;
  for (const v of views) await v.view.delete().catch(() => undefined);
}

async function run(s: Scenario, data: Record<string, unknown>[][], wsUrl: string): Promise<number> {
  await helper.load([perspectiveConfig, perspectiveOut], [
    // Server-side views on: the open views here are computed by the server's engine (group-by), which browsers
    // of the bundled page no longer ask for (they replicate); this measures what such views cost the engine.
    { id: "host", type: "perspective-config", path: "/perspective", serverViews: true },
    { id: "out", type: "perspective-out", name: "bench", server: "host", table: s.name, ...s.props },
    { id: "completer", type: "complete", scope: ["out"], wires: [["completed"]] },
    { id: "completed", type: "helper" },
  ]);
  // A real runtime has no test-helper spies; they would keep every message in memory (bench/support/unspy.ts).
  unspy(helper, ["out", "completer"]);
  const out = helper.getNode("out");
  // Create the table (first message carries msg.columns), then open the views on it.
  const completed = helper.getNode("completed") as unknown as { on(e: string, f: () => void): void; once(e: string, f: () => void): void };
  await new Promise<void>((resolve) => {
    completed.once("input", () => resolve());
    out.receive({ payload: data[0].slice(0, 1), columns: COLUMNS });
  });
  let client: Client | undefined;
  let views: OpenView[] = [];
  if (s.views > 0) {
    client = await (await loadPerspective()).default.websocket(wsUrl);
    void client.on_error(() => undefined);
    views = await openViews(client, s.name, s.views);
  }
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    completed.on("input", () => {
      if (++done === data.length) resolve();
    });
  });
  const start = process.hrtime.bigint();
  // A fast flow: one 250-row message per turn of the event loop, without waiting for done().
  for (const rows of data) {
    out.receive({ payload: rows });
    await new Promise((r) => setImmediate(r));
  }
  await finished;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await closeViews(views);
  await client?.terminate().catch(() => undefined);
  await helper.unload();
  return (data.length * BATCH) / secs;
}

async function main(): Promise<void> {
  await helper.startServer();
  const wsUrl = helper.url().replace(/^http/, "ws") + "/perspective/ws";
  await loadPerspective();
  const data = batches();
  const scenarios: Scenario[] = [];
  for (const interval of [50, 0]) {
    for (const views of [0, 4]) {
      scenarios.push({ name: `limit_${interval}_${views}`, props: { mode: "limit", limit: 1000, interval }, views });
      scenarios.push({ name: `index_${interval}_${views}`, props: { mode: "index", index: "tbname", interval }, views });
    }
  }
  // Warm-up (JIT, WASM): one short run, not reported.
  await run({ name: "warmup", props: { mode: "limit", limit: 1000 }, views: 0 }, data.slice(0, 40), wsUrl);
  console.log(`perspective-out, ${TOTAL} rows per scenario in ${BATCH}-row messages; Node ${process.version}, Node-RED ${runtimeVersion}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log("| table | update interval | open views | rows/s (median of 3) |");
  console.log("|---|---|---|---|");
  for (const s of scenarios) {
    const rates: number[] = [];
    for (let rep = 0; rep < 3; rep++) rates.push(await run({ ...s, name: `${s.name}_${rep}` }, data, wsUrl));
    rates.sort((a, b) => a - b);
    const table = s.props.mode === "index" ? "index tbname (1000 keys)" : "limit 1000";
    console.log(`| ${table} | ${s.props.interval} ms | ${s.views} | ${Math.round(rates[1]).toLocaleString("en-US")} |`);
  }
  await helper.stopServer();
}

runMain(main);
