// Databases, super tables and tables of the in-memory engine, and the vgroups (with their write logs) tables
// are hashed to.
import { TableData, type SuperTable } from "./table.js";
import { Vgroup, vgroupIndex } from "./vgroups.js";
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

export class Catalog {
  readonly dbs = new Map<string, Database>();
  /** Vgroup ids are cluster-wide; TDengine's first database gets vgroups 2, 3, ... */
  private nextVgroupId = 2;
  private readonly walListeners = new Set<WalListener>();

  constructor(
    readonly maxRowsPerTable: number,
    /** Vgroups of a database created without VGROUPS (TDengine's default is 2). */
    readonly defaultVgroups = 2,
  ) {}

  createDatabase(name: string, precision: Precision, vgroups?: number): Database {
    const n = vgroups ?? this.defaultVgroups;
    const db: Database = { name, precision, stables: new Map(), tables: new Map(), createdAt: Date.now(), vgroups: [] };
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

  createTable(db: Database, name: string, stable: SuperTable | null, columns: SuperTable["columns"], tags: TableData["tags"]): TableData {
    const t = new TableData(name, columns, stable, tags, Date.now(), this.maxRowsPerTable);
    if (db.vgroups.length) t.vgroup = db.vgroups[vgroupIndex(db.name, name, db.vgroups.length)];
    db.tables.set(name, t);
    if (stable) stable.children.set(name, t);
    return t;
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
