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

export class Catalog {
  readonly dbs = new Map<string, Database>();
  constructor(readonly maxRowsPerTable: number) {}

  createTable(db: Database, name: string, stable: SuperTable | null, columns: SuperTable["columns"], tags: TableData["tags"]): TableData {
    const t = new TableData(name, columns, stable, tags, Date.now(), this.maxRowsPerTable);
    db.tables.set(name, t);
    if (stable) stable.children.set(name, t);
    return t;
  }
}
