// Benchmark of tdengine-write: rows/s through the node (node-red-node-test-helper flow: config -> write, row
// objects in msg.payload, done per message) versus the bare client (one prepared stmt2 statement, column arrays
// built from the same row objects, bind + exec per batch), in the same run, for batch sizes 100, 1000, 10000.
// The emulator runs in its own process so that its CPU time is not charged to the node.
// Usage: NR_RUNTIME=node-red-4 node dist/bench/write-node.js [--rows 200000] [--repeat 3] [--batch N (only this size)]
// Prints a Markdown table; nothing is asserted (speed is not a test). Besides the medians it gives the overhead
// as the median of per-round ratios (bare and node run back to back) and as implied by CPU time per row, which
// vary less than wall-clock rows/s on a shared machine.
// Each run is a process of its own (bare and node alternating), which first writes WARMUP_ROWS rows the same way
// unmeasured: in one shared process each side paid for the other's garbage, and the node's code was measured
// before the JIT had finished with it (its first 200,000 rows cost 2-5x the later ones).
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { openClient } from "../lib/tdengine";
import type { TableBind, TdengineClientApi } from "../lib/tdengine/api";
import helper from "../test/support/helper";
import { nodeModule } from "../test/support/package-info";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { argString, runMain, runScript } from "./support/procs";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg("rows", 200_000);
const REPEAT = arg("repeat", 3);
/** Set in a child process: the side it measures, against the emulator at --url, into database --db. */
const SIDE = argString("side", "");
const WARMUP_ROWS = 500_000;
const ONLY = arg("batch", 0);
const BATCHES = ONLY > 0 ? [ONLY] : [100, 1000, 10000];
const SUBTABLES = 10;

type Row = { ts: number; current: number; voltage: number; phase: number; groupid: number; location: string };

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

/** Distinct rows (ts advances per row) so nothing is overwritten; `offset` keeps runs apart. */
function makeRows(n: number, offset: number): Row[] {
  const base = 1_700_000_000_000 + offset;
  return Array.from({ length: n }, (_, i) => ({
    ts: base + Math.floor(i / SUBTABLES),
    current: 10 + (i % 7) * 0.5,
    voltage: 200 + (i % 40),
    phase: (i % 100) / 100,
    groupid: i % SUBTABLES,
    location: `loc_${i % SUBTABLES}`,
  }));
}

function chunks<T>(a: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  return out;
}

/** The bare client: what a hand-written producer does, rows -> per-subtable columns -> bind + exec. */
interface Run {
  rowsPerSec: number;
  /** CPU time of this process per row (user + system), microseconds. */
  cpuUsPerRow: number;
}

function finish(rows: number, t0: bigint, cpu0: NodeJS.CpuUsage): Run {
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { rowsPerSec: rows / s, cpuUsPerRow: (cpu.user + cpu.system) / rows };
}

async function bareClient(client: TdengineClientApi, db: string, rows: Row[], batch: number): Promise<Run> {
  await client.exec(`USE ${db}`);
  const stmt = await client.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?,?) VALUES (?,?,?,?)`);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const part of chunks(rows, batch)) {
    const byTable = new Map<string, TableBind & { columns: unknown[][] }>();
    for (const r of part) {
      const name = `d_${r.groupid}`;
      let b = byTable.get(name);
      if (!b) {
        b = { table: name, tags: [r.groupid, r.location], columns: [[], [], [], []] };
        byTable.set(name, b);
      }
      b.columns[0].push(r.ts);
      b.columns[1].push(r.current);
      b.columns[2].push(r.voltage);
      b.columns[3].push(r.phase);
    }
    await stmt.bind([...byTable.values()]);
    await stmt.exec();
  }
  const run = finish(rows.length, t0, cpu0);
  await stmt.close();
  return run;
}

/** The Node.prototype methods the test helper wraps (its PROXY_METHODS), as they were before any load. */
const WRAPPED = ["log", "status", "warn", "error", "debug", "trace", "send"] as const;
const nodeProto = (helper as unknown as { _NodePrototype: Record<string, unknown> })._NodePrototype;
const originalMethods = new Map(WRAPPED.map((m) => [m, nodeProto[m]]));

function restoreNodePrototype(): void {
  for (const [m, f] of originalMethods) nodeProto[m] = f;
}

/** Through the node: one message per batch, at most 2 messages outstanding, batch size = message size. */
async function throughNode(url: string, db: string, rows: Row[], batch: number): Promise<Run> {
  await helper.load(
    [nodeModule("tdengine-config"), nodeModule("tdengine-write")],
    [
      { id: "cfg", type: "tdengine-config", url, database: db, timeout: 30000 },
      {
        id: "w",
        type: "tdengine-write",
        server: "cfg",
        stable: "meters",
        subtable: "d_${groupid}",
        columns: "ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT",
        tags: "groupid INT, location VARCHAR(16)",
        autoCreate: true,
        batchSize: batch,
        flushInterval: 50,
        maxBuffered: 1_000_000,
        output: true,
        wires: [["out"]],
      },
      { id: "out", type: "helper" },
    ],
    { cfg: { user: "root", password: "taosdata" } },
  );
  // The test helper wraps Node.prototype.send/status/log/... in sinon spies that keep every call's arguments
  // (every payload) alive, and over each spy a Proxy that schedules an event per call; a real runtime has
  // neither. Restoring the sandbox removes the spies but not the Proxies, so the original methods are put back.
  (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
  restoreNodePrototype();
  const w = helper.getNode("w");
  // A wired node copies Node.prototype.send onto itself when the flow starts (the Proxy, at that time).
  const own = w as unknown as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(own, "send") && own.send !== nodeProto.send && typeof own.send === "function") own.send = nodeProto.send;
  // Warm-up: connect, create, prepare.
  let warm = false;
  await new Promise<void>((resolve) => {
    helper.getNode("out").on("input", () => {
      if (!warm) {
        warm = true;
        resolve();
      }
    });
    w.receive({ payload: [{ ...rows[0], ts: rows[0].ts - 1_000_000 }] });
  });
  const parts = chunks(rows, batch);
  let next = 0;
  let finished = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    helper.getNode("out").on("input", (m: { payload: { written: number; rejected: number } }) => {
      if (m.payload.rejected > 0) reject(new Error(`${m.payload.rejected} rows rejected`));
      finished++;
      if (finished === parts.length) resolve();
      else if (next < parts.length) w.receive({ payload: parts[next++] });
    });
    for (let i = 0; i < 2 && next < parts.length; i++) w.receive({ payload: parts[next++] });
  });
  const run = finish(rows.length, t0, cpu0);
  await helper.unload();
  restoreNodePrototype();
  return run;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** A child process: one side, warm-up rows first (earlier timestamps, same database), then the measured rows. */
async function child(side: string, url: string, db: string, batch: number): Promise<void> {
  const warm = makeRows(WARMUP_ROWS, -10_000_000);
  const rows = makeRows(ROWS, 0);
  let run: Run;
  if (side === "bare") {
    const client = await openClient({ url, user: "root", password: "taosdata", timeoutMs: 60000 });
    await bareClient(client, db, warm, batch);
    run = await bareClient(client, db, rows, batch);
    await client.close();
  } else {
    await helper.startServer();
    await throughNode(url, db, warm, batch);
    run = await throughNode(url, db, rows, batch);
    await helper.stopServer();
  }
  process.stdout.write(JSON.stringify(run) + "\n");
}

/** One side's run in a process of its own (this script again, with --side). */
async function runChild(side: string, url: string, db: string, batch: number): Promise<Run> {
  return JSON.parse(await runScript("write-node.js", ["--side", side, "--url", url, "--db", db, "--batch", String(batch), "--rows", String(ROWS)])) as Run;
}

async function main(): Promise<void> {
  if (SIDE !== "") return child(SIDE, argString("url", ""), argString("db", ""), ONLY);
  const emu = await startEmulatorProcess();
  try {
    await measure(emu.url);
  } finally {
    emu.child.kill();
  }
}

async function measure(url: string): Promise<void> {
  const client = await openClient({ url, user: "root", password: "taosdata", timeoutMs: 60000 });
  const lines: string[] = [];
  lines.push(`Machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${runtimeName} ${runtimeVersion}`);
  lines.push(`Rows per run: ${ROWS}, ${SUBTABLES} subtables, median of ${REPEAT} runs each (alternating bare / node), each run a process of its own after ${WARMUP_ROWS.toLocaleString("en-US")} rows of warm-up`);
  lines.push("");
  lines.push(
    "| batch rows | bare client rows/s (median / best) | through tdengine-write rows/s (median / best) | overhead, median rows/s | overhead, median of paired rounds | CPU µs/row bare | CPU µs/row node | overhead from CPU µs/row (1 − bare/node) |",
  );
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|");
  let run = 0;
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  for (const batch of BATCHES) {
    const bare: Run[] = [];
    const node: Run[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const db = `bench${++run}`;
      await client.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
      await client.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
      bare.push(await runChild("bare", url, db, batch));
      await client.exec(`DROP DATABASE ${db}`);
      const db2 = `bench${++run}`;
      node.push(await runChild("node", url, db2, batch));
      await client.exec(`DROP DATABASE ${db2}`);
    }
    const b = median(bare.map((x) => x.rowsPerSec));
    const n = median(node.map((x) => x.rowsPerSec));
    const bBest = Math.max(...bare.map((x) => x.rowsPerSec));
    const nBest = Math.max(...node.map((x) => x.rowsPerSec));
    const cb = median(bare.map((x) => x.cpuUsPerRow));
    const cn = median(node.map((x) => x.cpuUsPerRow));
    // Paired per round (bare and node ran back to back), which cancels much of the drift of a shared machine.
    const paired = median(bare.map((x, i) => 1 - node[i].rowsPerSec / x.rowsPerSec));
    const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
    lines.push(`| ${batch} | ${fmt(b)} / ${fmt(bBest)} | ${fmt(n)} / ${fmt(nBest)} | ${pct((b - n) / b)} | ${pct(paired)} | ${cb.toFixed(2)} | ${cn.toFixed(2)} | ${pct((cn - cb) / cn)} |`);
    console.error(`batch ${batch}: bare ${bare.map((x) => Math.round(x.rowsPerSec)).join(", ")}; node ${node.map((x) => Math.round(x.rowsPerSec)).join(", ")}`);
  }
  await client.close();
  console.log(lines.join("\n"));
}

runMain(main);
