// What tdengine-poll's late-row lookback costs: lib/poll with the demo flow's settings (interval 250 ms, pages of
// 10,000, Date timestamps) over a table written at a steady rate by stmt2 (every 10 ms) into the emulator in its
// own process, with lookback 0 and with lookback L (the example flow's 1000 ms), runs alternating. With a
// lookback, one row every --late-every ms (default 1000; 0 = none) is written 500 ms behind the newest (a late
// row) and must be emitted once.
// CPU of this process (writer + poller) and of the emulator over the measured window, median of --repeat runs.
// Usage: node dist/bench/lookback.js [--rate 50000] [--seconds 15] [--repeat 3] [--lookback 1000] [--late-every 1000]
// Prints a Markdown table; nothing is asserted (speed is not a test).
import { Poller, TickScheduler } from "../lib/poll";
import { openClient } from "../lib/tdengine";
import type { Stmt2 } from "../lib/tdengine/api";
import { argNumber, machine, median, runMain, sampleProcess, startEmulatorProcess, stopChild } from "./support/procs";

const RATE = argNumber("rate", 50_000);
const SECONDS = argNumber("seconds", 15);
const REPEAT = argNumber("repeat", 3);
const LOOKBACK = argNumber("lookback", 1000);
const LATE_EVERY = argNumber("late-every", 1000);
// One row per subtable per millisecond: the rate sets the number of subtables.
const TABLES = Math.max(1, Math.round(RATE / 1000));

interface Run {
  lookbackMs: number;
  written: number;
  emitted: number;
  duplicates: number;
  late: number;
  lateCaught: number;
  windowReads: number;
  polls: number;
  /** Rows the poller decoded (new ones and re-read ones): the work a lookback adds, whatever the machine's load. */
  rowsRead: number;
  cpuSelf: number;
  cpuEmulator: number;
}

async function insertAt(stmt: Stmt2, timestamps: number[], tables: string[]): Promise<void> {
  await stmt.bind(
    tables.map((table, t) => ({ table, tags: [t, `loc${t}`], columns: [timestamps, timestamps.map((_, i) => 10 + ((i + t) % 7)), timestamps.map(() => 220 + t), timestamps.map(() => 0.5)] })),
  );
  await stmt.exec();
}

async function once(url: string, emulatorPid: number, lookbackMs: number, n: number): Promise<Run> {
  const db = `bench_lb_${n}`;
  const admin = await openClient({ url, timeoutMs: 30_000 });
  await admin.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
  await admin.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
  const writer = await openClient({ url, database: db, timeoutMs: 30_000 });
  const stmt = await writer.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?, ?) VALUES (?, ?, ?, ?)`);
  const names = Array.from({ length: TABLES }, (_, t) => `d${t}`);
  const poller = new Poller({
    source: { mode: "table", table: { database: db, table: "meters", tsColumn: "ts", columns: ["current", "voltage", "phase"], tags: ["location", "groupid"] }, includeTbname: true },
    start: { kind: "now" },
    lookbackMs,
    pageSize: 10000,
    maxRowsPerPoll: 100000,
    timestamps: "date",
  });
  const seen = new Set<string>();
  let emitted = 0;
  let duplicates = 0;
  let windowReads = 0;
  let polls = 0;
  let rowsRead = 0;
  const sched = new TickScheduler(
    async () => {
      const r = await poller.poll(admin);
      polls++;
      rowsRead += r.rowsRead;
      if ((r as { lookbackRead?: boolean }).lookbackRead) windowReads++; // absent before the COUNT path
      for (const row of r.rows) {
        const k = `${String(row.tbname)}@${(row.ts as Date).getTime()}`;
        if (seen.has(k)) duplicates++;
        seen.add(k);
      }
      emitted += r.rows.length;
      return { again: !r.caughtUp };
    },
    { intervalMs: 250 },
  );
  await sched.trigger(); // the start watermark, before writing begins

  let written = 0;
  let late = 0;
  const lateKeys: string[] = [];
  let lastMs = Date.now();
  let lastLate = Date.now();
  let busy = false;
  const cpu0 = process.cpuUsage();
  const emu0 = sampleProcess(emulatorPid).cpuMs;
  const t0 = Date.now();
  sched.start();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (busy) return;
      const now = Date.now();
      if (now >= t0 + SECONDS * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      const ts: number[] = [];
      for (let m = lastMs + 1; m <= now; m++) ts.push(m);
      lastMs = now;
      if (ts.length === 0) return;
      busy = true;
      // One bind + exec at a time on the statement: a second bind before the first exec would replace it.
      let write = insertAt(stmt, ts, names);
      written += ts.length * TABLES;
      if (lookbackMs > 0 && LATE_EVERY > 0 && now - lastLate >= LATE_EVERY) {
        // A late row: 500 ms behind the newest, in a subtable of its own.
        lastLate = now;
        write = write.then(() => insertAt(stmt, [now - 500], ["late"]));
        lateKeys.push(`late@${now - 500}`);
        late++;
        written++;
      }
      write.then(
        () => (busy = false),
        (err: unknown) => {
          clearInterval(timer);
          reject(err);
        },
      );
    }, 10);
  });
  const drainUntil = Date.now() + 5000;
  while (emitted < written && Date.now() < drainUntil) await sched.trigger();
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuEmulator = (sampleProcess(emulatorPid).cpuMs - emu0) / 1000 / seconds;
  await sched.stop();
  await poller.close();
  await stmt.close();
  await writer.close();
  await admin.exec(`DROP DATABASE ${db}`);
  await admin.close();
  const lateCaught = lateKeys.filter((k) => seen.has(k)).length;
  return { lookbackMs, written, emitted, duplicates, late, lateCaught, windowReads, polls, rowsRead, cpuSelf: (cpu.user + cpu.system) / 1e6 / seconds, cpuEmulator };
}

async function main(): Promise<void> {
  const emu = await startEmulatorProcess();
  const runs: Run[] = [];
  let n = 0;
  try {
    for (let r = 0; r < REPEAT; r++) {
      for (const lb of [0, LOOKBACK]) {
        const x = await once(emu.url, emu.child.pid!, lb, ++n);
        runs.push(x);
        process.stderr.write(`lookback ${lb}: cpu self ${x.cpuSelf.toFixed(2)} emulator ${x.cpuEmulator.toFixed(2)}; emitted ${x.emitted}/${x.written}, dup ${x.duplicates}, late ${x.lateCaught}/${x.late}, window reads ${x.windowReads}/${x.polls}, rows read ${x.rowsRead}\n`);
      }
    }
  } finally {
    await stopChild(emu.child);
  }
  const f2 = (v: number): string => v.toFixed(2);
  const lines = [
    `Machine: ${machine()}. ${RATE.toLocaleString("en-US")} rows/s into ${TABLES} subtables, ${SECONDS} s per run, median of ${REPEAT} runs per setting (alternating); poll every 250 ms, pages of 10,000, Date timestamps; emulator in its own process.`,
    `Command: node dist/bench/lookback.js --rate ${RATE} --seconds ${SECONDS} --repeat ${REPEAT} --lookback ${LOOKBACK} --late-every ${LATE_EVERY}`,
    "",
    "| lookback | CPU writer + poller (cores) | CPU emulator (cores) | rows read per row emitted | rows emitted / written | duplicates | late rows caught | polls that re-read the window |",
    "|---:|---:|---:|---:|---|---:|---|---|",
  ];
  const by = new Map<number, Run[]>();
  for (const x of runs) by.set(x.lookbackMs, [...(by.get(x.lookbackMs) ?? []), x]);
  for (const [lb, xs] of by) {
    lines.push(
      `| ${lb} ms | ${f2(median(xs.map((x) => x.cpuSelf)))} | ${f2(median(xs.map((x) => x.cpuEmulator)))} | ${f2(median(xs.map((x) => x.rowsRead / Math.max(1, x.emitted))))} | ${xs.map((x) => `${x.emitted}/${x.written}`).join(", ")} | ${xs.map((x) => x.duplicates).join(", ")} | ${xs.map((x) => `${x.lateCaught}/${x.late}`).join(", ")} | ${xs.map((x) => `${x.windowReads}/${x.polls}`).join(", ")} |`,
    );
  }
  const base = by.get(0) ?? [];
  const lb = by.get(LOOKBACK) ?? [];
  if (base.length && lb.length) {
    const ratio = (g: (x: Run) => number): string => f2(median(lb.map(g)) / median(base.map(g)));
    lines.push("", `Lookback ${LOOKBACK} ms / lookback 0: writer + poller CPU ${ratio((x) => x.cpuSelf)}x, emulator CPU ${ratio((x) => x.cpuEmulator)}x, rows read per row emitted ${ratio((x) => x.rowsRead / Math.max(1, x.emitted))}x.`);
  }
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(main);
