// Read benchmark against the emulator in its own process, over a pre-loaded table of --rows rows (default 1M,
// demo shape, 10 subtables):
//  - the bare client: `SELECT * FROM meters` (query + fetch_raw_block until finished), rows/s decoded;
//  - the bare client reading what the poll node reads, the way it reads it: the same columns and tbname,
//    `WHERE ts >= ? ORDER BY ts LIMIT 10000` pages through prepared statements (decoded, not de-duplicated,
//    no row objects);
//  - tdengine-poll inside Node-RED (node-red-node-test-helper, runtime from NR_RUNTIME): start "everything",
//    rows/s emitted on its output (pages of 10,000 rows, messages of up to --max-rows-per-poll rows) until all rows are out.
// The emulator's CPU during each measurement is reported so that its share is not mistaken for the client's.
// Usage: node dist/bench/read.js [--rows 1000000] [--repeat 3] [--max-rows-per-poll 10000 (the node's default)] [--profile-dir DIR]
// With --profile-dir, the emulator runs under --cpu-prof, this process is profiled during the tdengine-poll runs only,
// and the top functions of both by self time are printed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openClient } from "../lib/tdengine";
import { POLLER_DEFAULTS, type QueryClient } from "../lib/poll";
import { StatementCache } from "../lib/poll/statement-cache";
import helper from "../test/support/helper";
import { nodeModule } from "../test/support/package-info";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { unspy } from "./support/unspy";
import { rowsEmitted } from "./support/drain";
import { topSelfMarkdown } from "./support/profile-top";
import { profileSelf } from "./support/profile-self";
import { loadMeters } from "./support/meters";
import { argNumber, argString, fmt, machine, median, runMain, startEmulatorProcess } from "./support/procs";
import { measure, measuredRow, scanMeters, type Measured } from "./support/reader";

const ROWS = argNumber("rows", 1_000_000);
const REPEAT = argNumber("repeat", 3);
const DB = "readbench";
const SUBTABLES = 10;
const T0 = 1_700_000_000_000;
const PROFILE_DIR = argString("profile-dir", "");
/** The poll node's "max rows per message" (by default the node's own default). */
const MAX_ROWS_PER_POLL = argNumber("max-rows-per-poll", POLLER_DEFAULTS.maxRowsPerPoll);

function load(url: string): Promise<void> {
  return loadMeters(url, DB, ROWS, SUBTABLES, T0, (g) => `loc_${g}`);
}

/** Every poll and scan must read the table's rows exactly: fewer is a loss, more a duplicate. */
function checkRows(rows: number): void {
  if (rows !== ROWS) throw new Error(`read ${rows} rows, expected ${ROWS}`);
}

const scan = (url: string): Promise<number> => scanMeters(url, DB);

const PAGED_SQL = `SELECT \`ts\`, \`current\`, \`voltage\`, \`phase\`, \`groupid\`, \`location\`, tbname FROM \`${DB}\`.\`meters\` WHERE \`ts\` >= ? ORDER BY \`ts\` LIMIT 10000`;

/** The poll node's statements by the bare client: pages from the newest timestamp of the previous page. */
async function pagedScan(url: string): Promise<number> {
  const c = await openClient({ url, timeoutMs: 300_000 });
  const q: QueryClient = c; // the client honours a statement cache as the poller passes it
  const statements = new StatementCache();
  let rows = 0;
  let bound = 0n;
  try {
    for (;;) {
      const page = (await q.queryWithParams(PAGED_SQL, [bound], { statements })).rows;
      // Rows at the bound come again (the poll node de-duplicates them): count each timestamp's rows once.
      for (const r of page) if (BigInt(r[0] as number) > bound || bound === 0n) rows++;
      if (page.length < 10000) return rows;
      bound = BigInt(page[page.length - 1][0] as number);
    }
  } finally {
    await statements.close();
    await c.close();
  }
}

let pollRuns = 0;

const POLL_PROFILE = "reader-poll.cpuprofile";
let pollProfile: ReturnType<typeof profileSelf> | undefined;

async function pollNode(url: string): Promise<number> {
  // A fresh node id per run: each run must start from "everything", never from a watermark kept by a previous one.
  const id = `p${++pollRuns}`;
  await helper.load(
    [nodeModule("tdengine-config"), nodeModule("tdengine-poll")],
    [
      { id: "cfg", type: "tdengine-config", url, database: DB, timeout: 120_000 },
      { id, type: "tdengine-poll", server: "cfg", mode: "table", table: "meters", columns: "current, voltage, phase", tags: "groupid, location", includeTbname: true, tsColumn: "ts", interval: 250, start: "everything", pageSize: 10000, maxRowsPerPoll: MAX_ROWS_PER_POLL, timestamps: "date", wires: [["out"]] },
      { id: "out", type: "helper" },
    ],
    { cfg: { user: "root", password: "taosdata" } },
  );
  unspy(helper, [id]);
  const got = await rowsEmitted(helper, "out", ROWS, "tdengine-poll");
  await helper.unload();
  return got;
}

async function main(): Promise<void> {
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const emu = await startEmulatorProcess(PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR, "--cpu-prof-name", "emulator-read.cpuprofile"] : []);
  await helper.startServer();
  const scans: Measured[] = [];
  const polls: Measured[] = [];
  const paged: Measured[] = [];
  try {
    const tl = Date.now();
    await load(emu.url);
    process.stderr.write(`read: loaded ${ROWS} rows in ${Date.now() - tl} ms\n`);
    await scan(emu.url); // warm-up of both sides
    for (let r = 0; r < REPEAT; r++) {
      scans.push(await measure(emu.pid, () => scan(emu.url), checkRows));
      paged.push(await measure(emu.pid, () => pagedScan(emu.url), checkRows));
      // Only the last poll run is profiled (the profiler's own cost would skew the figure of every run).
      if (PROFILE_DIR && r === REPEAT - 1) pollProfile = profileSelf();
      polls.push(await measure(emu.pid, () => pollNode(emu.url), checkRows));
      await pollProfile?.stop(join(PROFILE_DIR, POLL_PROFILE));
      pollProfile = undefined;
      process.stderr.write(`read run ${r + 1}: scan ${fmt(scans[r].rowsPerSec)} rows/s, paged ${fmt(paged[r].rowsPerSec)} rows/s, tdengine-poll ${fmt(polls[r].rowsPerSec)} rows/s\n`);
    }
  } finally {
    await helper.stopServer();
    await emu.stop();
  }
  const ratio = (a: Measured[], b: Measured[]): string => (median(a.map((x) => x.rowsPerSec)) / median(b.map((x) => x.rowsPerSec))).toFixed(2);
  const lines = [
    `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}. Emulator in its own process. ${ROWS.toLocaleString("en-US")} rows (10 subtables, ts + 3 columns + 2 tags); median of ${REPEAT} runs, scan and poll alternating.`,
    "",
    "| reader | rows/s (median) | runs rows/s | reader CPU (cores) | emulator CPU (cores) |",
    "|---|---:|---|---:|---:|",
    measuredRow(`bare client \`SELECT * FROM meters\`, ${ROWS.toLocaleString("en-US")} rows decoded`, scans),
    measuredRow("bare client, the poll node's statements: same columns + tbname, `WHERE ts >= ? ORDER BY ts LIMIT 10000` pages, rows decoded", paged),
    measuredRow(`tdengine-poll node, start everything, rows emitted (pages 10,000, messages ≤ ${MAX_ROWS_PER_POLL.toLocaleString("en-US")}, Date timestamps)`, polls),
    "",
    `Ratio tdengine-poll / bare scan (same run): ${ratio(polls, scans)}; tdengine-poll / the same statements by the bare client: ${ratio(polls, paged)}.`,
  ];
  if (PROFILE_DIR) {
    lines.push("", "Emulator, top functions by self time over the whole run:", "", topSelfMarkdown(join(PROFILE_DIR, "emulator-read.cpuprofile"), 12));
    lines.push("", "Node-RED process (tdengine-poll), top functions by self time over the last poll run (profiled):", "", topSelfMarkdown(join(PROFILE_DIR, POLL_PROFILE), 20));
  }
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(main);
