// Query benchmark (issue 17): a --rows row scan (default 1M, demo shape) of `SELECT * FROM meters` from the emulator
// in its own process, read by
//  - stream: the client's queryStream(), block by block (nothing kept);
//  - query: the client's query(), the whole result in memory;
//  - official: the official TDengine Node.js connector (WsSql.query + WSRows.next/getData), loaded at run time from
//    the folder named by OFFICIAL_CONNECTOR_DIR (built outside this repository; skipped when unset);
//  - node-block: a tdengine-query node in per-block mode inside Node-RED (node-red-node-test-helper, runtime from
//    NR_RUNTIME), counting the rows it sends.
// Each contender runs in its own child process so that its peak RSS (VmHWM) is its own; contenders alternate
// within each of --repeat rounds. rows/s counts from sending the query to the last row consumed.
// Usage: OFFICIAL_CONNECTOR_DIR=<dir> node dist/bench/query.js [--rows 1000000] [--repeat 3] [--contenders stream,node-block]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openClient } from "../lib/tdengine";
import type Helper from "../test/support/helper";
import type * as PackageInfo from "../test/support/package-info";
import { loadMeters } from "./support/meters";
import type * as Unspy from "./support/unspy";
import { argNumber, argString, distDir, fmt, machine, median, runMain, startEmulatorProcess } from "./support/procs";

const ROWS = argNumber("rows", 1_000_000);
const REPEAT = argNumber("repeat", 3);
const CHILD = argString("child", "");
const URL_ARG = argString("url", "");
const DB = "querybench";
const SQL = `SELECT * FROM ${DB}.meters`;
const OFFICIAL_DIR = process.env.OFFICIAL_CONNECTOR_DIR ?? "";

interface Outcome {
  rows: number;
  ms: number;
  peakRssMb: number;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

async function timed(fn: () => Promise<number>): Promise<Outcome> {
  const t0 = process.hrtime.bigint();
  const rows = await fn();
  return { rows, ms: Number(process.hrtime.bigint() - t0) / 1e6, peakRssMb: peakRssMb() };
}

async function childStream(url: string): Promise<Outcome> {
  const c = await openClient({ url, timeoutMs: 300_000 });
  try {
    return await timed(async () => {
      let rows = 0;
      let volts = 0;
      for await (const block of await c.queryStream(SQL)) {
        for (const r of block.rows) volts += r[2] as number;
        rows += block.rows.length;
      }
      if (volts <= 0) throw new Error("no values read");
      return rows;
    });
  } finally {
    await c.close();
  }
}

async function childQuery(url: string): Promise<Outcome> {
  const c = await openClient({ url, timeoutMs: 300_000 });
  try {
    return await timed(async () => {
      const r = await c.query(SQL);
      let volts = 0;
      for (const row of r.rows) volts += row[2] as number;
      if (volts <= 0) throw new Error("no values read");
      return r.rows.length;
    });
  } finally {
    await c.close();
  }
}

interface OfficialModule {
  WSConfig: new (url: string) => { setUser(u: string): void; setPwd(p: string): void };
  sqlConnect(conf: unknown): Promise<{ query(sql: string): Promise<{ next(): Promise<boolean>; getData(): unknown[] | undefined; close(): Promise<void> }>; close(): Promise<void> }>;
  destroy(): void;
}

async function childOfficial(url: string): Promise<Outcome> {
  if (!OFFICIAL_DIR) throw new Error("OFFICIAL_CONNECTOR_DIR is not set");
  const taos = require(OFFICIAL_DIR) as OfficialModule;
  const conf = new taos.WSConfig(url);
  conf.setUser("root");
  conf.setPwd("taosdata");
  const sql = await taos.sqlConnect(conf);
  try {
    return await timed(async () => {
      const res = await sql.query(SQL);
      let rows = 0;
      let volts = 0;
      while (await res.next()) {
        const r = res.getData() as unknown[];
        volts += r[2] as number;
        rows++;
      }
      await res.close();
      if (volts <= 0) throw new Error("no values read");
      return rows;
    });
  } finally {
    await sql.close();
    taos.destroy();
  }
}

async function childNodeBlock(url: string): Promise<Outcome> {
  // Loaded here only: the other contenders must not pay for Node-RED in their RSS.
  const helper = require("../test/support/helper") as typeof Helper;
  const { nodeModule } = require("../test/support/package-info") as typeof PackageInfo;
  const { unspy } = require("./support/unspy") as typeof Unspy;
  await helper.startServer();
  try {
    await helper.load(
      [nodeModule("tdengine-config"), nodeModule("tdengine-query")],
      [
        { id: "cfg", type: "tdengine-config", url, database: DB, timeout: 300_000 },
        { id: "q", type: "tdengine-query", server: "cfg", sql: SQL, output: "block", timestamps: "date", timeout: 3600, wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
      { cfg: { user: "root", password: "taosdata" } },
    );
    unspy(helper, ["q"]);
    const client = await (helper.getNode("cfg") as unknown as { getClient(ms: number): Promise<unknown> }).getClient(30_000);
    if (!client) throw new Error("no connection");
    return await timed(
      () =>
        new Promise<number>((resolve, reject) => {
          let rows = 0;
          helper.getNode("out").on("input", (m: { payload: unknown[]; parts: { count?: number } }) => {
            rows += m.payload.length;
            if (m.parts.count !== undefined) resolve(rows);
          });
          const q = helper.getNode("q") as unknown as { receive(msg: object): void; on(e: string, f: (...a: unknown[]) => void): void };
          q.receive({ payload: "go" });
          setTimeout(() => reject(new Error(`tdengine-query: ${rows} rows after 10 min`)), 600_000).unref();
        }),
    );
  } finally {
    await helper.unload();
    await helper.stopServer();
  }
}

const CONTENDERS: Record<string, (url: string) => Promise<Outcome>> = {
  stream: childStream,
  query: childQuery,
  official: childOfficial,
  "node-block": childNodeBlock,
};

function runChild(name: string, url: string): Promise<Outcome> {
  // The official connector writes its log files (logs/) into the working directory: give it a scratch folder.
  // (Node-RED, for node-block, needs the package's own working directory.)
  const cwd = name === "official" ? mkdtempSync(join(tmpdir(), "query-bench-")) : process.cwd();
  return new Promise<Outcome>((resolve, reject) => {
    const child = spawn(process.execPath, [join(distDir, "bench", "query.js"), "--child", name, "--url", url], { stdio: ["ignore", "pipe", "inherit"], cwd });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0) reject(new Error(`${name} exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as Outcome);
    });
  }).finally(() => {
    if (cwd !== process.cwd()) rmSync(cwd, { recursive: true, force: true });
  });
}

async function main(): Promise<void> {
  if (CHILD) {
    const o = await CONTENDERS[CHILD](URL_ARG);
    process.stdout.write(`${JSON.stringify(o)}\n`);
    return;
  }
  const only = argString("contenders", "").split(",").filter(Boolean);
  const names = ["stream", "query", ...(OFFICIAL_DIR ? ["official"] : []), "node-block"].filter((n) => only.length === 0 || only.includes(n));
  const emu = await startEmulatorProcess();
  const results = new Map<string, Outcome[]>(names.map((n) => [n, []]));
  try {
    const t0 = Date.now();
    await loadMeters(emu.url, DB, ROWS, 10, 1_700_000_000_000, (g) => `loc_${g}`);
    process.stderr.write(`query: loaded ${ROWS} rows in ${Date.now() - t0} ms\n`);
    await runChild("stream", emu.url); // warm-up of the emulator
    for (let r = 0; r < REPEAT; r++) {
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const n of order) {
        const o = await runChild(n, emu.url);
        if (o.rows !== ROWS) throw new Error(`${n} read ${o.rows} rows, expected ${ROWS}`);
        results.get(n)!.push(o);
        process.stderr.write(`query run ${r + 1} ${n}: ${fmt((o.rows / o.ms) * 1000)} rows/s, peak RSS ${o.peakRssMb.toFixed(0)} MB\n`);
      }
    }
  } finally {
    await emu.stop();
  }
  const rate = (n: string): number => median(results.get(n)!.map((o) => (o.rows / o.ms) * 1000));
  const rss = (n: string): number => median(results.get(n)!.map((o) => o.peakRssMb));
  const what: Record<string, string> = {
    stream: "client queryStream(), block by block",
    query: "client query(), whole result",
    official: "official connector 3.4.0 (query + next/getData)",
    "node-block": "tdengine-query node, per-block output (Node-RED)",
  };
  const lines = [
    `Machine: ${machine()}, Node ${process.version}, ${process.env.NR_RUNTIME ?? "node-red"}. Emulator in its own process; each contender in its own process. ${ROWS.toLocaleString("en-US")} rows (\`${SQL}\`: ts + 3 columns + 2 tags); median of ${REPEAT} rounds.`,
    "",
    "| reader | rows/s (median) | runs rows/s | peak RSS MB (median) |",
    "|---|---:|---|---:|",
    ...names.map((n) => `| ${what[n]} | ${fmt(rate(n))} | ${results.get(n)!.map((o) => fmt((o.rows / o.ms) * 1000)).join(" / ")} | ${rss(n).toFixed(0)} |`),
    "",
  ];
  if (results.has("official") && results.has("stream")) {
    lines.push(`Streaming API vs official: ${(rate("stream") / rate("official")).toFixed(2)}x rows/s (goal >= 1.25x), peak RSS ${rss("stream").toFixed(0)} vs ${rss("official").toFixed(0)} MB (goal: not more).`);
  }
  if (results.has("node-block") && results.has("stream")) lines.push(`tdengine-query per block vs the bare stream: ${((rate("node-block") / rate("stream") - 1) * 100).toFixed(1)} % rows/s (goal: within 10 %).`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

runMain(main);
