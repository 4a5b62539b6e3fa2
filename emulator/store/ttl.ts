// Table TTL as TDengine applies it: a normal or child table with TTL n > 0 is dropped by the first expiry sweep at
// or after its creation time + n × ttlUnit seconds (TDengine's vnode TTL index keys a table by exactly that delete
// time; its mnode asks the vnodes to drop expired tables every ttlPushInterval seconds). One map entry per table
// with a TTL, no timer per table: a sweep walks the entries, so memory is bounded by the tables that have a TTL.
import type { Database } from "./catalog.js";
import type { TableData } from "./table.js";

/** TDengine's ttlUnit: 1..31572500 seconds, default 86400 (TTL counts days). */
export const TTL_UNIT_DEFAULT = 86400;
export const TTL_UNIT_MAX = 31572500;
/** TDengine's ttlPushInterval default: seconds between expiry sweeps. */
export const TTL_PUSH_INTERVAL_DEFAULT = 10;
/** TTL values are clamped to INT32_MAX, as TDengine stores `TTL 2100000000020` as 2147483647. */
export const TTL_MAX = 2147483647;

export class TtlIndex {
  /** Tables with a TTL > 0 and their database (to check they still exist when the sweep reaches them). */
  private readonly entries = new Map<TableData, Database>();

  constructor(readonly unitSeconds: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Record (or, with 0, forget) a table's TTL in days of ttlUnit. */
  set(db: Database, t: TableData, ttl: number): void {
    t.ttl = ttl;
    if (ttl > 0) this.entries.set(t, db);
    else this.entries.delete(t);
  }

  forget(t: TableData): void {
    this.entries.delete(t);
  }

  /** When the table expires (ms since the epoch): its creation time plus ttl units, as TDengine computes it. */
  deleteTimeMs(t: TableData): number {
    return t.createdAt + t.ttl * this.unitSeconds * 1000;
  }

  /**
   * The tables expired at nowMs that still exist. Entries of tables dropped meanwhile (DROP TABLE / STABLE /
   * DATABASE, or a new table of the same name) are forgotten here, so the map never outgrows the live TTL tables.
   */
  expired(nowMs: number, exists: (db: Database, t: TableData) => boolean): { db: Database; table: TableData }[] {
    const out: { db: Database; table: TableData }[] = [];
    for (const [t, db] of this.entries) {
      if (!exists(db, t)) this.entries.delete(t);
      else if (nowMs >= this.deleteTimeMs(t)) out.push({ db, table: t });
    }
    return out;
  }
}
