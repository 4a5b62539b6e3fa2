// CREATE / DROP / USE / SHOW / DESCRIBE.
import { CODE, TdError } from "../errors.js";
import type { Database } from "../store/catalog.js";
import { ValuesResult, type ExecResult, type ResultColumn } from "../result.js";
import { isDecimal, T, typeName, type ColumnDef, type Precision, type Value } from "../types.js";
import type { Stmt } from "./ast.js";
import { resolveDb, resolveTarget, sessionZone, type EngineContext } from "./context.js";
import { compileExpr, likeRegex } from "./eval.js";
import { alterTable } from "./alter.js";
import { declaredType, systemTable } from "./system-tables.js";
import { nowIn } from "./time.js";
import { coerce } from "./values.js";

const updated = (n = 0): ExecResult => ({ kind: "update", affectedRows: n });

function checkDefs(columns: ColumnDef[], tags: ColumnDef[]): void {
  if (columns.length === 0 || columns[0].type !== T.TIMESTAMP)
    throw new TdError(0x2641, "First column must be timestamp");
  const seen = new Set<string>();
  for (const c of [...columns, ...tags]) {
    if (seen.has(c.name)) throw new TdError(0x263c, "Duplicated column names");
    seen.add(c.name);
    if ((c.type === T.VARCHAR || c.type === T.VARBINARY || c.type === T.GEOMETRY) && (c.bytes < 1 || c.bytes > 65517))
      throw new TdError(0x2642, "Invalid binary/nchar column/tag length");
    if (c.type === T.NCHAR && (c.bytes < 1 || c.bytes > 16379)) throw new TdError(0x2642, "Invalid binary/nchar column/tag length");
  }
  if (tags.some((t) => t.type === T.JSON) && tags.length > 1) throw new TdError(0x2633, "Only one tag if there is a json tag");
}

export function tagValues(ctx: EngineContext, db: Database, tagDefs: ColumnDef[], tagNames: string[] | undefined, exprs: import("./ast.js").Expr[], params: Value[] | null): Value[] {
  const names = tagNames ?? tagDefs.map((t) => t.name);
  if (names.length !== exprs.length) throw new TdError(0x260d, "Tags number not matched");
  const out: Value[] = tagDefs.map(() => null);
  const scope = { precision: db.precision, columns: [], tags: [], sources: [], params, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(db.precision), zone: sessionZone(ctx) };
  names.forEach((n, i) => {
    const ti = tagDefs.findIndex((t) => t.name === n);
    if (ti < 0) throw new TdError(0x260e, `Invalid tag name: ${n}`);
    const e = exprs[i];
    if (e.k === "str" && e.v.toLowerCase() === "null") return; // quoted 'NULL' is NULL, as in TDengine
    const c = compileExpr(e, scope);
    if (!c.isConst) throw new TdError(0x2600, `syntax error near "${n}" (tag value must be a constant)`);
    out[ti] = coerce(c.fn(0, 0), tagDefs[ti], db.precision, scope.zone);
  });
  return out;
}

export function execDdl(st: Stmt, ctx: EngineContext): ExecResult {
  const cat = ctx.catalog;
  switch (st.t) {
    case "createDb": {
      if (st.name === "information_schema" || st.name === "performance_schema") throw new TdError(CODE.DB_EXIST, "Database already exists");
      if (cat.dbs.has(st.name)) {
        if (st.ifNotExists) return updated();
        throw new TdError(CODE.DB_EXIST, "Database already exists");
      }
      cat.createDatabase(st.name, (st.precision ?? "ms") as Precision, st.vgroups);
      return updated();
    }
    case "dropDb": {
      const db = cat.dbs.get(st.name);
      if (db && ctx.tmq && [...ctx.tmq.topics.values()].some((t) => t.db === db)) throw new TdError(0x03ed, "Topic must be dropped first");
      if (!cat.dbs.delete(st.name) && !st.ifExists) throw new TdError(CODE.DB_NOT_EXIST, "Database not exist");
      return updated();
    }
    case "use": {
      if (!cat.dbs.has(st.name) && st.name !== "information_schema") throw new TdError(CODE.DB_NOT_EXIST, "Database not exist");
      ctx.session.db = st.name;
      return updated();
    }
    case "createStable": {
      const db = resolveDb(ctx, st.name.db);
      checkDefs(st.columns, st.tags);
      if (st.tags.length === 0) throw new TdError(0x2600, "syntax error near \"tags\" (at least one tag)");
      if (db.stables.has(st.name.name)) {
        if (st.ifNotExists) return updated();
        throw new TdError(CODE.STB_EXIST, "STable already exists");
      }
      if (db.tables.has(st.name.name)) {
        if (st.ifNotExists) return updated();
        throw new TdError(CODE.TABLE_EXIST, "Table already exists");
      }
      db.stables.set(st.name.name, { name: st.name.name, columns: st.columns, tags: st.tags, children: new Map(), createdAt: cat.now() });
      return updated();
    }
    case "createTable": {
      const db = resolveDb(ctx, st.name.db);
      checkDefs(st.columns, []);
      if (st.columns.some((c) => c.type === T.JSON)) throw new TdError(0x2652, "Only tag can be json type");
      if (db.tables.has(st.name.name) || db.stables.has(st.name.name)) {
        if (st.ifNotExists) return updated();
        throw new TdError(CODE.TABLE_EXIST, "Table already exists");
      }
      cat.createTable(db, st.name.name, null, st.columns, [], st.ttl ?? 0);
      return updated();
    }
    case "createChild": {
      for (const it of st.items) {
        const db = resolveDb(ctx, it.name.db);
        const sdb = resolveDb(ctx, it.stable.db);
        const stable = sdb.stables.get(it.stable.name);
        if (!stable) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${it.stable.name}`);
        const tags = tagValues(ctx, sdb, stable.tags, it.tagNames, it.tags, null);
        if (db.tables.has(it.name.name) || db.stables.has(it.name.name)) {
          if (it.ifNotExists) continue;
          throw new TdError(CODE.TABLE_EXIST, "Table already exists");
        }
        cat.createTable(db, it.name.name, stable, stable.columns, tags, it.ttl ?? 0);
      }
      return updated();
    }
    case "dropTable": {
      for (const n of st.names) {
        const db = resolveDb(ctx, n.db);
        const stable = db.stables.get(n.name);
        if (stable) {
          for (const child of [...stable.children.values()]) cat.dropTable(db, child);
          db.stables.delete(n.name);
          continue;
        }
        const t = st.stable ? undefined : db.tables.get(n.name);
        if (t) {
          cat.dropTable(db, t);
          continue;
        }
        if (st.ifExists) continue;
        if (st.stable) throw new TdError(CODE.STB_NOT_EXIST, "STable not exist");
        throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${n.name}`);
      }
      return updated();
    }
    case "show": {
      if (st.what === "databases") return { kind: "rows", result: databasesResult(ctx) };
      const db = resolveDb(ctx, st.db);
      const like = st.like !== undefined ? likeRegex(st.like) : null;
      const names = [...(st.what === "stables" ? db.stables.keys() : db.tables.keys())].filter((n) => !like || like.test(n));
      return { kind: "rows", result: new ValuesResult([{ name: st.what === "stables" ? "stable_name" : "table_name", type: T.VARCHAR, length: 192 }], names.map((n) => [n])) };
    }
    case "showConnections": {
      const sys = systemTable(ctx, "perf_connections");
      return { kind: "rows", result: new ValuesResult(sys.columns.map((c) => ({ name: c.name, type: c.type, length: c.bytes })), sys.rows) };
    }
    case "showTags": {
      const tg = resolveTarget(ctx, st.table);
      if (tg.kind !== "table" || !tg.table.stable) throw new TdError(0x2600, `syntax error near "${st.table.name}" (only child tables have tag values)`);
      const t = tg.table;
      const stable = t.stable as NonNullable<typeof t.stable>;
      const meta: ResultColumn[] = [
        { name: "table_name", type: T.VARCHAR, length: 192 },
        { name: "db_name", type: T.VARCHAR, length: 64 },
        { name: "stable_name", type: T.VARCHAR, length: 192 },
        { name: "tag_name", type: T.VARCHAR, length: 64 },
        { name: "tag_type", type: T.VARCHAR, length: 64 },
        { name: "tag_value", type: T.VARCHAR, length: 16384 },
      ];
      const rows = stable.tags.map((c, i) => [t.name, tg.db.name, stable.name, c.name, declaredType(c), t.tags[i] === null || t.tags[i] === undefined ? null : String(t.tags[i])]);
      return { kind: "rows", result: new ValuesResult(meta, rows) };
    }
    case "showCreate":
      return { kind: "rows", result: showCreate(ctx, st.what, st.name) };
    case "alter":
      return alterTable(ctx, st.stable, st.name, st.action);
    case "describe": {
      const tg = resolveTarget(ctx, st.name);
      const cols = tg.kind === "stable" ? tg.stable.columns : tg.table.columns;
      const tags = tg.kind === "stable" ? tg.stable.tags : (tg.table.stable?.tags ?? []);
      const row = (c: ColumnDef, note: string): Value[] => [
        c.name,
        typeName(c.type, c.decPrecision, c.decScale),
        isDecimal(c.type) ? c.bytes : c.bytes,
        note,
        note ? "disabled" : defaultEncode(c.type),
        note ? "disabled" : defaultCompress(c.type),
        note ? "disabled" : "medium",
      ];
      const meta: ResultColumn[] = [
        { name: "field", type: T.VARCHAR, length: 64 },
        { name: "type", type: T.VARCHAR, length: 32 },
        { name: "length", type: T.INT, length: 4 },
        { name: "note", type: T.VARCHAR, length: 8 },
        { name: "encode", type: T.VARCHAR, length: 8 },
        { name: "compress", type: T.VARCHAR, length: 8 },
        { name: "level", type: T.VARCHAR, length: 8 },
      ];
      return { kind: "rows", result: new ValuesResult(meta, [...cols.map((c) => row(c, "")), ...tags.map((c) => row(c, "TAG"))]) };
    }
    default:
      throw new TdError(CODE.ADAPTER, "not a DDL statement");
  }
}

function showCreate(ctx: EngineContext, what: "table" | "stable" | "database", n: import("./ast.js").Name): ValuesResult {
  if (what === "database") {
    const db = resolveDb(ctx, n.name);
    return new ValuesResult(
      [{ name: "Database", type: T.VARCHAR, length: 64 }, { name: "Create Database", type: T.VARCHAR, length: 1024 }],
      [[db.name, `CREATE DATABASE \`${db.name}\` PRECISION '${db.precision}'`]],
    );
  }
  const tg = resolveTarget(ctx, n);
  const defs = (cs: ColumnDef[]): string => cs.map((c) => `\`${c.name}\` ${declaredType(c)}`).join(", ");
  let sql: string;
  let name: string;
  if (tg.kind === "stable") {
    name = tg.stable.name;
    sql = `CREATE STABLE \`${name}\` (${defs(tg.stable.columns)}) TAGS (${defs(tg.stable.tags)})`;
  } else if (tg.table.stable) {
    name = tg.table.name;
    const st = tg.table.stable;
    sql = `CREATE TABLE \`${name}\` USING \`${st.name}\` (${st.tags.map((t) => `\`${t.name}\``).join(", ")}) TAGS (${tg.table.tags.map((v) => (v === null ? "NULL" : typeof v === "string" ? `"${v}"` : String(v))).join(", ")})`;
  } else {
    name = tg.table.name;
    sql = `CREATE TABLE \`${name}\` (${defs(tg.table.columns)})`;
  }
  return new ValuesResult([{ name: "Table", type: T.VARCHAR, length: 192 }, { name: "Create Table", type: T.VARCHAR, length: 4096 }], [[name, sql]]);
}

function defaultEncode(t: number): string {
  if (t === T.TIMESTAMP || t === T.BIGINT || t === T.INT || t === T.SMALLINT || t === T.TINYINT || t === T.UBIGINT || t === T.UINT || t === T.USMALLINT || t === T.UTINYINT) return "delta-i";
  if (t === T.BOOL) return "bit-packing";
  if (t === T.FLOAT || t === T.DOUBLE) return "delta-d";
  return "disabled";
}
function defaultCompress(t: number): string {
  return t === T.FLOAT || t === T.DOUBLE ? "lz4" : "zstd";
}

export const DATABASE_COLUMNS: ResultColumn[] = [
  { name: "name", type: T.VARCHAR, length: 64 },
  { name: "create_time", type: T.TIMESTAMP, length: 8 },
  { name: "vgroups", type: T.SMALLINT, length: 2 },
  { name: "ntables", type: T.BIGINT, length: 8 },
  { name: "replica", type: T.TINYINT, length: 1 },
  { name: "strict", type: T.VARCHAR, length: 4 },
  { name: "duration", type: T.VARCHAR, length: 10 },
  { name: "keep", type: T.VARCHAR, length: 32 },
  { name: "buffer", type: T.INT, length: 4 },
  { name: "pagesize", type: T.INT, length: 4 },
  { name: "pages", type: T.INT, length: 4 },
  { name: "minrows", type: T.INT, length: 4 },
  { name: "maxrows", type: T.INT, length: 4 },
  { name: "comp", type: T.TINYINT, length: 1 },
  { name: "precision", type: T.VARCHAR, length: 2 },
  { name: "status", type: T.VARCHAR, length: 10 },
];

export function databaseRows(ctx: EngineContext): Value[][] {
  const sys = (n: string): Value[] => [n, null, null, 0n, null, null, null, null, null, null, null, null, null, null, "ms", "ready"];
  const rows: Value[][] = [sys("information_schema"), sys("performance_schema")];
  for (const db of ctx.catalog.dbs.values())
    rows.push([db.name, BigInt(db.createdAt), db.vgroups.length, BigInt(db.tables.size), 1, "off", "10d", "3650d,3650d,3650d", 256, 4096, 64, 100, 4096, 2, db.precision, "ready"]);
  return rows;
}

function databasesResult(ctx: EngineContext): ValuesResult {
  return new ValuesResult(DATABASE_COLUMNS, databaseRows(ctx));
}
