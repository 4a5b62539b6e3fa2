// Databases, super tables and tables of the in-memory engine, and the vgroups (with their write logs) tables
// are hashed to.
import { TableData, type SuperTable } from "./table.js";
import { Vgroup, vgroupIndex } from "./vgroups.js";
import { TtlIndex, TTL_UNIT_DEFAULT } from "./ttl.js";
import type { Precision } from "../types.js";

export interface Database {
  name: string;
  precision: Precision;
  stables: Map<string, SuperTable>;
  tables: Map<string, TableData>;
  createdAt: number;
  vgroups: Vgroup[];
}

/** Rows written to one table: new timestamps, and rows that replaced an existing (table, ts). */
export interface WriteCounts {
  inserted: number;
  overwritten: number;
}

/** Called after rows were written to a vgroup's log (TMQ consumers waiting in poll wake up). */
export type WalListener = (db: Database, vgroup: Vgroup) => void;

/** Time and TTL of a catalog: tests inject a clock and a short ttlUnit (TDengine's own test hook). */
export interface CatalogClock {
  /** Milliseconds since the epoch: creation times and TTL expiry. Default Date.now. */
  now?: () => number;
  /** TDengine's ttlUnit: seconds one TTL unit lasts (default 86400, TTL counts days). */
  ttlUnitSeconds?: number;
}

export class Catalog {
  readonly dbs = new Map<string, Database>();
  readonly now: () => number;
  readonly ttl: TtlIndex;
  /** Vgroup ids are cluster-wide; TDengine's first database gets vgroups 2, 3, ... */
  private nextVgroupId = 2;
  private readonly walListeners = new Set<WalListener>();

  constructor(
    readonly maxRowsPerTable: number,
    /** Vgroups of a database created without VGROUPS (TDengine's default is 2). */
    readonly defaultVgroups = 2,
    clock: CatalogClock = {},
  ) {
    this.now = clock.now ?? Date.now;
    this.ttl = new TtlIndex(clock.ttlUnitSeconds ?? TTL_UNIT_DEFAULT);
  }

  createDatabase(name: string, precision: Precision, vgroups?: number): Database {
    const n = vgroups ?? this.defaultVgroups;
    const db: Database = { name, precision, stables: new Map(), tables: new Map(), createdAt: this.now(), vgroups: [] };
    for (let i = 0; i < n; i++) db.vgroups.push(new Vgroup(this.nextVgroupId++));
    this.dbs.set(name, db);
    return db;
  }

  onWal(listener: WalListener): () => void {
    this.walListeners.add(listener);
    return () => this.walListeners.delete(listener);
  }

  /** Log a write request in the table's vgroup (one version per request). */
  logWrite(db: Database, t: TableData, ts: ArrayLike<bigint>, n: number): void {
    const vg = t.vgroup;
    if (!vg || n === 0) return;
    vg.append(t, ts, n);
    for (const l of this.walListeners) l(db, vg);
  }

  /** A normal (stable null) or child table; ttl in ttlUnits (0 = never expires). */
  createTable(db: Database, name: string, stable: SuperTable | null, columns: SuperTable["columns"], tags: TableData["tags"], ttl = 0): TableData {
    const t = new TableData(name, columns, stable, tags, this.now(), this.maxRowsPerTable);
    if (db.vgroups.length) t.vgroup = db.vgroups[vgroupIndex(db.name, name, db.vgroups.length)];
    db.tables.set(name, t);
    if (stable) stable.children.set(name, t);
    this.ttl.set(db, t, ttl);
    return t;
  }

  /** Drop a normal or child table: gone from the database, its super table and SHOW / ins_tables. */
  dropTable(db: Database, t: TableData): void {
    if (db.tables.get(t.name) === t) db.tables.delete(t.name);
    if (t.stable?.children.get(t.name) === t) t.stable.children.delete(t.name);
    this.ttl.forget(t);
  }

  /**
   * TDengine's TTL sweep: drop every table whose creation time + TTL × ttlUnit has passed (at now, default the
   * catalog's clock). Returns the dropped tables as "db.table". The emulator runs it every ttlPushInterval seconds;
   * tests call it directly for a deterministic expiry.
   */
  expireTables(now = this.now()): string[] {
    const gone = this.ttl.expired(now, (db, t) => this.dbs.get(db.name) === db && db.tables.get(t.name) === t);
    for (const { db, table } of gone) this.dropTable(db, table);
    return gone.map(({ db, table }) => `${db.name}.${table.name}`);
  }

  /** Write counters of every table, keyed "db.table" (super tables' children included). */
  writeCounts(): Record<string, WriteCounts> {
    const out: Record<string, WriteCounts> = {};
    for (const db of this.dbs.values()) {
      for (const t of db.tables.values()) out[`${db.name}.${t.name}`] = { inserted: t.inserted, overwritten: t.overwritten };
    }
    return out;
  }
}
