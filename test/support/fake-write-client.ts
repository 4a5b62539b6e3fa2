// A TdengineClientApi double for unit tests of lib/write: exec (DDL recorded), DESCRIBE, and stmt2
// prepare/bind/exec that materialise rows keyed by (subtable, ts) like TDengine, plus knobs: a "poison" value
// the server refuses, a transport outage, and a statement-level failure.
import { EventEmitter } from "node:events";
import type { Precision, QueryResult, QueryStream, Stmt2, Stmt2Field, TableBind, TdengineClientApi } from "../../lib/tdengine/api";
import type { TableSchema } from "../../lib/write";

export class FakeServerError extends Error {
  readonly kind = "server";
  readonly retryable = false;
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeTransportError extends Error {
  readonly kind = "closed";
  readonly code = 0;
  readonly retryable = true;
}

export interface StoredRow {
  table: string;
  tags: unknown[];
  values: unknown[];
}

export class FakeWriteClient extends EventEmitter implements TdengineClientApi {
  readonly serverVersion = "3.3.6.0";
  closed = false;
  readonly execs: string[] = [];
  readonly prepares: string[] = [];
  /** Every successful bind+exec: the tables it covered. */
  readonly batches: TableBind[][] = [];
  /** Rows by `${table}|${ts}`. */
  readonly rows = new Map<string, StoredRow>();
  /** Binds containing this column value are refused by exec with a row-level server error. */
  poison: unknown = Symbol("none");
  /** When true every request fails like a dropped socket. */
  down = false;
  /** Number of upcoming execs that fail with "Table does not exist". */
  missingTable = 0;
  /** Number of upcoming execs that fail like a socket dropped mid-request (kind "closed"). */
  dropExecs = 0;
  /** Attempted execs (successful or not). */
  execAttempts = 0;
  /** While set, execs wait for it (a batch held in flight). */
  hold: Promise<void> | undefined;
  private nextStmt = 1;

  constructor(
    private readonly schema: TableSchema,
    readonly precision: Precision = "ms",
  ) {
    super();
  }

  async exec(sql: string): Promise<{ affectedRows: number }> {
    if (this.down) throw new FakeTransportError("socket closed");
    this.execs.push(sql);
    return { affectedRows: 0 };
  }

  async query(sql: string): Promise<QueryResult> {
    if (this.down) throw new FakeTransportError("socket closed");
    if (!sql.startsWith("DESCRIBE ")) throw new Error(`fake: unexpected query ${sql}`);
    const row = (f: { name: string; type: number; length: number }, note: string): unknown[] => [f.name, TYPE_NAMES[f.type], f.length || FIXED[f.type], note];
    return {
      columns: [],
      precision: "ms",
      rows: [...this.schema.columns.map((c) => row(c, "")), ...this.schema.tags.map((t) => row(t, "TAG"))],
    };
  }

  queryStream(): Promise<QueryStream> {
    return Promise.reject(new Error("this fake does not stream"));
  }

  queryStreamWithParams(): Promise<QueryStream> {
    return Promise.reject(new Error("this fake does not stream"));
  }

  async queryWithParams(): Promise<QueryResult> {
    throw new Error("fake: not supported");
  }

  async prepare(sql: string): Promise<Stmt2> {
    if (this.down) throw new FakeTransportError("socket closed");
    this.prepares.push(sql);
    const fields: Stmt2Field[] = [
      { name: "tbname", type: 8, precision: "ms", scale: 0, bytes: 271, bindType: "tbname" },
      ...this.schema.tags.map((t) => ({ name: t.name, type: t.type, precision: "ms" as Precision, scale: 0, bytes: t.length, bindType: "tag" as const })),
      ...this.schema.columns.map((c) => ({ name: c.name, type: c.type, precision: this.precision, scale: 0, bytes: c.length, bindType: "column" as const })),
    ];
    let bound: (TableBind & { columns: unknown[][] })[] = [];
    const id = this.nextStmt++;
    return {
      id,
      isInsert: true,
      fields,
      bind: async (tables: TableBind[]) => {
        if (this.down) throw new FakeTransportError("socket closed");
        bound = tables.map(plainBind);
      },
      exec: async () => {
        this.execAttempts++;
        if (this.hold) await this.hold;
        if (this.down) throw new FakeTransportError("socket closed");
        if (this.dropExecs > 0) {
          this.dropExecs--;
          throw new FakeTransportError("stmt2_exec: connection closed (1006)");
        }
        if (this.missingTable > 0) {
          this.missingTable--;
          throw new FakeServerError(0x2603, "Table does not exist");
        }
        for (const t of bound) for (const col of t.columns) if (col.includes(this.poison)) throw new FakeServerError(0x0224, "value out of range");
        let n = 0;
        for (const t of bound) {
          for (let r = 0; r < t.columns[0].length; r++) {
            this.rows.set(`${t.table}|${String(t.columns[0][r])}`, { table: t.table!, tags: t.tags ?? [], values: t.columns.map((c) => c[r]) });
            n++;
          }
        }
        this.batches.push(bound);
        return n;
      },
      result: async () => {
        throw new Error("fake: not a query");
      },
      close: async () => undefined,
    };
  }

  async schemalessInsert(): Promise<{ affectedRows: number; totalRows: number }> {
    throw new Error("fake: not supported");
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emit("close");
  }
}

/** A bind as the server sees it: every column a plain array of values, NULL rows (typed columns' mask) as null. */
function plainBind(t: TableBind): TableBind & { columns: unknown[][] } {
  const columns = t.columns.map((col, c) => Array.from(col as ArrayLike<unknown>, (v, r) => (t.nulls?.[c]?.[r] === 1 ? null : v)));
  return { table: t.table, tags: t.tags, columns };
}

const TYPE_NAMES: Record<number, string> = { 1: "BOOL", 4: "INT", 5: "BIGINT", 6: "FLOAT", 7: "DOUBLE", 8: "VARCHAR", 9: "TIMESTAMP", 10: "NCHAR" };
const FIXED: Record<number, number> = { 1: 1, 4: 4, 5: 8, 6: 4, 7: 8, 9: 8 };
