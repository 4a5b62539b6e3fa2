// Loads `rows` rows of the demo shape (10 subtables of <db>.meters: ts + current, voltage, phase, tags groupid,
// location) through stmt2, for the read benchmarks.
import { openClient } from "../../lib/tdengine";
import type { TableBind } from "../../lib/tdengine/api";

export const SUBTABLES = 10;
const T0 = 1_700_000_000_000;

export async function loadMeters(url: string, db: string, rows: number): Promise<void> {
  const c = await openClient({ url, timeoutMs: 120_000 });
  await c.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
  await c.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
  await c.close();
  const w = await openClient({ url, database: db, timeoutMs: 120_000 });
  const stmt = await w.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?,?) VALUES (?,?,?,?)`);
  const perTable = rows / SUBTABLES;
  for (let i = 0; i < perTable; i += 1000) {
    const n = Math.min(1000, perTable - i);
    const ts = Array.from({ length: n }, (_, k) => T0 + i + k);
    const tables: TableBind[] = Array.from({ length: SUBTABLES }, (_, g) => ({
      table: `d_${g}`,
      tags: [g, `loc_${g}`],
      columns: [ts, ts.map((_, k) => 10 + ((k + g) % 7) * 0.5), ts.map((_, k) => 200 + (k % 40)), ts.map((_, k) => (k % 100) / 100)],
    }));
    await stmt.bind(tables);
    await stmt.exec();
  }
  await stmt.close();
  await w.close();
}
