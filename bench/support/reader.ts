// Measuring one reader of a pre-loaded `meters` table in the emulator (own process): rows/s, the reader's CPU and
// the emulator's CPU over the same run, so the emulator's share is not mistaken for the reader's; and the bare
// client's `SELECT *` scan that the read and subscribe benches report as their reference.
import { openClient } from "../../lib/tdengine";
import { fmt, median, sampleProcess } from "./procs";

export interface Measured {
  rowsPerSec: number;
  /** CPU of this process (the reader) in cores over the run. */
  selfCpu: number;
  /** CPU of the emulator process in cores over the run. */
  emuCpu: number;
}

/**
 * Times `fn` (which returns the rows it read). `checkRows` throws when the count is wrong: each bench has its own
 * rule (a poll must read every row exactly, a subscription may deliver more).
 */
export async function measure(emuPid: number, fn: () => Promise<number>, checkRows: (rows: number) => void): Promise<Measured> {
  const e0 = sampleProcess(emuPid).cpuMs;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const rows = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  checkRows(rows);
  return { rowsPerSec: (rows / ms) * 1000, selfCpu: (c.user + c.system) / 1000 / ms, emuCpu: (sampleProcess(emuPid).cpuMs - e0) / ms };
}

/** The bare client's `SELECT * FROM <db>.meters`, every block decoded; returns the row count. */
export async function scanMeters(url: string, db: string): Promise<number> {
  const c = await openClient({ url, timeoutMs: 300_000 });
  try {
    return (await c.query(`SELECT * FROM ${db}.meters`)).rows.length;
  } finally {
    await c.close();
  }
}

/** A markdown row: reader, median rows/s, every run's rows/s, median reader CPU, median emulator CPU. */
export function measuredRow(what: string, m: Measured[]): string {
  return `| ${what} | ${fmt(median(m.map((x) => x.rowsPerSec)))} | ${m.map((x) => fmt(x.rowsPerSec)).join(" / ")} | ${median(m.map((x) => x.selfCpu)).toFixed(2)} | ${median(m.map((x) => x.emuCpu)).toFixed(2)} |`;
}
