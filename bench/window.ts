// Windowed-aggregate benchmark: the SQL a downsampled dashboard runs, over a pre-loaded table of --rows rows
// (default 1M, demo shape: 10 subtables, 1 row per subtable per ms) in the emulator (own process), through the
// project's client. Reports the wall time of each query (query + fetch + decode) and the rows it returned.
// Usage: node dist/bench/window.js [--rows 1000000] [--repeat 3]
import { openClient } from "../lib/tdengine";
import { loadMeters } from "./support/meters";
import { argNumber, machine, median, runMain, startEmulatorProcess } from "./support/procs";

const ROWS = argNumber("rows", 1_000_000);
const REPEAT = argNumber("repeat", 3);
const SUBTABLES = 10;
const DB = "windowbench";
const T0 = 1_700_000_000_000;

const QUERIES: [string, string][] = [
  ["1 s averages per location (INTERVAL + PARTITION BY)", `SELECT _wstart, location, AVG(current), AVG(voltage) FROM ${DB}.meters PARTITION BY location INTERVAL(1s)`],
  ["1 s averages, all meters (INTERVAL)", `SELECT _wstart, AVG(current), MAX(voltage), COUNT(*) FROM ${DB}.meters INTERVAL(1s)`],
  ["10 s windows sliding 1 s, FILL(PREV)", `SELECT _wstart, AVG(current) FROM ${DB}.meters WHERE ts >= ${T0} AND ts < ${T0 + ROWS / SUBTABLES} INTERVAL(10s) SLIDING(1s) FILL(PREV)`],
  ["one aggregate row (count, avg, stddev, spread)", `SELECT COUNT(*), AVG(current), STDDEV(current), SPREAD(voltage) FROM ${DB}.meters`],
];

async function main(): Promise<void> {
  const emu = await startEmulatorProcess();
  try {
    await loadMeters(emu.url, DB, ROWS, SUBTABLES, T0, (g) => `loc_${g % 5}`);
    const c = await openClient({ url: emu.url, timeoutMs: 300_000 });
    process.stdout.write(`${machine()}\nCommand: node dist/bench/window.js --rows ${ROWS} --repeat ${REPEAT}\n\n| query over ${ROWS.toLocaleString("en-US")} rows | rows returned | ms (median of ${REPEAT}) | runs ms |\n|---|---:|---:|---|\n`);
    for (const [name, sql] of QUERIES) {
      const times: number[] = [];
      let rows = 0;
      for (let r = 0; r < REPEAT; r++) {
        const t0 = performance.now();
        rows = (await c.query(sql)).rows.length;
        times.push(performance.now() - t0);
      }
      process.stdout.write(`| ${name} | ${rows.toLocaleString("en-US")} | ${Math.round(median(times))} | ${times.map((t) => Math.round(t)).join(" / ")} |\n`);
    }
    await c.close();
  } finally {
    await emu.stop();
  }
}

runMain(main, "window bench: ");
