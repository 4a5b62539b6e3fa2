// INSERT: multi-row, multi-table, USING ... TAGS auto-create, super-table form with a tbname column.
import { CODE, syntaxError, TdError } from "../errors.js";
import type { ColumnBatch } from "../store/column.js";
import type { Catalog, Database } from "../store/catalog.js";
import type { SuperTable, TableData } from "../store/table.js";
import type { Value } from "../types.js";
import type { Expr, InsertItem } from "./ast.js";
import { resolveDb, sessionZone, type EngineContext } from "./context.js";
import { tagValues } from "./ddl.js";
import { compileExpr, type Scope } from "./eval.js";
import { durationIn, nowIn } from "./time.js";
import { coerce } from "./values.js";

/** Write column-wise rows into a table after TDengine's timestamp checks. */
export function writeRows(db: Database, t: TableData, batch: (ColumnBatch | undefined)[], ts: ArrayLike<bigint>, n: number, catalog: Catalog): number {
  const oldest = nowIn(db.precision) - durationIn("3650d", db.precision);
  for (let i = 0; i < n; i++) {
    if (ts[i] < oldest) throw new TdError(CODE.TS_OUT_OF_RANGE, "Timestamp data out of range");
  }
  const written = t.insert(batch, ts, n);
  catalog.logWrite(db, t, ts, n);
  return written;
}

/** Find or create (USING ... TAGS) the child table; ttl applies only to a table created here, as in TDengine. */
export function childTable(ctx: EngineContext, db: Database, stable: SuperTable, name: string, tags: Value[], ttl = 0): TableData {
  const existing = db.tables.get(name);
  if (existing) {
    if (existing.stable !== stable) throw new TdError(CODE.TABLE_EXIST, "Table already exists in other stables");
    return existing;
  }
  if (db.stables.has(name)) throw new TdError(CODE.TABLE_EXIST, "Table already exists");
  return ctx.catalog.createTable(db, name, stable, stable.columns, tags, ttl);
}

/** A SQL literal value for INSERT/TAGS. As in TDengine, a quoted 'NULL' (any case) is NULL. */
export function constValue(e: Expr, sc: Scope): Value {
  if (e.k === "str" && e.v.toLowerCase() === "null") return null;
  const c = compileExpr(e, sc);
  if (!c.isConst) throw syntaxError(JSON.stringify(e), "values must be constants");
  return c.fn(0, 0);
}

class RowBuffer {
  values: Value[][];
  ts: bigint[] = [];
  constructor(ncols: number) {
    this.values = Array.from({ length: ncols }, () => []);
  }
}

export function execInsert(items: InsertItem[], ctx: EngineContext): number {
  let affected = 0;
  for (const it of items) {
    if ("param" in it.table) throw syntaxError("?");
    const db = resolveDb(ctx, it.table.db, true);
    const sc: Scope = { precision: db.precision, columns: [], tags: [], sources: [], params: null, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(db.precision), zone: sessionZone(ctx) };
    let table: TableData | undefined;
    if (it.using) {
      const sdb = resolveDb(ctx, it.using.stable.db, true);
      const stable = sdb.stables.get(it.using.stable.name);
      if (!stable) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${it.using.stable.name}`);
      const tags = tagValues(ctx, sdb, stable.tags, it.using.tagNames, it.using.tags, null);
      table = childTable(ctx, db, stable, it.table.name, tags, it.using.ttl ?? 0);
    } else {
      table = db.tables.get(it.table.name);
      if (!table) {
        const stable = db.stables.get(it.table.name);
        if (stable) {
          affected += insertIntoStable(ctx, db, stable, it, sc);
          continue;
        }
        throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${it.table.name}`);
      }
    }
    const cols = table.columns;
    const idx = it.columns ? it.columns.map((n) => colIndex(cols, n)) : cols.map((_, i) => i);
    if (!idx.includes(0)) throw new TdError(0x2600, "syntax error near \"values\" (Primary timestamp column should not be null)");
    const buf = new RowBuffer(cols.length);
    for (const row of it.rows) {
      if (row.length !== idx.length) throw new TdError(0x263f, "Illegal number of columns");
      const full: Value[] = cols.map(() => null);
      row.forEach((e, k) => {
        full[idx[k]] = coerce(constValue(e, sc), cols[idx[k]], db.precision, sc.zone);
      });
      if (full[0] === null) throw new TdError(0x2600, "syntax error near \"values\" (Primary timestamp column should not be null)");
      for (let c = 0; c < cols.length; c++) buf.values[c].push(full[c]);
      buf.ts.push(full[0] as bigint);
    }
    affected += writeRows(db, table, buf.values.map((v) => ({ kind: "values", values: v })), buf.ts, buf.ts.length, ctx.catalog);
  }
  return affected;
}

function colIndex(cols: { name: string }[], n: string): number {
  const i = cols.findIndex((c) => c.name === n);
  if (i < 0) throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${n}`);
  return i;
}

/** INSERT INTO stb (tbname, ts, c1, t1) VALUES (...): rows grouped by tbname; missing children are created. */
function insertIntoStable(ctx: EngineContext, db: Database, stable: SuperTable, it: InsertItem, sc: Scope): number {
  if (!it.columns || !it.columns.includes("tbname")) throw new TdError(0x2600, `syntax error near "${stable.name}" (tbname must be specified for super table insert)`);
  const map = it.columns.map((n) => {
    if (n === "tbname") return { kind: "tbname" as const, i: -1 };
    const ci = stable.columns.findIndex((c) => c.name === n);
    if (ci >= 0) return { kind: "col" as const, i: ci };
    const ti = stable.tags.findIndex((c) => c.name === n);
    if (ti >= 0) return { kind: "tag" as const, i: ti };
    throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${n}`);
  });
  if (!map.some((m) => m.kind === "col" && m.i === 0)) throw new TdError(0x2600, "syntax error near \"values\" (Primary timestamp column should not be null)");
  const groups = new Map<string, { tags: Value[]; buf: RowBuffer }>();
  for (const row of it.rows) {
    if (row.length !== map.length) throw new TdError(0x263f, "Illegal number of columns");
    let name = "";
    const tags: Value[] = stable.tags.map(() => null);
    const full: Value[] = stable.columns.map(() => null);
    row.forEach((e, k) => {
      const m = map[k];
      const v = constValue(e, sc);
      if (m.kind === "tbname") name = normalizeTableName(String(v));
      else if (m.kind === "col") full[m.i] = coerce(v, stable.columns[m.i], db.precision, sc.zone);
      else tags[m.i] = coerce(v, stable.tags[m.i], db.precision, sc.zone);
    });
    if (!name) throw new TdError(0x2600, "syntax error near \"tbname\" (tbname is empty)");
    if (full[0] === null) throw new TdError(0x2600, "syntax error near \"values\" (Primary timestamp column should not be null)");
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { tags, buf: new RowBuffer(stable.columns.length) }));
    for (let c = 0; c < full.length; c++) g.buf.values[c].push(full[c]);
    g.buf.ts.push(full[0] as bigint);
  }
  let affected = 0;
  for (const [name, g] of groups) {
    const t = childTable(ctx, db, stable, name, g.tags);
    affected += writeRows(db, t, g.buf.values.map((v) => ({ kind: "values", values: v })), g.buf.ts, g.buf.ts.length, ctx.catalog);
  }
  return affected;
}

/** Bound/inserted table names follow identifier rules: back-quoted keeps case, otherwise lower-cased. */
export function normalizeTableName(s: string): string {
  if (s.length >= 2 && s.startsWith("`") && s.endsWith("`")) return s.slice(1, -1);
  return s.toLowerCase();
}

/**
 * A bound table name as TDengine reads it: `tb`, `db.tb`, `` `db`.`tb` `` (a dot inside back-quotes belongs to the
 * name). The database part, when present, says where the table lives.
 */
export function splitTableName(s: string): { db?: string; name: string } {
  const parts: string[] = [];
  let i = 0;
  while (i <= s.length) {
    if (s[i] === "`") {
      const end = s.indexOf("`", i + 1);
      if (end < 0) throw new TdError(CODE.INVALID_PARAMS, `invalid table name: ${s}`);
      parts.push(s.slice(i, end + 1));
      i = end + 1;
    } else {
      const dot = s.indexOf(".", i);
      const end = dot < 0 ? s.length : dot;
      parts.push(s.slice(i, end));
      i = end;
    }
    if (i >= s.length) break;
    if (s[i] !== ".") throw new TdError(CODE.INVALID_PARAMS, `invalid table name: ${s}`);
    i++;
  }
  if (parts.length > 2 || parts.some((p) => p === "" || p === "``")) throw new TdError(CODE.INVALID_PARAMS, `invalid table name: ${s}`);
  if (parts.length === 2) return { db: normalizeTableName(parts[0]), name: normalizeTableName(parts[1]) };
  return { name: normalizeTableName(parts[0]) };
}

