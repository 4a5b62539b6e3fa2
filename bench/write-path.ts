// CPU per row of tdengine-write's own work, without I/O and without Node-RED: lib/write (map, check, batch,
// group by subtable) + the stmt2 encoder, against the bare client's way (rows -> per-subtable column arrays ->
// the same encoder), in one process, runs alternating. The statement is a stub whose bind encodes the payload
// exactly as the client does before sending it. CPU time varies far less than wall-clock rows/s on a shared
// machine, so this shows the node's overhead where bench/write-node.ts (through the emulator) cannot.
// Usage: node dist/bench/write-path.js [--rows 500000] [--repeat 11] [--batch N (only this size)]
import { declaredSchema, WritePipeline } from "../lib/write";
import type { Stmt2, Stmt2Field, TableBind, TdengineClientApi } from "../lib/tdengine/api";
import { encodeStmt2InsertBind } from "../lib/tdengine/stmt2-bind-encoder";
import { argNumber, machine, median, runMain } from "./support/procs";

const ROWS = argNumber("rows", 500_000);
const REPEAT = argNumber("repeat", 11);
const ONLY = argNumber("batch", 0);
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

async function main(): Promise<void> {
  const rows = makeRows(ROWS);
  const lines = [
    `Machine: ${machine()}. ${ROWS.toLocaleString("en-US")} rows per run into ${SUBTABLES} subtables, no I/O (the stub statement encodes the stmt2 payload); ${REPEAT} runs each, alternating, the first 2 of each dropped as warm-up.`,
    "",
    "| batch rows | bare client CPU µs/row (median / min) | tdengine-write path CPU µs/row (median / min) | bare / node (medians) | bare / node (minima) |",
    "|---:|---:|---:|---:|---:|",
  ];
  for (const batch of BATCHES) {
    const parts: Row[][] = [];
    for (let i = 0; i < rows.length; i += batch) parts.push(rows.slice(i, i + batch));
    const b: number[] = [];
    const n: number[] = [];
    for (let r = 0; r < REPEAT + 2; r++) {
      const x = await cpuPerRow(() => bare(parts));
      const y = await cpuPerRow(() => node(parts, batch));
      if (r >= 2) {
        b.push(x);
        n.push(y);
      }
    }
    const f3 = (v: number): string => v.toFixed(3);
    lines.push(`| ${batch.toLocaleString("en-US")} | ${f3(median(b))} / ${f3(Math.min(...b))} | ${f3(median(n))} / ${f3(Math.min(...n))} | ${(median(b) / median(n)).toFixed(2)} | ${(Math.min(...b) / Math.min(...n)).toFixed(2)} |`);
  }
  process.stdout.write(lines.join("\n") + `\n(${bytes} payload bytes encoded)\n`);
}

runMain(main);
