// A TdengineClientApi double for unit tests of lib/poll: an in-memory super table that answers the exact
// statements the poller builds (checked by pattern, so a changed statement fails the tests), plus knobs to
// slow down, fail or observe queries. Rows of equal timestamps come back in a shuffled order, as a real
// super-table merge may return them.
import { EventEmitter } from "node:events";
import type { ColumnMeta, Precision, QueryResult, QueryStream, RequestOptions, Stmt2, TdengineClientApi } from "../../lib/tdengine/api";

export interface FakeRow {
  tbname: string;
  ts: bigint;
  values: Record<string, unknown>;
}

export interface RecordedQuery {
  sql: string;
  params: unknown[];
}

type Handler = (sql: string, params: unknown[]) => QueryResult | Promise<QueryResult>;

const TS = 9;
const VARCHAR = 8;

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FakeTdengineClient extends EventEmitter implements TdengineClientApi {
  readonly serverVersion = "3.3.6.0";
  closed = false;
  readonly queries: RecordedQuery[] = [];
  rows: FakeRow[] = [];
  /** Column layout of the table (after ts): name -> meta. */
  columns: ColumnMeta[];
  /** Queries in flight right now and the most ever seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Fails the next N queries with this error. */
  failNext: { n: number; error: Error } = { n: 0, error: new Error("fake failure") };
  /** When set, each query waits for this promise before answering. */
  gate?: Promise<void>;
  /** Replaces the table logic (SQL-mode tests). */
  handler?: Handler;
  private readonly random: () => number;

  constructor(
    readonly precision: Precision = "ms",
    columns: { name: string; type: number; typeName: string; length: number }[] = [
      { name: "v", type: 4, typeName: "INT", length: 4 },
    ],
    seed = 1,
  ) {
    super();
    this.columns = columns;
    this.random = seeded(seed);
  }

  insert(tbname: string, ts: bigint | number, values: Record<string, unknown> = {}): void {
    const t = BigInt(ts);
    const i = this.rows.findIndex((r) => r.tbname === tbname && r.ts === t);
    const row = { tbname, ts: t, values };
    // (tbname, ts) is the primary key: a second insert replaces the row, as in TDengine.
    if (i >= 0) this.rows[i] = row;
    else this.rows.push(row);
  }

  queryStream(): Promise<QueryStream> {
    return Promise.reject(new Error("this fake does not stream"));
  }

  queryStreamWithParams(): Promise<QueryStream> {
    return Promise.reject(new Error("this fake does not stream"));
  }

  async queryWithParams(sql: string, params: unknown[], _opts?: RequestOptions): Promise<QueryResult> {
    this.queries.push({ sql, params });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      if (this.failNext.n > 0) {
        this.failNext.n--;
        throw this.failNext.error;
      }
      if (this.handler) return await this.handler(sql, params);
      return this.answerTableQuery(sql, params);
    } finally {
      this.inFlight--;
    }
  }

  /** Answers `SELECT ... FROM db.tbl WHERE `ts` <op> ? [AND `ts` <= ?] ORDER BY `ts` [LIMIT n]` as the poller writes it. */
  private answerTableQuery(sql: string, params: unknown[]): QueryResult {
    if (/^SELECT COUNT\(\*\) FROM `\w+`\.`\w+` WHERE `ts` >= \? AND `ts` <= \?$/.test(sql)) {
      const [lo, hi] = params as bigint[];
      const n = this.rows.filter((r) => r.ts >= lo && r.ts <= hi).length;
      return { columns: [{ name: "count(*)", type: 5, typeName: "BIGINT", length: 8 }], rows: [[n]], precision: this.precision };
    }
    const m = /^SELECT (.+) FROM `\w+`\.`\w+` WHERE `ts` (>=|>|=) \?( AND `ts` <= \?)? ORDER BY `ts`(?: LIMIT (\d+))?$/.exec(sql);
    if (!m) throw new Error(`fake client: unexpected SQL ${sql}`);
    const want = m[3] ? 2 : 1;
    if (params.length !== want || params.some((p) => typeof p !== "bigint")) throw new Error(`fake client: expected ${want} bigint param(s), got ${String(params)}`);
    const bound = params[0] as bigint;
    const upper = m[3] ? (params[1] as bigint) : undefined;
    const op = m[2];
    const limit = m[4] ? Number(m[4]) : Infinity;
    const hit = this.rows.filter((r) => (op === ">=" ? r.ts >= bound : op === ">" ? r.ts > bound : r.ts === bound) && (upper === undefined || r.ts <= upper));
    // Sort by ts; shuffle within a timestamp.
    const keyed = hit.map((r) => ({ r, k: this.random() }));
    keyed.sort((a, b) => (a.r.ts < b.r.ts ? -1 : a.r.ts > b.r.ts ? 1 : a.k - b.k));
    const page = keyed.slice(0, limit).map((x) => x.r);
    const wanted = m[1].split(", ").map((c) => c.replace(/`/g, ""));
    const meta: ColumnMeta[] = [];
    for (const w of wanted) {
      if (w === "*") {
        meta.push(this.tsMeta());
        meta.push(...this.columns);
      } else if (w === "ts") meta.push(this.tsMeta());
      else if (w === "tbname") meta.push({ name: "tbname", type: VARCHAR, typeName: "VARCHAR", length: 192 });
      else {
        const c = this.columns.find((x) => x.name === w);
        if (!c) throw new Error(`fake client: unknown column ${w}`);
        meta.push(c);
      }
    }
    const rows = page.map((r) =>
      meta.map((c) => (c.name === "ts" ? this.tsValue(r.ts) : c.name === "tbname" ? r.tbname : (r.values[c.name] ?? null))),
    );
    return { columns: meta, rows, precision: this.precision };
  }

  tsMeta(): ColumnMeta {
    return { name: "ts", type: TS, typeName: "TIMESTAMP", length: 8, precision: this.precision };
  }

  /** The client's convention: a number when safe, else a bigint. */
  tsValue(ts: bigint): number | bigint {
    return ts <= BigInt(Number.MAX_SAFE_INTEGER) && ts >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(ts) : ts;
  }

  exec(): Promise<{ affectedRows: number }> {
    return Promise.reject(new Error("fake client: exec not supported"));
  }
  query(): Promise<QueryResult> {
    return Promise.reject(new Error("fake client: query not supported"));
  }
  prepare(): Promise<Stmt2> {
    return Promise.reject(new Error("fake client: prepare not supported"));
  }
  schemalessInsert(): Promise<{ affectedRows: number; totalRows: number }> {
    return Promise.reject(new Error("fake client: schemaless not supported"));
  }
  async close(): Promise<void> {
    this.closed = true;
    this.emit("close");
  }
}
