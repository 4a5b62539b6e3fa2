// The older parameter-binding protocol (stmt1) as taosAdapter serves it on /ws: init, prepare, set_table_name,
// set_tags (JSON or binary action 1), bind (JSON or binary action 2), add_batch, exec, get_tag_fields,
// get_col_fields, use_result, close. Planning and writing reuse the stmt2 statement; stmt1 only keeps the
// table / tags / rows state between calls, with TDengine's order rules (add_batch before exec, tags before rows).
import { CODE, TdError } from "./errors.js";
import type { ResultSet } from "./result.js";
import type { Engine } from "./sql/engine.js";
import type { Session } from "./sql/context.js";
import { boundValue, type BoundColumn, type BoundTable } from "./stmt2-bind-parser.js";
import { Stmt2, type Stmt2Field } from "./stmt2.js";
import type { Value } from "./types.js";

/** stmt1 actions that answer with the stmt_id (init answers with a new one). */
export const STMT1_ACTIONS = ["prepare", "set_table_name", "set_tags", "bind", "add_batch", "exec", "get_tag_fields", "get_col_fields", "use_result", "close"];

/** Rows a statement may hold between add_batch and exec: the bound data lives in memory until exec. */
const MAX_PENDING_ROWS = 10_000_000;

/** A column given as JSON values (set_tags / bind in JSON), converted like any bound value at exec. */
export function jsonColumn(values: unknown[]): BoundColumn {
  const vals: Value[] = values.map((v) => (v === null || v === undefined ? null : typeof v === "number" ? v : typeof v === "boolean" ? v : String(v)));
  return { type: 0, rows: vals.length, isNull: Uint8Array.from(vals, (v) => (v === null ? 1 : 0)), fixed: null, values: vals };
}

/** stmt1 field as get_tag_fields / get_col_fields report it (no bind_type). */
function stmt1Field(f: Stmt2Field): Omit<Stmt2Field, "bind_type"> {
  return { name: f.name, field_type: f.field_type, precision: f.precision, scale: f.scale, bytes: f.bytes };
}

export class Stmt1 {
  private readonly inner: Stmt2;
  private table: string | null = null;
  private tags: BoundColumn[] | null = null;
  /** Binds since the last add_batch (several binds may precede one add_batch). */
  private rows: BoundColumn[][] = [];
  private batches: BoundTable[] = [];
  private pendingRows = 0;
  private queryParams: Value[] | null = null;
  result: ResultSet | null = null;

  constructor(
    readonly id: number,
    engine: Engine,
    session: Session,
  ) {
    this.inner = new Stmt2(id, engine, session);
  }

  prepare(sql: string): boolean {
    this.table = null;
    this.tags = null;
    this.rows = [];
    this.batches = [];
    this.pendingRows = 0;
    return this.inner.prepare(sql).isInsert;
  }

  private plan(): NonNullable<Stmt2["prepared"]> {
    const p = this.inner.prepared;
    if (!p) throw new TdError(CODE.STMT_API, "Stmt API usage error");
    return p;
  }

  setTableName(name: string): void {
    if (!this.plan().isInsert) throw new TdError(CODE.STMT_API, "Stmt API usage error");
    if (!name) throw new TdError(CODE.INVALID_PARAMS, "Table name cannot be empty");
    this.flushTable();
    this.table = name;
    this.tags = null;
  }

  tagFields(): Omit<Stmt2Field, "bind_type">[] {
    const p = this.plan();
    return (p.fields ?? []).filter((f) => f.bind_type === 2).map(stmt1Field);
  }

  colFields(): Omit<Stmt2Field, "bind_type">[] {
    const p = this.plan();
    if (!p.isInsert) return [];
    if (p.fields) return p.fields.filter((f) => f.bind_type === 1).map(stmt1Field);
    if (!this.table) throw new TdError(CODE.STMT_TBNAME, "Stmt table name not set");
    return this.inner.fieldsOfTable(this.table).map(stmt1Field);
  }

  setTags(tags: BoundColumn[]): void {
    const expected = this.tagFields().length;
    if (expected === 0) return;
    if (tags.length !== expected) throw new TdError(CODE.ADAPTER, "stmt tags count not match");
    if (tags.some((t) => t.rows !== 1)) throw new TdError(CODE.ADAPTER, "rows not equal 1");
    this.tags = tags;
  }

  bind(columns: BoundColumn[]): void {
    const p = this.plan();
    if (!p.isInsert) {
      if (columns.length !== p.params) throw new TdError(CODE.ADAPTER, "stmt column count not match");
      this.queryParams = columns.map((c) => boundValue(c, 0));
      return;
    }
    const expected = p.fields ? this.colFields().length : columns.length;
    if (columns.length !== expected) throw new TdError(CODE.ADAPTER, "stmt column count not match");
    const n = columns[0]?.rows ?? 0;
    if (columns.some((c) => c.rows !== n)) throw new TdError(CODE.INVALID_PARAMS, "bind data length error");
    if ((!p.fields || p.fields.some((f) => f.bind_type === 4)) && !this.table) throw new TdError(CODE.STMT_TBNAME, "Stmt table name not set");
    if (this.tagFields().length > 0 && !this.tags) throw new TdError(CODE.STMT_API, "Tags are empty");
    if (this.pendingRows + n > MAX_PENDING_ROWS) throw new TdError(CODE.INVALID_PARAMS, `more than ${MAX_PENDING_ROWS} rows bound before exec`);
    this.rows.push(columns);
    this.pendingRows += n;
  }

  addBatch(): void {
    if (!this.plan().isInsert) return;
    this.flushTable();
  }

  private flushTable(): void {
    for (const columns of this.rows) this.batches.push({ name: this.table, tags: this.tags ?? [], columns });
    this.rows = [];
  }

  exec(): number {
    const p = this.plan();
    if (!p.isInsert) {
      this.result = this.inner.runQuery(this.queryParams ?? []);
      return 0;
    }
    // Rows bound but never added to the batch: TDengine refuses the exec (TSC_STMT_API_ERROR).
    if (this.rows.length) throw new TdError(CODE.STMT_API, "Stmt API usage error");
    const batches = this.batches;
    this.batches = [];
    this.pendingRows = 0;
    return this.inner.writeTables(batches);
  }
}
