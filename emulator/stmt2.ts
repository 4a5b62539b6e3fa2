// stmt2 statements: prepare (placeholder fields), bind (parsed payloads kept until exec), exec (rows written
// with column memory copies), and SELECT statements with ? parameters.
import { CODE, notSupported, TdError } from "./errors.js";
import type { ResultSet } from "./result.js";
import { parseSql } from "./sql/parser.js";
import type { Engine } from "./sql/engine.js";
import { resolveDb, sessionZone, type EngineContext, type Session } from "./sql/context.js";
import { childTable, splitTableName, writeRows } from "./sql/insert.js";
import type { Zone } from "./sql/zone.js";
import { compileExpr } from "./sql/eval.js";
import { nowIn } from "./sql/time.js";
import { coerce } from "./sql/values.js";
import type { Database } from "./store/catalog.js";
import type { ColumnBatch } from "./store/column.js";
import type { SuperTable, TableData } from "./store/table.js";
import { boundValue, parseStmt2Bind, type BoundColumn, type BoundTable } from "./stmt2-bind-parser.js";
import { fixedSize, isDecimal, PRECISION_CODE, T, type ColumnDef, type Value } from "./types.js";

export interface Stmt2Field {
  name: string;
  field_type: number;
  precision: number;
  scale: number;
  bytes: number;
  bind_type: number;
}

interface InsertPlan {
  kind: "insert";
  /** Where bound names without a database go; null when only the bound names can say (INSERT INTO ? VALUES). */
  db: Database | null;
  table: TableData | null;
  stable: SuperTable | null;
  tableParam: boolean;
  /** Per tag placeholder: stable tag index. */
  tagMap: number[];
  /** Constant tag values from USING ... TAGS (null where a placeholder stands). */
  constTags: Value[] | null;
  /** Per column placeholder: table column index. */
  colMap: number[];
  fields: Stmt2Field[];
  /** TTL of the tables the statement creates (USING … TAGS (…) TTL n). */
  ttl: number;
}

interface QueryPlan {
  kind: "query";
  sql: string;
  params: number;
}

/** bytes as stmt2 reports them: fixed size, or declared width plus the 2-byte prefix (NCHAR: 4 bytes per char). */
function fieldBytes(c: ColumnDef): number {
  if (c.type === T.NCHAR) return c.bytes * 4 + 2;
  if (c.type === T.VARCHAR || c.type === T.VARBINARY || c.type === T.GEOMETRY || c.type === T.JSON) return c.bytes + 2;
  return fixedSize(c.type);
}

function field(c: ColumnDef, bindType: number, db: Database): Stmt2Field {
  return {
    name: c.name,
    field_type: c.type,
    precision: c.type === T.TIMESTAMP ? PRECISION_CODE[db.precision] : isDecimal(c.type) ? (c.decPrecision ?? 0) : 0,
    scale: c.decScale ?? 0,
    bytes: fieldBytes(c),
    bind_type: bindType,
  };
}

const TBNAME_FIELD: Stmt2Field = { name: "tbname", field_type: T.VARCHAR, precision: 0, scale: 0, bytes: 271, bind_type: 4 };

export class Stmt2 {
  private plan: InsertPlan | QueryPlan | null = null;
  private pending: BoundTable[][] = [];
  private queryParams: Value[] | null = null;
  result: ResultSet | null = null;

  constructor(
    readonly id: number,
    private readonly engine: Engine,
    private readonly session: Session,
  ) {}

  private ctx(): EngineContext {
    return { catalog: this.engine.catalog, serverVersion: this.engine.serverVersion, session: this.session };
  }

  /**
   * fields is null when TDengine cannot know them before a table name is bound (`INSERT INTO ? VALUES (...)`):
   * asking for them then fails with TSC_STMT_TBNAME_ERROR, as taos_stmt2_get_fields does.
   */
  prepare(sql: string): { isInsert: boolean; fields: Stmt2Field[] | null; count: number } {
    this.plan = null;
    this.pending = [];
    const { stmt, params } = parseSql(sql.trim());
    if (stmt.t === "select") {
      this.plan = { kind: "query", sql, params };
      return { isInsert: false, fields: null, count: params };
    }
    if (stmt.t !== "insert") throw notSupported("stmt2 statements other than INSERT and SELECT");
    if (stmt.items.length !== 1 || stmt.items[0].rows.length !== 1) throw notSupported("stmt2 INSERT with several tables or rows");
    const it = stmt.items[0];
    const ctx = this.ctx();
    const tableParam = "param" in it.table;
    // A qualified super table gives the statement its database (TDengine TD-33332): bound names without one go there.
    let db: Database | null;
    if (it.table.db) db = resolveDb(ctx, it.table.db, true);
    else if (it.using) db = resolveDb(ctx, it.using.stable.db, true);
    else if (tableParam) db = ctx.session.db ? resolveDb(ctx, undefined, true) : null;
    else db = resolveDb(ctx, undefined, true);
    const plan: InsertPlan = { kind: "insert", db, table: null, stable: null, tableParam, tagMap: [], constTags: null, colMap: [], fields: [], ttl: it.using?.ttl ?? 0 };
    const row = it.rows[0];
    if (row.some((e) => e.k !== "param")) throw notSupported("stmt2 VALUES mixing constants and placeholders");
    if (plan.tableParam) plan.fields.push(TBNAME_FIELD);
    if (it.using && db) {
      const sdb = resolveDb(ctx, it.using.stable.db, true);
      const stable = sdb.stables.get(it.using.stable.name);
      if (!stable) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${it.using.stable.name}`);
      plan.stable = stable;
      const names = it.using.tagNames ?? stable.tags.map((t) => t.name);
      if (names.length !== it.using.tags.length) throw new TdError(0x260d, "Tags number not matched");
      plan.constTags = stable.tags.map(() => null);
      const sc = { precision: db.precision, columns: [], tags: [], sources: [], params: null, currentDb: this.session.db, serverVersion: this.engine.serverVersion, now: nowIn(db.precision), zone: sessionZone(ctx) };
      names.forEach((n, k) => {
        const ti = stable.tags.findIndex((t) => t.name === n);
        if (ti < 0) throw new TdError(0x260e, `Invalid tag name: ${n}`);
        const e = it.using!.tags[k];
        if (e.k === "param") {
          plan.tagMap.push(ti);
          plan.fields.push(field(stable.tags[ti], 2, db));
        } else (plan.constTags as Value[])[ti] = coerce(compileExpr(e, sc).fn(0, 0), stable.tags[ti], db.precision, sc.zone);
      });
      if (!plan.tableParam) {
        const tname = (it.table as { name: string }).name;
        plan.table = childTable(ctx, db, stable, tname, plan.constTags, plan.ttl);
      }
      const cols = stable.columns;
      const colNames = it.columns ?? cols.map((c) => c.name);
      for (const n of colNames) {
        const ci = cols.findIndex((c) => c.name === n);
        if (ci < 0) throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${n}`);
        plan.colMap.push(ci);
        plan.fields.push(field(cols[ci], 1, db));
      }
    } else if (!plan.tableParam && db) {
      const name = (it.table as { name: string }).name;
      const stable = db.stables.get(name);
      if (stable) {
        // super-table form: INSERT INTO stb (tbname, ts, c1, t1) VALUES (?, ?, ?, ?)
        if (!it.columns || !it.columns.includes("tbname")) throw new TdError(0x2600, `syntax error near "${name}" (tbname must be specified for super table insert)`);
        plan.stable = stable;
        plan.tableParam = true;
        plan.constTags = stable.tags.map(() => null);
        for (const n of it.columns) {
          if (n === "tbname") {
            plan.fields.push(TBNAME_FIELD);
            continue;
          }
          const ci = stable.columns.findIndex((c) => c.name === n);
          if (ci >= 0) {
            plan.colMap.push(ci);
            plan.fields.push(field(stable.columns[ci], 1, db));
            continue;
          }
          const ti = stable.tags.findIndex((c) => c.name === n);
          if (ti < 0) throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${n}`);
          plan.tagMap.push(ti);
          plan.fields.push(field(stable.tags[ti], 2, db));
        }
      } else {
        const t = db.tables.get(name);
        if (!t) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${name}`);
        plan.table = t;
        const colNames = it.columns ?? t.columns.map((c) => c.name);
        for (const n of colNames) {
          const ci = t.columns.findIndex((c) => c.name === n);
          if (ci < 0) throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${n}`);
          plan.colMap.push(ci);
          plan.fields.push(field(t.columns[ci], 1, db));
        }
      }
    } else {
      // INSERT INTO ? VALUES (...): the table (normal or child) is known only at bind time.
      if (it.columns) throw notSupported("stmt2 INSERT INTO ? (cols) without USING");
      for (let k = 0; k < row.length; k++) plan.colMap.push(k);
      this.plan = plan;
      return { isInsert: true, fields: null, count: 0 };
    }
    if (!plan.colMap.includes(0) && plan.colMap.length) throw new TdError(0x2600, 'syntax error near "values" (Primary timestamp column should not be null)');
    const expected = plan.stable && !it.using ? (it.columns as string[]).length : plan.colMap.length;
    if (row.length !== expected) throw new TdError(0x263f, "Illegal number of columns");
    this.plan = plan;
    return { isInsert: true, fields: plan.fields, count: plan.fields.length };
  }

  bind(payload: Uint8Array, colIndex: number): void {
    if (!this.plan) throw new TdError(CODE.ADAPTER, "stmt2 not prepared");
    if (colIndex !== -1) throw notSupported("stmt2 bind of a single column");
    const tables = parseStmt2Bind(payload);
    if (this.plan.kind === "query") {
      const t = tables[0];
      if (!t || t.columns.length !== this.plan.params) throw new TdError(CODE.INVALID_PARAMS, `stmt2 query needs ${this.plan.params} parameters`);
      this.queryParams = t.columns.map((c) => boundValue(c, 0));
      return;
    }
    const plan = this.plan;
    for (const t of tables) {
      if (plan.tableParam && !t.name) throw new TdError(CODE.INVALID_PARAMS, "table name is not set");
      if (t.tags.length !== plan.tagMap.length && plan.stable) throw new TdError(CODE.INVALID_PARAMS, `expected ${plan.tagMap.length} tags, got ${t.tags.length}`);
      if (t.columns.length !== plan.colMap.length) throw new TdError(CODE.INVALID_PARAMS, `expected ${plan.colMap.length} columns, got ${t.columns.length}`);
    }
    this.pending.push(tables);
  }

  /** What stmt1 needs of a prepared statement: insert or query, its placeholders by kind. */
  get prepared(): { isInsert: boolean; fields: Stmt2Field[] | null; params: number } | null {
    const p = this.plan;
    if (!p) return null;
    return p.kind === "query" ? { isInsert: false, fields: null, params: p.params } : { isInsert: true, fields: p.fields, params: p.colMap.length };
  }

  /** Column fields of the table a stmt1 set_table_name chose, for INSERT INTO ? VALUES (...). */
  fieldsOfTable(name: string): Stmt2Field[] {
    const bound = splitTableName(name);
    const ctx = this.ctx();
    const db = resolveDb(ctx, bound.db ?? (this.plan?.kind === "insert" ? this.plan.db?.name : undefined), true);
    const t = db.tables.get(bound.name);
    if (!t) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${bound.name}`);
    return t.columns.map((c) => field(c, 1, db));
  }

  /** stmt1 exec: the tables bound through set_table_name / set_tags / bind / add_batch, written with this plan. */
  writeTables(tables: BoundTable[]): number {
    if (this.plan?.kind !== "insert") throw new TdError(CODE.ADAPTER, "stmt is not an insert");
    let affected = 0;
    for (const t of tables) affected += this.writeTable(this.plan, t);
    return affected;
  }

  /** stmt1 query exec with positional parameters. */
  runQuery(params: Value[]): ResultSet {
    if (this.plan?.kind !== "query") throw new TdError(CODE.ADAPTER, "stmt is not a query");
    const r = this.engine.execute(this.plan.sql, this.session, params);
    if (r.kind !== "rows") throw new TdError(CODE.ADAPTER, "not a query");
    return r.result;
  }

  exec(): number {
    if (!this.plan) throw new TdError(CODE.ADAPTER, "stmt2 not prepared");
    if (this.plan.kind === "query") {
      const r = this.engine.execute(this.plan.sql, this.session, this.queryParams ?? []);
      if (r.kind !== "rows") throw new TdError(CODE.ADAPTER, "not a query");
      this.result = r.result;
      return 0;
    }
    const plan = this.plan;
    const pending = this.pending;
    this.pending = [];
    let affected = 0;
    for (const tables of pending) for (const t of tables) affected += this.writeTable(plan, t);
    return affected;
  }

  private writeTable(plan: InsertPlan, bt: BoundTable): number {
    const ctx = this.ctx();
    const zone = sessionZone(ctx);
    let db = plan.db as Database;
    let table = plan.table;
    if (!table) {
      const bound = splitTableName(bt.name as string);
      const name = bound.name;
      if (bound.db) db = resolveDb(ctx, bound.db, true);
      else if (!plan.db) db = resolveDb(ctx, undefined, true);
      if (plan.stable) {
        if (db !== plan.db && db.stables.get(plan.stable.name) !== plan.stable)
          throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${db.name}.${plan.stable.name}`);
        const tags = (plan.constTags ?? plan.stable.tags.map(() => null)).slice();
        plan.tagMap.forEach((ti, k) => {
          tags[ti] = coerce(boundValue(bt.tags[k], 0), plan.stable!.tags[ti], db.precision, zone);
        });
        table = childTable(ctx, db, plan.stable, name, tags, plan.ttl);
      } else {
        table = db.tables.get(name) ?? null;
        if (!table) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${name}`);
        if (plan.colMap.length > table.columns.length) throw new TdError(0x263f, "Illegal number of columns");
      }
    }
    const n = bt.columns.length ? bt.columns[0].rows : 0;
    if (n === 0) return 0;
    const batch: (ColumnBatch | undefined)[] = table.columns.map(() => undefined);
    let ts: ArrayLike<bigint> | null = null;
    plan.colMap.forEach((ci, k) => {
      const bc = bt.columns[k];
      if (bc.rows !== n) throw new TdError(CODE.INVALID_PARAMS, "columns have different row counts");
      const def = (table as TableData).columns[ci];
      batch[ci] = toBatch(bc, def, db, zone);
      if (ci === 0) ts = timestamps(bc, batch[ci] as ColumnBatch);
    });
    if (!ts) throw new TdError(0x2600, 'syntax error near "values" (Primary timestamp column should not be null)');
    return writeRows(db, table, batch, ts, n, ctx.catalog);
  }
}

function toBatch(bc: BoundColumn, def: ColumnDef, db: Database, zone: Zone): ColumnBatch {
  if (bc.fixed && bc.type === def.type) return { kind: "fixed", bytes: bc.fixed, nulls: bc.isNull };
  if (bc.fixed && def.type === T.TIMESTAMP && bc.type === T.BIGINT) return { kind: "fixed", bytes: bc.fixed, nulls: bc.isNull };
  const values: Value[] = new Array(bc.rows);
  for (let i = 0; i < bc.rows; i++) values[i] = coerce(boundValue(bc, i), def, db.precision, zone);
  return { kind: "values", values };
}

function timestamps(bc: BoundColumn, b: ColumnBatch): ArrayLike<bigint> {
  for (let i = 0; i < bc.rows; i++) if (bc.isNull[i]) throw new TdError(0x2600, 'syntax error near "values" (Primary timestamp column should not be null)');
  if (b.kind === "values") return b.values as bigint[];
  const f = b.bytes;
  if (f.byteOffset % 8 === 0) return new BigInt64Array(f.buffer, f.byteOffset, bc.rows);
  return new BigInt64Array(Uint8Array.from(f).buffer, 0, bc.rows);
}
