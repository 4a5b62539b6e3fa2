// Throughput of one tdengine-subscribe node (issue 16's "≥ 200k rows/s through one subscribe node"): the emulator
// (own process) holds --rows rows written into a super table that a topic covers; a tdengine-subscribe node in
// Node-RED (node-red-node-test-helper) starts from the earliest offset and drains the topic; rows/s emitted on its
// output until every row is out, per commit mode. The writer is not running meanwhile, so the figure is the
// reader's own ceiling, not shared with a producer on the same 2 cores. The bare client's scan of the same rows
// (`SELECT * FROM meters`, decoded) is measured in the same run as a reference.
// Usage: npm run build && NR_RUNTIME=node-red-4 node dist/bench/subscribe-throughput.js [--rows 1000000] [--repeat 3]
//          [--commits sent,interval]
import { openClient } from "../lib/tdengine";
import helper from "../test/support/helper";
import { nodeModule } from "../test/support/package-info";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { loadMeters } from "./support/meters";
import { argNumber, argString, fmt, machine, median, runMain, startEmulatorProcess } from "./support/procs";
import { measure, measuredRow, scanMeters, type Measured } from "./support/reader";
import { unspy } from "./support/unspy";
import { rowsEmitted } from "./support/drain";

const ROWS = argNumber("rows", 1_000_000);
const REPEAT = argNumber("repeat", 3);
const COMMITS = argString("commits", "sent,interval").split(",").filter(Boolean);
const DB = "subbench";
const TOPIC = "subbench_topic";
const SUBTABLES = 10;
const T0 = 1_700_000_000_000;

/** A subscription may deliver a row again (at-least-once), so only fewer rows than written is an error. */
function checkRows(rows: number): void {
  if (rows < ROWS) throw new Error(`read ${rows} rows, expected ${ROWS}`);
}

const scan = (url: string): Promise<number> => scanMeters(url, DB);

let runs = 0;

/** A fresh node id and group per run, so each run starts from the earliest offset, not from a committed one. */
async function subscribeNode(url: string, commit: string): Promise<number> {
  const id = `s${++runs}`;
  await helper.load(
    [nodeModule("tdengine-config"), nodeModule("tdengine-subscribe")],
    [
      { id: "cfg", type: "tdengine-config", url, database: DB, timeout: 120_000 },
      { id, type: "tdengine-subscribe", server: "cfg", mode: "topics", topics: TOPIC, groupId: `bench_${id}`, clientId: "", offsetReset: "earliest", commit, commitInterval: 1000, output: "block", timestamps: "date", includeTbname: true, pollWait: 500, keyField: "", wires: [["out"]] },
      { id: "out", type: "helper" },
    ],
    { cfg: { user: "root", password: "taosdata" } },
  );
  unspy(helper, [id]);
  const got = await rowsEmitted(helper, "out", ROWS, "tdengine-subscribe");
  await helper.unload();
  return got;
}

async function main(): Promise<void> {
  const emu = await startEmulatorProcess();
  await helper.startServer();
  const scans: Measured[] = [];
  const subs = new Map<string, Measured[]>(COMMITS.map((c) => [c, []]));
  try {
    const c = await openClient({ url: emu.url, timeoutMs: 120_000 });
    await c.exec(`CREATE DATABASE IF NOT EXISTS ${DB} PRECISION 'ms'`);
    await c.exec(`CREATE STABLE IF NOT EXISTS ${DB}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
    await c.exec(`CREATE TOPIC IF NOT EXISTS ${TOPIC} AS SELECT ts, current, voltage, phase, groupid, location FROM ${DB}.meters`);
    await c.close();
    const tl = Date.now();
    await loadMeters(emu.url, DB, ROWS, SUBTABLES, T0, (g) => `loc_${g}`);
    process.stderr.write(`subscribe-throughput: loaded ${ROWS} rows in ${Date.now() - tl} ms\n`);
    await scan(emu.url); // warm-up
    for (let r = 0; r < REPEAT; r++) {
      scans.push(await measure(emu.pid, () => scan(emu.url), checkRows));
      for (const commit of COMMITS) subs.get(commit)!.push(await measure(emu.pid, () => subscribeNode(emu.url, commit), checkRows));
      process.stderr.write(`run ${r + 1}: scan ${fmt(scans[r].rowsPerSec)} rows/s; ${COMMITS.map((k) => `subscribe (commit ${k}) ${fmt(subs.get(k)![r].rowsPerSec)} rows/s`).join("; ")}\n`);
    }
  } finally {
    await helper.stopServer();
    await emu.stop();
  }
  const commitText: Record<string, string> = { sent: "commit after each message (default)", interval: "commit every 1 s", manual: "manual commit" };
  const lines = [
    `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}. Emulator in its own process (2 vgroups). ${ROWS.toLocaleString("en-US")} rows (10 subtables, ts + 3 columns + 2 tags) under topic ${TOPIC}; median of ${REPEAT} runs.`,
    "",
    "| reader | rows/s (median) | runs rows/s | reader CPU (cores) | emulator CPU (cores) |",
    "|---|---:|---|---:|---:|",
    measuredRow("bare client `SELECT * FROM meters`, rows decoded (reference)", scans),
    ...COMMITS.map((k) => measuredRow(`tdengine-subscribe, earliest offset, one message per block, Date timestamps, ${commitText[k] ?? k}`, subs.get(k)!)),
    "",
    ...COMMITS.map((k) => `Goal ≥ 200,000 rows/s through one subscribe node, ${commitText[k] ?? k}: ${median(subs.get(k)!.map((x) => x.rowsPerSec)) >= 200_000 ? "met" : "missed"}.`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(main);
