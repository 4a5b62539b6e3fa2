// Databases, super tables and tables of the in-memory engine.
import { TableData, type SuperTable } from "./table.js";
import type { Precision } from "../types.js";

export interface Database {
  name: string;
  precision: Precision;
  stables: Map<string, SuperTable>;
  tables: Map<string, TableData>;
  createdAt: number;
}

/** Rows written to one table: new timestamps, and rows that replaced an existing (table, ts). */
export interface WriteCounts {
  inserted: number;
  overwritten: number;
}

export class Catalog {
  readonly dbs = new Map<string, Database>();
  constructor(readonly maxRowsPerTable: number) {}

  createTable(db: Database, name: string, stable: SuperTable | null, columns: SuperTable["columns"], tags: TableData["tags"]): TableData {
    const t = new TableData(name, columns, stable, tags, Date.now(), this.maxRowsPerTable);
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
