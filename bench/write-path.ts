// CPU per row of tdengine-write's own work, without I/O and without Node-RED: lib/write (map, check, batch,
// group by subtable) + the stmt2 encoder, against the bare client's way (rows -> per-subtable column arrays ->
// the same encoder). The statement is a stub whose bind encodes the payload exactly as the client does before
// sending it. CPU time varies far less than wall-clock rows/s on a shared machine, so this shows the node's
// overhead where bench/write-node.ts (through the emulator) cannot.
// Each side runs in its own process (processes alternating bare / node): in one shared heap each side's runs
// paid for the garbage the other left, and the ratio moved between 0.52 and 1.19 with GC timing alone.
// Usage: node dist/bench/write-path.js [--rows 500000] [--repeat 11] [--batch N (only this size)]
import { declaredSchema, WritePipeline } from "../lib/write";
import type { Stmt2, Stmt2Field, TableBind, TdengineClientApi } from "../lib/tdengine/api";
import { encodeStmt2InsertBind } from "../lib/tdengine/stmt2-bind-encoder";
import { argNumber, argString, machine, median, runMain, runScript } from "./support/procs";

const ROWS = argNumber("rows", 500_000);
/** Measured runs per side (each process makes RUNS_PER_PROCESS of them after its warm-up). */
const REPEAT = argNumber("repeat", 11);
const ONLY = argNumber("batch", 0);
/** Set in a child process: the side it measures. */
const SIDE = argString("side", "");
// Warm-up by rows, not runs: the node's path takes about 1,000,000 rows to reach its steady cost (JIT and heap
// sizing; its first 200,000-row runs cost 2-5x the later ones), the bare loop far fewer.
const WARMUP_RUNS = Math.max(2, Math.ceil(1_000_000 / ROWS));
const RUNS_PER_PROCESS = 4;
const BATCHES = ONLY > 0 ? [ONLY] : [1000, 10000];
const SUBTABLES = 10;

type Row = { ts: number; current: number; voltage: number; phase: number; groupid: number; location: string };

const field = (name: string, type: number, bindType: Stmt2Field["bindType"]): Stmt2Field => ({ name, type, precision: "ms", scale: 0, bytes: 0, bindType });
/** What stmt2_prepare reports for INSERT INTO ? USING meters TAGS (?,?) VALUES (?,?,?,?). */
const FIELDS = [field("tbname", 8, "tbname"), field("groupid", 4, "tag"), field("location", 8, "tag"), field("ts", 9, "column"), field("current", 6, "column"), field("voltage", 4, "column"), field("phase", 6, "column")];
let bytes = 0;
const stmt = {
  id: 1,
  isInsert: true,
  fields: FIELDS,
  bind: async (tables: TableBind[]) => void (bytes += encodeStmt2InsertBind(FIELDS, tables).byteLength),
  exec: async () => 0,
  close: async () => undefined,
} as unknown as Stmt2;
const client = { closed: false, exec: async () => ({ affectedRows: 0 }), prepare: async () => stmt } as unknown as TdengineClientApi;

function makeRows(n: number): Row[] {
  const base = 1_700_000_000_000;
  return Array.from({ length: n }, (_, i) => ({ ts: base + Math.floor(i / SUBTABLES), current: 10 + (i % 7) * 0.5, voltage: 200 + (i % 40), phase: (i % 100) / 100, groupid: i % SUBTABLES, location: `loc_${i % SUBTABLES}` }));
}

/** As bench/write-node.ts's bare client: per batch, rows -> per-subtable column arrays -> bind + exec. */
async function bare(parts: Row[][]): Promise<void> {
  for (const part of parts) {
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
}

const SCHEMA = declaredSchema("ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT", "groupid INT, location VARCHAR(16)");

/** As tdengine-write does with one message per batch, two messages outstanding (bench/write-node.ts). */
async function node(parts: Row[][], batch: number): Promise<void> {
  const p = new WritePipeline({
    getClient: async () => client,
    database: "db",
    stable: "meters",
    schema: SCHEMA,
    autoCreate: { precision: "ms" },
    batchRows: batch,
    flushMs: 50,
    maxBufferedRows: 1_000_000,
    map: { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "d_${groupid}" }, strict: false },
  });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < parts.length) {
      const o = await p.write({ payload: parts[next++] });
      if (o.failed.length > 0) throw new Error(`row refused: ${o.failed[0].reason}`);
    }
  };
  await Promise.all([lane(), lane()]);
  await p.close(1000);
}

async function cpuPerRow(f: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / ROWS;
}

/** A child process: WARMUP_RUNS + `runs` runs of one side at one batch size; prints the measured µs/row as JSON. */
async function child(side: string, batch: number, runs: number): Promise<void> {
  const rows = makeRows(ROWS);
  const parts: Row[][] = [];
  for (let i = 0; i < rows.length; i += batch) parts.push(rows.slice(i, i + batch));
  const out: number[] = [];
  for (let r = 0; r < WARMUP_RUNS + runs; r++) {
    const us = await cpuPerRow(() => (side === "bare" ? bare(parts) : node(parts, batch)));
    if (r >= WARMUP_RUNS) out.push(us);
  }
  process.stdout.write(JSON.stringify({ us: out, bytes }) + "\n");
}

/** One side's runs in a process of its own (this script again, with --side). */
async function runChild(side: string, batch: number, runs: number): Promise<{ us: number[]; bytes: number }> {
  const out = await runScript("write-path.js", ["--side", side, "--batch", String(batch), "--rows", String(ROWS), "--repeat", String(runs)]);
  return JSON.parse(out) as { us: number[]; bytes: number };
}

async function main(): Promise<void> {
  if (SIDE !== "") return child(SIDE, ONLY, REPEAT);
  const lines = [
    `Machine: ${machine()}. ${ROWS.toLocaleString("en-US")} rows per run into ${SUBTABLES} subtables, no I/O (the stub statement encodes the stmt2 payload); ${REPEAT} runs each, each side in its own processes (${RUNS_PER_PROCESS} runs per process after ${WARMUP_RUNS} of warm-up, ${(WARMUP_RUNS * ROWS).toLocaleString("en-US")} rows), processes alternating.`,
    "",
    "| batch rows | bare client CPU µs/row (median / min) | tdengine-write path CPU µs/row (median / min) | bare / node (medians) | bare / node (minima) |",
    "|---:|---:|---:|---:|---:|",
  ];
  for (const batch of BATCHES) {
    const b: number[] = [];
    const n: number[] = [];
    while (n.length < REPEAT) {
      const runs = Math.min(RUNS_PER_PROCESS, REPEAT - n.length);
      b.push(...(await runChild("bare", batch, runs)).us);
      const x = await runChild("node", batch, runs);
      n.push(...x.us);
      bytes += x.bytes;
    }
    const f3 = (v: number): string => v.toFixed(3);
    lines.push(`| ${batch.toLocaleString("en-US")} | ${f3(median(b))} / ${f3(Math.min(...b))} | ${f3(median(n))} / ${f3(Math.min(...n))} | ${(median(b) / median(n)).toFixed(2)} | ${(Math.min(...b) / Math.min(...n)).toFixed(2)} |`);
  }
  process.stdout.write(lines.join("\n") + `\n(${bytes} payload bytes encoded by the node's runs)\n`);
}

runMain(main);
