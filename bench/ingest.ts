// Ingest benchmark: rows/s into the emulator (in its own process) by the bare client with stmt2, with multi-row
// INSERT SQL and with schemaless line protocol, for batch sizes 100 / 1,000 / 10,000; the client's CPU cost with
// no I/O (building + encoding a batch); and, through bench/write-node.js run as a child process, tdengine-write
// inside Node-RED as a ratio to the bare stmt2 client measured in that same run. With OFFICIAL_CONNECTOR_DIR naming
// the built folder of TDengine's official Node.js connector (outside this repository), its stmt2 writes of the same
// rows and batches are measured too. Both stmt2 clients run each time in a fresh child process of the same shape
// (the official connector's log files go to a scratch working directory), SQL and schemaless in this one.
// Usage: [OFFICIAL_CONNECTOR_DIR=<dir>] node dist/bench/ingest.js [--rows 200000] [--repeat 3] [--no-node]
// Prints Markdown; writes nothing; asserts nothing.
import type { Stmt2Field, TableBind, TdengineClientApi } from "../lib/tdengine/api";
import { openClient } from "../lib/tdengine";
import { encodeStmt2InsertBind } from "../lib/tdengine/stmt2-bind-encoder";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { argFlag, argNumber, argString, distDir, fmt, machine, markdownRows, median, parseCount, runMain, runScript, sampleProcess, startEmulatorProcess } from "./support/procs";

const ROWS = argNumber("rows", 200_000);
const REPEAT = argNumber("repeat", 3);
const BATCHES = [100, 1000, 10_000];
const SUBTABLES = 10;
const T0 = 1_700_000_000_000;

type Row = { ts: number; current: number; voltage: number; phase: number; groupid: number; location: string };
type Method = "stmt2" | "sql" | "schemaless" | "official";
const OFFICIAL_DIR = process.env.OFFICIAL_CONNECTOR_DIR ?? "";
const METHODS: Method[] = ["stmt2", "sql", "schemaless", ...(OFFICIAL_DIR ? (["official"] as const) : [])];
const CHILD = argString("child", "");

/** Distinct rows: SUBTABLES subtables, one row per subtable per millisecond. */
function makeRows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: T0 + Math.floor(i / SUBTABLES),
    current: 10 + (i % 7) * 0.5,
    voltage: 200 + (i % 40),
    phase: (i % 100) / 100,
    groupid: i % SUBTABLES,
    location: `loc_${i % SUBTABLES}`,
  }));
}

/** What a hand-written producer does for stmt2: rows -> per-subtable column arrays. */
function toBinds(rows: Row[]): TableBind[] {
  const byTable = new Map<number, TableBind & { columns: unknown[][] }>();
  for (const r of rows) {
    let b = byTable.get(r.groupid);
    if (!b) {
      b = { table: `d_${r.groupid}`, tags: [r.groupid, r.location], columns: [[], [], [], []] };
      byTable.set(r.groupid, b);
    }
    b.columns[0].push(r.ts);
    b.columns[1].push(r.current);
    b.columns[2].push(r.voltage);
    b.columns[3].push(r.phase);
  }
  return [...byTable.values()];
}

/** Multi-row INSERT text with one clause per subtable (auto-create through USING ... TAGS). */
function toSql(rows: Row[]): string {
  const byTable = new Map<number, string[]>();
  for (const r of rows) {
    let v = byTable.get(r.groupid);
    if (!v) byTable.set(r.groupid, (v = []));
    v.push(`(${r.ts},${r.current},${r.voltage},${r.phase})`);
  }
  let sql = "INSERT INTO";
  for (const [g, values] of byTable) sql += ` d_${g} USING meters TAGS (${g},'loc_${g}') VALUES ${values.join("")}`;
  return sql;
}

/** InfluxDB line protocol, ms precision. */
function toLines(rows: Row[]): string[] {
  return rows.map((r) => `meters_sml,location=${r.location},groupid=${r.groupid} current=${r.current},voltage=${r.voltage}i32,phase=${r.phase} ${r.ts}`);
}

function chunks<T>(a: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  return out;
}

const FIELDS: Stmt2Field[] = [
  { name: "tbname", type: 8, precision: "ms", scale: 0, bytes: 271, bindType: "tbname" },
  { name: "groupid", type: 4, precision: "ms", scale: 0, bytes: 4, bindType: "tag" },
  { name: "location", type: 8, precision: "ms", scale: 0, bytes: 18, bindType: "tag" },
  { name: "ts", type: 9, precision: "ms", scale: 0, bytes: 8, bindType: "column" },
  { name: "current", type: 6, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
  { name: "voltage", type: 4, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
  { name: "phase", type: 6, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
];

const METHOD_NAMES: Record<Method, string> = {
  stmt2: "stmt2 bind + exec",
  sql: "multi-row INSERT SQL",
  schemaless: "schemaless line protocol",
  official: "official connector 3.4.0, stmt2 (per subtable: setTableName, setTags, bind; exec)",
};

interface Measured {
  rowsPerSec: number;
  /** Emulator CPU time / wall time during the run (1.0 = one core busy). */
  emuCpu: number;
  /** This process's CPU time / wall time. */
  clientCpu: number;
}

/** One run: ROWS rows in `batch`-row requests, awaited one after the other, into a fresh database. */
async function ingest(admin: TdengineClientApi, url: string, emuPid: number, method: Method, batch: number, db: string): Promise<Measured> {
  await admin.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
  await admin.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
  // The two stmt2 clients each run in a fresh process of the same shape, so neither pays for the other's (or the
  // other methods') garbage; SQL and schemaless run here.
  if (method === "official" || method === "stmt2") return ingestInChild(method, admin, url, emuPid, batch, db);
  const c = await openClient({ url, database: db, timeoutMs: 120_000 });
  const parts = chunks(makeRows(ROWS), batch);
  // Warm-up request (JIT, subtable creation) outside the timing, with rows that do not collide.
  const warm = makeRows(SUBTABLES).map((r) => ({ ...r, ts: r.ts - 86_400_000 }));
  if (method === "sql") await c.exec(toSql(warm));
  else await c.schemalessInsert(toLines(warm), { protocol: "influx", precision: "ms" });

  const emu0 = sampleProcess(emuPid).cpuMs;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const part of parts) {
    if (method === "sql") await c.exec(toSql(part));
    else await c.schemalessInsert(toLines(part), { protocol: "influx", precision: "ms" });
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const emuMs = sampleProcess(emuPid).cpuMs - emu0;
  const table = method === "schemaless" ? "meters_sml" : "meters";
  const count = Number((await c.query(`SELECT COUNT(*) FROM ${db}.${table}`)).rows[0][0]);
  await c.close();
  await admin.exec(`DROP DATABASE ${db}`);
  if (count !== ROWS + SUBTABLES) throw new Error(`${method} batch ${batch}: ${count} rows stored, expected ${ROWS + SUBTABLES}`);
  return { rowsPerSec: (ROWS / wallMs) * 1000, emuCpu: emuMs / wallMs, clientCpu: (cpu.user + cpu.system) / 1000 / wallMs };
}

interface ChildOutcome {
  wallMs: number;
  cpuMs: number;
}

/**
 * A stmt2 client's run (the project's or the official connector's) in a child process; the emulator's CPU is read
 * around the child's timed loop. The child may collect its garbage before that loop (--expose-gc): the 1M row
 * objects it has just made are then old, instead of being promoted by the scavenges of the timed loop, which
 * charged the benchmark's own rows to whichever client ran at that moment (27-38 % of either client's samples).
 */
async function ingestInChild(method: "stmt2" | "official", admin: TdengineClientApi, url: string, emuPid: number, batch: number, db: string): Promise<Measured> {
  const cwd = mkdtempSync(join(tmpdir(), "ingest-bench-"));
  try {
    const args = ["--expose-gc", join(distDir, "bench", "ingest.js"), "--child", method, "--url", url, "--db", db, "--batch", String(batch), "--rows", String(ROWS)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit", "ipc"], cwd });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    let emu0 = 0;
    // The child says when its timed loop starts; its own start-up (loading the connector, connecting) is not counted.
    child.on("message", (m: { type: string }) => {
      if (m.type === "start") emu0 = sampleProcess(emuPid).cpuMs;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const emuMs = sampleProcess(emuPid).cpuMs - emu0;
    if (code !== 0) throw new Error(`${method} child exited with ${code}: ${out}`);
    const o = JSON.parse(out.trim().split("\n").pop() ?? "") as ChildOutcome;
    const count = Number((await admin.query(`SELECT COUNT(*) FROM ${db}.meters`)).rows[0][0]);
    await admin.exec(`DROP DATABASE ${db}`);
    if (count !== ROWS + CHILD_WARMUP_ROWS) throw new Error(`${method} batch ${batch}: ${count} rows stored, expected ${ROWS + CHILD_WARMUP_ROWS}`);
    return { rowsPerSec: (ROWS / o.wallMs) * 1000, emuCpu: emuMs / o.wallMs, clientCpu: o.cpuMs / o.wallMs };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

interface OfficialParams {
  setTimestamp(v: number[]): void;
  setFloat(v: number[]): void;
  setInt(v: number[]): void;
  setVarchar(v: string[]): void;
}
interface OfficialStmt {
  prepare(sql: string): Promise<void>;
  newStmtParam(): OfficialParams;
  setTableName(name: string): Promise<void>;
  setTags(p: OfficialParams): Promise<void>;
  bind(p: OfficialParams): Promise<void>;
  batch(): Promise<void>;
  exec(): Promise<void>;
  close(): Promise<void>;
}
interface OfficialModule {
  WSConfig: new (url: string) => { setUser(u: string): void; setPwd(p: string): void; setDb(d: string): void };
  sqlConnect(conf: unknown): Promise<{ stmtInit(): Promise<OfficialStmt>; close(): Promise<void> }>;
  destroy(): void;
}

/**
 * Rows a stmt2 child writes before its timed loop, a day earlier than the measured ones: enough for the JIT to be
 * done with either client's encoder (a fresh process's first batches run unoptimised code).
 */
const CHILD_WARMUP_ROWS = 200_000;
const warmRows = (): Row[] => makeRows(CHILD_WARMUP_ROWS).map((r) => ({ ...r, ts: r.ts - 86_400_000 }));

/**
 * A stmt2 child's measured part, the same for both clients: the rows made first, the warm-up rows written, a full
 * GC, the parent told that timing starts (it reads the emulator's CPU then), the rows written in `batch`-row calls.
 */
async function timedChildRun(write: (rows: Row[]) => Promise<void>, batch: number): Promise<ChildOutcome> {
  const parts = chunks(makeRows(ROWS), batch);
  for (const part of chunks(warmRows(), batch)) await write(part);
  collectGarbage();
  process.send?.({ type: "start" });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const part of parts) await write(part);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** A full collection before a child's timed loop, when the child runs with --expose-gc (see ingestInChild). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Child: the same rows and batches through the official connector's stmt2 API (per subtable: name, tags, columns). */
async function childOfficial(url: string, db: string, batch: number): Promise<void> {
  const taos = require(OFFICIAL_DIR) as OfficialModule;
  const conf = new taos.WSConfig(url);
  conf.setUser("root");
  conf.setPwd("taosdata");
  conf.setDb(db);
  const sql = await taos.sqlConnect(conf);
  const stmt = await sql.stmtInit();
  await stmt.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?,?) VALUES (?,?,?,?)`);
  const write = async (rows: Row[]): Promise<void> => {
    for (const b of toBinds(rows)) {
      const [groupid, location] = b.tags ?? [];
      await stmt.setTableName(String(b.table));
      const tags = stmt.newStmtParam();
      tags.setInt([groupid as number]);
      tags.setVarchar([location as string]);
      await stmt.setTags(tags);
      const p = stmt.newStmtParam();
      p.setTimestamp(b.columns[0] as number[]);
      p.setFloat(b.columns[1] as number[]);
      p.setInt(b.columns[2] as number[]);
      p.setFloat(b.columns[3] as number[]);
      await stmt.bind(p);
    }
    await stmt.batch();
    await stmt.exec();
  };
  const outcome = await timedChildRun(write, batch);
  await stmt.close();
  await sql.close();
  taos.destroy();
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

/** Child: the project client's stmt2 run in a fresh process, shaped like childOfficial (same rows, same warm-up). */
async function childProject(url: string, db: string, batch: number): Promise<void> {
  const c = await openClient({ url, database: db, timeoutMs: 120_000 });
  const stmt = await c.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?,?) VALUES (?,?,?,?)`);
  const write = async (rows: Row[]): Promise<void> => {
    await stmt.bind(toBinds(rows));
    await stmt.exec();
  };
  const outcome = await timedChildRun(write, batch);
  await stmt.close();
  await c.close();
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

/** CPU cost without I/O: rows -> request body (stmt2: column arrays + binary encode; SQL text; lines). */
function encodeOnly(method: Method, batch: number): number {
  const parts = chunks(makeRows(ROWS), batch);
  const one = (p: Row[]): number =>
    method === "stmt2" || method === "official" ? encodeStmt2InsertBind(FIELDS, toBinds(p)).byteLength : method === "sql" ? toSql(p).length : toLines(p).join("\n").length;
  one(parts[0]); // warm-up
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (const p of parts) bytes += one(p);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes === 0) throw new Error("nothing encoded");
  return ROWS / s;
}

async function main(): Promise<void> {
  if (CHILD === "official") return childOfficial(argString("url", ""), argString("db", ""), argNumber("batch", 1000));
  if (CHILD === "stmt2") return childProject(argString("url", ""), argString("db", ""), argNumber("batch", 1000));
  const emu = await startEmulatorProcess();
  const admin = await openClient({ url: emu.url, timeoutMs: 120_000 });
  const lines: string[] = [];
  lines.push(`Machine: ${machine()}. Emulator in its own process. ${ROWS.toLocaleString("en-US")} rows per run into 10 subtables, requests awaited one after the other; median of ${REPEAT} runs (methods interleaved within each repetition); the two stmt2 clients each in a fresh process per run, after ${CHILD_WARMUP_ROWS.toLocaleString("en-US")} rows of warm-up and a full GC.`);
  lines.push("");
  lines.push("| method | batch rows | rows/s (median) | runs rows/s | client CPU (cores) | emulator CPU (cores) | encode only rows/s (no I/O) |");
  lines.push("|---|---:|---:|---|---:|---:|---:|");
  let n = 0;
  const results = new Map<string, Measured[]>();
  try {
    for (const batch of BATCHES) {
      for (let r = 0; r < REPEAT; r++) {
        for (const m of METHODS) {
          const key = `${m}/${batch}`;
          const got = await ingest(admin, emu.url, emu.pid, m, batch, `ingest_${++n}`);
          results.set(key, [...(results.get(key) ?? []), got]);
          process.stderr.write(`ingest ${key} run ${r + 1}: ${fmt(got.rowsPerSec)} rows/s\n`);
        }
      }
      for (const m of METHODS) {
        const runs = results.get(`${m}/${batch}`)!;
        // The official connector's own encoder is not measured without I/O (its encoder is internal).
        const enc = m === "official" ? NaN : median(Array.from({ length: REPEAT }, () => encodeOnly(m, batch)));
        lines.push(
          `| ${METHOD_NAMES[m]} | ${fmt(batch)} | ${fmt(median(runs.map((x) => x.rowsPerSec)))} | ${runs.map((x) => fmt(x.rowsPerSec)).join(" / ")} | ${median(runs.map((x) => x.clientCpu)).toFixed(2)} | ${median(runs.map((x) => x.emuCpu)).toFixed(2)} | ${fmt(enc)} |`,
        );
      }
    }
  } finally {
    await admin.close();
    await emu.stop();
  }
  if (OFFICIAL_DIR) {
    lines.push("");
    lines.push("| batch rows | project client stmt2 rows/s | official connector stmt2 rows/s | project / official |");
    lines.push("|---:|---:|---:|---:|");
    for (const batch of BATCHES) {
      const own = median(results.get(`stmt2/${batch}`)!.map((x) => x.rowsPerSec));
      const off = median(results.get(`official/${batch}`)!.map((x) => x.rowsPerSec));
      lines.push(`| ${fmt(batch)} | ${fmt(own)} | ${fmt(off)} | ${(own / off).toFixed(2)}x |`);
    }
  }
  lines.push("");
  lines.push("Encode only = building the request body from row objects (stmt2: column arrays + binary bind encoding; SQL: the statement text; schemaless: the lines), no socket; CPU of one core.");

  if (!argFlag("no-node")) {
    // tdengine-write inside Node-RED vs the bare stmt2 client, both measured in the same run by write-node.js.
    const runtime = process.env.NR_RUNTIME ?? "node-red";
    const out = await runScript("write-node.js", ["--rows", String(ROWS), "--repeat", String(REPEAT)], { NR_RUNTIME: runtime });
    const rows = markdownRows(out).filter((r) => /^\d+$/.test(r[0].replace(/,/g, "")));
    lines.push("");
    lines.push(`tdengine-write inside Node-RED (${runtime}, node-red-node-test-helper) vs the bare stmt2 client, same run (bench/write-node.js, ${ROWS.toLocaleString("en-US")} rows, median of ${REPEAT}); its own output first, then the ratios:`);
    lines.push("");
    lines.push(out.trim());
    lines.push("");
    lines.push("| batch rows | bare client rows/s | tdengine-write rows/s | ratio node / bare |");
    lines.push("|---:|---:|---:|---:|");
    for (const r of rows) {
      // Cells may read "median / best": the median comes first.
      const bare = parseCount(r[1].split("/")[0]);
      const node = parseCount(r[2].split("/")[0]);
      lines.push(`| ${r[0]} | ${fmt(bare)} | ${fmt(node)} | ${(node / bare).toFixed(2)} |`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(main);
