// information_schema tables the connectors and users read (ins_databases, ins_stables, ins_tables, ins_tags,
// ins_columns), built from the catalog on each query with TDengine's column names and types.
import { notSupported } from "../errors.js";
import { T, typeName, type ColumnDef, type Value } from "../types.js";
import type { EngineContext } from "./context.js";
import { DATABASE_COLUMNS, databaseRows } from "./ddl.js";
import { formatDecimal } from "./values.js";
import { CONNECTION_COLUMNS } from "../connections.js";
import { CONSUMER_COLUMNS, consumerRows, SUBSCRIPTION_COLUMNS, subscriptionRows, TOPIC_COLUMNS, topicRows } from "../tmq/sql.js";

export interface SystemTable {
  columns: ColumnDef[];
  rows: Value[][];
}

const v = (name: string, bytes: number): ColumnDef => ({ name, type: T.VARCHAR, bytes });
const ts = (name: string): ColumnDef => ({ name, type: T.TIMESTAMP, bytes: 8 });
const int = (name: string): ColumnDef => ({ name, type: T.INT, bytes: 4 });
const big = (name: string): ColumnDef => ({ name, type: T.BIGINT, bytes: 8 });

/** Type text as ins_columns / ins_tags show it: VARCHAR(16), NCHAR(8), INT. */
export function declaredType(c: ColumnDef): string {
  if (c.type === T.VARCHAR || c.type === T.NCHAR || c.type === T.VARBINARY || c.type === T.GEOMETRY) return `${typeName(c.type)}(${c.bytes})`;
  return typeName(c.type, c.decPrecision, c.decScale);
}

function tagText(c: ColumnDef, val: Value): Value {
  if (val === null) return null;
  if (val instanceof Uint8Array) return Buffer.from(val).toString("hex");
  if (typeof val === "bigint" && (c.type === T.DECIMAL || c.type === T.DECIMAL64)) return formatDecimal(val, c.decScale ?? 0);
  return String(val);
}

export function systemTable(ctx: EngineContext, name: string): SystemTable {
  const dbs = [...ctx.catalog.dbs.values()];
  switch (name) {
    case "ins_databases":
      return { columns: DATABASE_COLUMNS.map((c) => ({ name: c.name, type: c.type, bytes: c.length })), rows: databaseRows(ctx) };
    case "ins_stables":
      return {
        columns: [v("stable_name", 192), v("db_name", 64), ts("create_time"), int("columns"), int("tags"), ts("last_update"), v("table_comment", 1024)],
        rows: dbs.flatMap((db) => [...db.stables.values()].map((s) => [s.name, db.name, BigInt(s.createdAt), s.columns.length, s.tags.length, BigInt(s.createdAt), null])),
      };
    case "ins_tables":
      return {
        columns: [v("table_name", 192), v("db_name", 64), ts("create_time"), int("columns"), v("stable_name", 192), big("uid"), int("vgroup_id"), int("ttl"), v("table_comment", 1024), v("type", 21)],
        rows: dbs.flatMap((db) =>
          [...db.tables.values()].map((t, i) => [t.name, db.name, BigInt(t.createdAt), t.columns.length, t.stable?.name ?? null, BigInt(i + 1), t.vgroup?.id ?? null, t.ttl, null, t.stable ? "CHILD_TABLE" : "NORMAL_TABLE"]),
        ),
      };
    case "ins_tags":
      return {
        columns: [v("table_name", 192), v("db_name", 64), v("stable_name", 192), v("tag_name", 64), v("tag_type", 64), v("tag_value", 16384)],
        rows: dbs.flatMap((db) =>
          [...db.tables.values()].flatMap((t) => (t.stable ? t.stable.tags.map((c, i) => [t.name, db.name, t.stable!.name, c.name, declaredType(c), tagText(c, t.tags[i] ?? null)]) : [])),
        ),
      };
    case "ins_columns":
      return {
        columns: [v("table_name", 192), v("db_name", 64), v("table_type", 21), v("col_name", 64), v("col_type", 32), int("col_length"), int("col_precision"), int("col_scale"), int("col_nullable")],
        rows: dbs.flatMap((db) => [
          ...[...db.stables.values()].flatMap((s) => s.columns.map((c) => [s.name, db.name, "SUPER_TABLE", c.name, declaredType(c), c.bytes, c.decPrecision ?? 0, c.decScale ?? 0, 1])),
          ...[...db.tables.values()].flatMap((t) => t.columns.map((c) => [t.name, db.name, t.stable ? "CHILD_TABLE" : "NORMAL_TABLE", c.name, declaredType(c), c.bytes, c.decPrecision ?? 0, c.decScale ?? 0, 1])),
        ]),
      };
    case "perf_connections":
      if (ctx.connections) return { columns: CONNECTION_COLUMNS, rows: ctx.connections.rows() };
      break;
    case "ins_topics":
      if (ctx.tmq) return { columns: defs(TOPIC_COLUMNS), rows: topicRows(ctx.tmq) };
      break;
    case "ins_subscriptions":
      if (ctx.tmq) return { columns: defs(SUBSCRIPTION_COLUMNS), rows: subscriptionRows(ctx.tmq) };
      break;
    case "ins_consumers":
    case "perf_consumers":
      if (ctx.tmq) return { columns: defs(CONSUMER_COLUMNS), rows: consumerRows(ctx.tmq) };
      break;
  }
  throw notSupported(`information_schema.${name} in the emulator`);
}

function defs(cols: { name: string; type: number; length: number }[]): ColumnDef[] {
  return cols.map((c) => ({ name: c.name, type: c.type, bytes: c.length }));
}
