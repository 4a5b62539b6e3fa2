// What a statement runs against: the catalog, the session's current database, server facts.
import { CODE, TdError } from "../errors.js";
import type { Catalog, Database } from "../store/catalog.js";
import type { SuperTable, TableData } from "../store/table.js";
import type { Name } from "./ast.js";
import type { TmqState } from "../tmq/state.js";
import type { Connections } from "../connections.js";
import { zoneOf, type Zone } from "./zone.js";

export function sessionZone(ctx: EngineContext): Zone {
  return zoneOf(ctx.session.tz);
}

export interface Session {
  db: string | null;
  /** Connection time zone (`tz` in conn, options_connection); null = the emulator process's zone. */
  tz?: string | null;
}

export interface EngineContext {
  catalog: Catalog;
  serverVersion: string;
  session: Session;
  /** Topics and consumer groups (absent in engines without TMQ). */
  tmq?: TmqState;
  connections?: Connections;
}

export function resolveDb(ctx: EngineContext, name: string | undefined, forInsert = false): Database {
  const dbName = name ?? ctx.session.db;
  if (!dbName) {
    if (forInsert) throw new TdError(CODE.DB_NOT_SELECTED, "Database not specified or available");
    throw new TdError(CODE.DB_NOT_SPECIFIED, "Database not specified");
  }
  const db = ctx.catalog.dbs.get(dbName);
  if (!db) throw new TdError(CODE.DB_NOT_EXIST, "Database not exist");
  return db;
}

export type Target = { kind: "stable"; db: Database; stable: SuperTable } | { kind: "table"; db: Database; table: TableData };

export function resolveTarget(ctx: EngineContext, n: Name, forInsert = false): Target {
  const db = resolveDb(ctx, n.db, forInsert);
  const st = db.stables.get(n.name);
  if (st) return { kind: "stable", db, stable: st };
  const t = db.tables.get(n.name);
  if (t) return { kind: "table", db, table: t };
  throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${n.name}`);
}
