// Benchmark of lib/poll (the engine of tdengine-poll) against the emulator running in its own process:
//  A. catch-up throughput: rows/s decoded by the client (bare paged queries) and rows/s emitted by the poller
//     (decode + de-duplication + row objects) over the same pre-loaded table;
//  B. freshness at a steady write rate (default 10k rows/s, 10 subtables, stmt2 inserts every 10 ms):
//     insert (write sent) -> row emitted by the poller, p50/p99, for a 250 ms and a 50 ms interval.
// Usage: node dist/bench/poll.js [--rows 200000] [--rate 10000] [--seconds 15]
// Prints a Markdown table; nothing is asserted (speed is not a test).
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { Poller, TickScheduler } from "../lib/poll";
import { openClient } from "../lib/tdengine";
import type { TdengineClientApi } from "../lib/tdengine/api";
import { runMain } from "./support/procs";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg("rows", 200_000);
const RATE = arg("rate", 10_000);
const SECONDS = arg("seconds", 15);
// One row per subtable per millisecond: the rate sets the number of subtables (10 at 10k rows/s).
const TABLES = Math.max(1, Math.round(RATE / 1000));

async function startEmulatorProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, "..", "emulator", "cli.js"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /WebSocket (ws:\/\/[^\s)]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
  return { url, child };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function setup(c: TdengineClientApi, db: string): Promise<void> {
  await c.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
  await c.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
}

/** Inserts rows for every subtable at each of the given timestamps through one stmt2 bind. */
async function insertAt(stmt: Awaited<ReturnType<TdengineClientApi["prepare"]>>, timestamps: number[]): Promise<void> {
  const tables = [];
  for (let t = 0; t < TABLES; t++) {
    tables.push({
      table: `d_bind_${t}`,
      tags: [t, `loc${t}`],
      columns: [timestamps, timestamps.map((_, i) => 10 + ((i + t) % 7)), timestamps.map(() => 220 + t), timestamps.map(() => 0.5)],
    });
  }
  await stmt.bind(tables);
  await stmt.exec();
}

async function throughput(url: string): Promise<Record<string, number>> {
  const db = "bench_tp";
  const admin = await openClient({ url, timeoutMs: 120_000 });
  await setup(admin, db);
  await admin.close();
  // The subtable name placeholder of the INSERT resolves in the connection's database.
  const c = await openClient({ url, database: db, timeoutMs: 120_000 });
  const stmt = await c.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?, ?) VALUES (?, ?, ?, ?)`);
  const perTable = Math.ceil(ROWS / TABLES);
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < perTable; i += 1000) {
    const ts = Array.from({ length: Math.min(1000, perTable - i) }, (_, k) => t0 + i + k);
    await insertAt(stmt, ts);
  }
  await stmt.close();
  const total = perTable * TABLES;
  const source = { mode: "table" as const, table: { database: db, table: "meters", tsColumn: "ts", columns: ["current", "voltage", "phase"], tags: ["location"] }, includeTbname: true };

  // Bare client: the same paged statements the poller sends, decoded but not de-duplicated or converted.
  let start = performance.now();
  let decoded = 0;
  let bound = 0n;
  const sql = `SELECT \`ts\`, \`current\`, \`voltage\`, \`phase\`, \`location\`, tbname FROM \`${db}\`.\`meters\` WHERE \`ts\` >= ? ORDER BY \`ts\` LIMIT 10000`;
  for (;;) {
    const r = await c.queryWithParams(sql, [bound]);
    decoded += r.rows.length;
    if (r.rows.length < 10000) break;
    bound = BigInt(r.rows[r.rows.length - 1][0] as number);
  }
  const bareMs = performance.now() - start;

  const poller = new Poller({ source, start: { kind: "everything" }, pageSize: 10000, maxRowsPerPoll: 100000, timestamps: "date" });
  start = performance.now();
  let emitted = 0;
  let pages = 0;
  for (;;) {
    const r = await poller.poll(c);
    emitted += r.rows.length;
    pages += r.pages;
    if (r.caughtUp) break;
  }
  const pollMs = performance.now() - start;
  if (emitted !== total) throw new Error(`emitted ${emitted} of ${total} rows`);
  await c.close();
  return { total, decoded, bareMs, pollMs, pages, decodedPerSec: (decoded / bareMs) * 1000, emittedPerSec: (emitted / pollMs) * 1000 };
}

async function freshness(url: string, intervalMs: number): Promise<Record<string, number>> {
  const db = `bench_fr_${intervalMs}`;
  const reader = await openClient({ url, timeoutMs: 30_000 });
  await setup(reader, db);
  const writer = await openClient({ url, database: db, timeoutMs: 30_000 });
  const stmt = await writer.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?, ?) VALUES (?, ?, ?, ?)`);
  const insertedAt = new Map<number, number>(); // ts (ms) -> time the write was sent
  const lat: number[] = [];
  let emitted = 0;
  let written = 0;
  const poller = new Poller({
    source: { mode: "table", table: { database: db, table: "meters", tsColumn: "ts", columns: ["current", "voltage", "phase"], tags: [] }, includeTbname: true },
    start: { kind: "now" },
    timestamps: "ms",
  });
  const sched = new TickScheduler(async () => {
    const r = await poller.poll(reader);
    const now = Date.now();
    for (const row of r.rows) {
      const at = insertedAt.get(row.ts as number);
      if (at !== undefined) lat.push(now - at);
    }
    emitted += r.rows.length;
    return { again: !r.caughtUp };
  }, { intervalMs });
  await sched.trigger(); // sets the start watermark before writing begins

  // Writer: every 10 ms, one row per subtable for each millisecond since the last tick, so the rate is
  // TABLES rows per ms (10k rows/s with 10 subtables) and every row's timestamp is unique per subtable.
  let lastMs = Date.now();
  let busy = false;
  let skippedWrites = 0;
  const endAt = Date.now() + SECONDS * 1000;
  sched.start();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (busy) {
        skippedWrites++;
        return;
      }
      const now = Date.now();
      if (now >= endAt) {
        clearInterval(timer);
        resolve();
        return;
      }
      const ts: number[] = [];
      for (let m = lastMs + 1; m <= now; m++) ts.push(m);
      lastMs = now;
      if (ts.length === 0) return;
      busy = true;
      // Freshness starts when the write is sent (the poller may see the rows before the ack arrives).
      const sentAt = Date.now();
      for (const t of ts) insertedAt.set(t, sentAt);
      insertAt(stmt, ts).then(
        () => {
          written += ts.length * TABLES;
          busy = false;
        },
        (err: unknown) => {
          clearInterval(timer);
          reject(err);
        },
      );
    }, 10);
  });
  // Drain what is left, then stop.
  const drainUntil = Date.now() + 5000;
  while (emitted < written && Date.now() < drainUntil) await sched.trigger();
  const skippedTicks = sched.state.skippedTicks;
  await sched.stop();
  await stmt.close();
  await writer.close();
  await reader.close();
  lat.sort((a, b) => a - b);
  return { intervalMs, written, emitted, writeRate: written / SECONDS, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], skippedTicks, skippedWrites };
}

async function main(): Promise<void> {
  const emu = await startEmulatorProcess();
  try {
    const tp = await throughput(emu.url);
    const fr = [await freshness(emu.url, 250), await freshness(emu.url, 50)];
    const cpu = cpus();
    const lines = [
      `Machine: ${cpu.length} x ${cpu[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; emulator in a child process.`,
      `Command: node dist/bench/poll.js --rows ${ROWS} --rate ${RATE} --seconds ${SECONDS}`,
      "",
      "| catch-up over a pre-loaded table | value |",
      "|---|---|",
      `| rows | ${tp.total} |`,
      `| bare client, same paged queries: rows/s decoded | ${Math.round(tp.decodedPerSec)} |`,
      `| lib/poll: rows/s emitted (decode + dedup + row objects) | ${Math.round(tp.emittedPerSec)} |`,
      `| pages read by the poller | ${tp.pages} |`,
      "",
      "| freshness at a steady write rate | interval | rows written | rows emitted | write rows/s | p50 ms | p99 ms | max ms | skipped ticks |",
      "|---|---|---|---|---|---|---|---|---|",
      ...fr.map((f) => `| insert sent -> emitted | ${f.intervalMs} ms | ${f.written} | ${f.emitted} | ${Math.round(f.writeRate)} | ${f.p50} | ${f.p99} | ${f.max} | ${f.skippedTicks} |`),
    ];
    process.stdout.write(lines.join("\n") + "\n");
    for (const f of fr) if (f.emitted !== f.written) process.stdout.write(`WARNING: interval ${f.intervalMs}: emitted ${f.emitted} of ${f.written}\n`);
  } finally {
    emu.child.kill("SIGTERM");
  }
}

runMain(main);
