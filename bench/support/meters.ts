// Pre-loading the demo-shaped table <db>.meters (ts, current FLOAT, voltage INT, phase FLOAT; tags groupid INT,
// location VARCHAR(16)) with `rows` rows over `subtables` subtables d_<g>, one row per subtable per ms from t0,
// through stmt2 binds of 1,000 rows per subtable.
import { openClient } from "../../lib/tdengine";
import type { TableBind } from "../../lib/tdengine/api";

export async function loadMeters(url: string, db: string, rows: number, subtables: number, t0: number, location: (g: number) => string): Promise<void> {
  const c = await openClient({ url, timeoutMs: 120_000 });
  await c.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
  await c.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))`);
  await c.close();
  const w = await openClient({ url, database: db, timeoutMs: 120_000 });
  const stmt = await w.prepare(`INSERT INTO ? USING ${db}.meters TAGS (?,?) VALUES (?,?,?,?)`);
  const perTable = rows / subtables;
  for (let i = 0; i < perTable; i += 1000) {
    const n = Math.min(1000, perTable - i);
    const ts = Array.from({ length: n }, (_, k) => t0 + i + k);
    const tables: TableBind[] = Array.from({ length: subtables }, (_, g) => ({
      table: `d_${g}`,
      tags: [g, location(g)],
      columns: [ts, ts.map((_, k) => 10 + ((k + g) % 7) * 0.5), ts.map((_, k) => 200 + (k % 40)), ts.map((_, k) => (k % 100) / 100)],
    }));
    await stmt.bind(tables);
    await stmt.exec();
  }
  await stmt.close();
  await w.close();
}
