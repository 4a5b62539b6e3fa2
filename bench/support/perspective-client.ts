// The dashboard side of the end-to-end benchmark, run in its own process (spawned with an IPC channel):
// a Perspective client over the WebSocket (@finos/perspective websocket()) that replicates the served table as
// the dashboard page does (a flat view's Arrow snapshot into a local table, then its row deltas), and after each
// applied delta reads the newest row timestamp from the local table, as the page's viewers redraw. Freshness of a row =
// the time its update reached this client minus the row's timestamp (same machine, same clock).
// Every row millisecond newly covered by an update is one sample (the producer writes the same number of rows in
// every millisecond, so per-millisecond samples weigh rows equally).
// Usage (by bench/support/pipeline.ts): node perspective-client.js <ws url> <table>
import { loadPerspective } from "../../lib/perspective/load";

const [url, tableName] = process.argv.slice(2);
const MAX_MS = 120_000;
let hist = new Float64Array(MAX_MS + 1);
let samples = 0;
let maxTs = 0;
let maxSeq = -1;
let updates = 0;

function record(now: number, newMax: number): void {
  if (newMax <= maxTs) return;
  // The first update only sets the baseline (rows from before the client opened are not counted).
  if (maxTs > 0) {
    for (let t = maxTs + 1; t <= newMax; t++) {
      hist[Math.max(0, Math.min(MAX_MS, now - t))]++;
      samples++;
    }
  }
  maxTs = newMax;
}

function quantile(q: number): number {
  if (samples === 0) return NaN;
  const want = q * samples;
  let acc = 0;
  for (let i = 0; i <= MAX_MS; i++) {
    acc += hist[i];
    if (acc >= want) return i;
  }
  return MAX_MS;
}

function send(m: Record<string, unknown>): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const perspective = (await loadPerspective()).default;
  const client = await perspective.websocket(url);
  void client.on_error(() => undefined);
  // The table appears with the first polled message: wait for it.
  let table: Awaited<ReturnType<typeof client.open_table>> | undefined;
  for (let i = 0; i < 600 && !table; i++) {
    const names = await client.get_hosted_table_names();
    if (names.includes(tableName)) table = await client.open_table(tableName);
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!table) throw new Error(`table ${tableName} never appeared`);
  // The only view a browser may open on the server by default: flat, whole table. Deltas are applied to a
  // local table in arrival order; the snapshot is taken after subscribing (deltas it already holds are
  // idempotent here: only the newest timestamp is read).
  const flat = await table.view();
  // The served table's own limit or index, as the page's replica (viewer/replica.js) takes them: a bigger local
  // table only adds this client's own work (its sorted view) to what is measured.
  const index = await table.get_index();
  const limit = await table.get_limit();
  const local = await perspective.table(await flat.to_arrow(), index ? { index } : limit ? { limit } : {});
  const view = await local.view({ columns: ["ts", "seq"], sort: [["ts", "desc"]] });
  let applying: Promise<void> = Promise.resolve();
  let fetching = false;
  let again = false;
  const fetchNewest = async (): Promise<void> => {
    // One fetch at a time; an update arriving meanwhile triggers one more fetch afterwards (like a repaint).
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const cols = (await view.to_columns({ start_row: 0, end_row: 1 })) as Record<string, unknown[]>;
        const ts = Number(cols.ts?.[0] ?? 0);
        const seq = Number(cols.seq?.[0] ?? -1);
        updates++;
        record(Date.now(), ts);
        if (seq > maxSeq) maxSeq = seq;
      } while (again);
    } finally {
      fetching = false;
    }
  };
  await flat.on_update(({ delta }: { delta?: ArrayBuffer }) => {
    if (!delta) return;
    const own = delta.slice(0);
    applying = applying
      .then(() => local.update(own))
      .then(() => fetchNewest())
      .catch((e: unknown) => send({ type: "error", message: String(e) }));
  }, { mode: "row" });
  await fetchNewest();
  process.on("message", (m: { type: string }) => {
    if (m.type === "reset") {
      hist = new Float64Array(MAX_MS + 1);
      samples = 0;
      updates = 0;
      send({ type: "reset-ok" });
    } else if (m.type === "report") {
      send({ type: "report", samples, p50: quantile(0.5), p99: quantile(0.99), max: quantile(1), maxTs, maxSeq, updates });
    } else if (m.type === "stop") {
      void flat
        .delete()
        .catch(() => undefined)
        .then(() => client.terminate())
        .catch(() => undefined)
        .then(() => process.exit(0));
    }
  });
  setInterval(() => send({ type: "status", at: Date.now(), maxTs, maxSeq, updates }), 1000).unref();
  send({ type: "ready" });
}

main().catch((e: unknown) => {
  send({ type: "error", message: String((e as Error)?.stack ?? e) });
  process.exit(1);
});
