// The TDengine client over taosAdapter's /ws protocol: conn -> version -> gate, then queries (binary query 6 +
// fetch_raw_block 7), exec, stmt2 (init/prepare/bind 9/exec/result/close) and schemaless insert.
// Server versions this depends on (taosAdapter release tags):
//   - binary query (6) and fetch_raw_block (7) with the 0xFFFF.. reply marker: >= 3.3.0.7 (the official client
//     requires >= 3.3.2.0);
//   - stmt2 (stmt2_* actions, binary bind 9): >= 3.3.3.0, with `fields_precisions`/`fields_scales` and DECIMAL
//     from 3.3.6.0; the official client uses stmt2 only from 3.3.6.0.
// Every node of this package writes or polls through stmt2, so openClient refuses servers below 3.3.6.0 up front
// (kind "version") instead of failing later on the first bind.
import { EventEmitter } from "node:events";
import type {
  ClientOptions,
  ColumnMeta,
  Precision,
  QueryOptions,
  QueryResult,
  QueryStream,
  RequestOptions,
  SchemalessOptions,
  Stmt2,
  Stmt2Field,
  StreamOptions,
  TableBind,
  TdengineClientApi,
} from "./api";
import { BIND_TYPE, PRECISIONS, SCHEMALESS_PROTOCOL, TYPE, TYPE_NAME } from "./constants";
import { Connection, wsUrl, type JsonReply } from "./connection";
import { TdengineError } from "./errors";
import { binaryQueryFrame, fetchRawBlockFrame, stmt2BindFrame } from "./frames";
import { nextReqId } from "./req-id";
import { collectStream, ResultStream, StopConditions, type StreamTransport } from "./result-stream";
import { encodeStmt2InsertBind, encodeStmt2QueryParams } from "./stmt2-bind-encoder";

/** Oldest server this client accepts: stmt2 with field precisions/scales (see the header comment). */
export const MIN_SERVER_VERSION = "3.3.6.0";
const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECTOR = "node-red-tdengine-perspective";

/** Compares dotted versions numerically ("3.3.10.0" > "3.3.6.0"); non-numeric suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => (/^\D*([\d.]+)/.exec(v)?.[1] ?? "0").split(".").filter(Boolean).map(Number);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function precisionOf(code: unknown): Precision {
  return PRECISIONS[typeof code === "number" ? code : 0] ?? "ms";
}

interface QueryReplyFields {
  id?: number;
  is_update?: boolean;
  affected_rows?: number;
  fields_count?: number;
  fields_names?: string[] | null;
  fields_types?: number[] | null;
  fields_lengths?: number[] | null;
  fields_precisions?: number[] | null;
  fields_scales?: number[] | null;
  precision?: number;
}

/** An optional array field of a reply, checked element by element: a server may send anything. */
function arrayOf<T>(value: unknown, field: string, isItem: (v: unknown) => v is T): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isItem)) throw TdengineError.protocol(`query reply: ${field} is not an array of the expected type`);
  return value;
}
const isString = (v: unknown): v is string => typeof v === "string";
const isInteger = (v: unknown): v is number => Number.isInteger(v);

function columnsOf(r: QueryReplyFields, precision: Precision): ColumnMeta[] {
  const names = arrayOf(r.fields_names, "fields_names", isString);
  const types = arrayOf(r.fields_types, "fields_types", isInteger);
  const lengths = arrayOf(r.fields_lengths, "fields_lengths", isInteger);
  if (types.length !== names.length) throw TdengineError.protocol("query reply: fields_names and fields_types differ in length");
  return names.map((name, i) => {
    const type = types[i];
    const meta: ColumnMeta = { name, type, typeName: TYPE_NAME[type] ?? `TYPE ${type}`, length: lengths[i] ?? 0 };
    if (type === TYPE.TIMESTAMP) meta.precision = precision;
    if (type === TYPE.DECIMAL || type === TYPE.DECIMAL64) {
      const p = r.fields_precisions?.[i];
      const s = r.fields_scales?.[i];
      if (s !== undefined) meta.scale = s;
      if (p !== undefined && s !== undefined) meta.typeName = `DECIMAL(${p},${s})`;
    }
    return meta;
  });
}

const BIND_TYPES: Record<number, Stmt2Field["bindType"]> = {
  [BIND_TYPE.COLUMN]: "column",
  [BIND_TYPE.TAG]: "tag",
  [BIND_TYPE.QUERY]: "param",
  [BIND_TYPE.TBNAME]: "tbname",
};

function stmt2Fields(raw: unknown): Stmt2Field[] {
  if (!Array.isArray(raw)) return [];
  if (!raw.every((f) => typeof f === "object" && f !== null)) throw TdengineError.protocol("stmt2_prepare reply: fields are not objects");
  return raw.map((f: Record<string, unknown>) => ({
    name: String(f.name ?? ""),
    type: Number(f.field_type ?? 0),
    precision: precisionOf(f.precision),
    scale: Number(f.scale ?? 0),
    bytes: Number(f.bytes ?? 0),
    bindType: BIND_TYPES[Number(f.bind_type)] ?? "column",
  }));
}

/**
 * A caller-owned home for prepared query statements: with it, queryWithParams binds and executes a statement
 * kept from an earlier call (bind + exec + result + fetch) instead of stmt2_init + prepare + ... + close.
 * The holder decides when a statement is closed; release(stmt, false) after any failure.
 */
export interface PreparedStatementHolder {
  acquire(client: TdengineClientApi, sql: string, prepare: () => Promise<Stmt2>): Promise<Stmt2>;
  release(stmt: Stmt2, ok: boolean): void;
}

export interface QueryWithParamsOptions extends QueryOptions {
  statements?: PreparedStatementHolder;
}

class TdengineClient extends EventEmitter implements TdengineClientApi {
  serverVersion = "";
  readonly timeoutMs: number;
  private readonly bigint: "string" | "bigint";

  constructor(
    private readonly conn: Connection,
    opts: ClientOptions,
  ) {
    super();
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.bigint = opts.bigint ?? "string";
    conn.once("close", (err: Error) => this.emit("close", err));
    conn.onLateReply = (action, reply) => this.releaseLate(action, reply);
  }

  /** What a reply that came after its request timed out holds on the server, released. */
  private releaseLate(action: string, reply: JsonReply): void {
    if (action === "binary_query" || action === "stmt2_result") this.freeReplyResult(reply as QueryReplyFields);
    else if (action === "stmt2_init") {
      const id = Number(reply.stmt_id);
      if (Number.isSafeInteger(id) && id >= 0 && !this.closed) this.json("stmt2_close", { stmt_id: id }).catch(() => undefined);
    }
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  private t(opts?: RequestOptions): number {
    return opts?.timeoutMs ?? this.timeoutMs;
  }

  json(action: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<JsonReply> {
    return this.conn.requestJson(action, { req_id: nextReqId(), ...args }, this.t(opts));
  }

  /** conn + version, both within the connect deadline (epoch ms). */
  async handshake(opts: ClientOptions, deadline: number): Promise<void> {
    const left = (): RequestOptions => ({ timeoutMs: Math.max(1, deadline - Date.now()) });
    await this.json(
      "conn",
      {
        user: opts.user ?? "root",
        password: opts.password ?? "taosdata",
        db: opts.database ?? "",
        connector: opts.connector ?? CONNECTOR,
      },
      left(),
    );
    const v = await this.json("version", {}, left());
    this.serverVersion = String(v.version ?? "");
    if (compareVersions(this.serverVersion, MIN_SERVER_VERSION) < 0) {
      throw new TdengineError(
        "version",
        `TDengine server ${this.serverVersion || "(unknown version)"} is too old: this client needs ${MIN_SERVER_VERSION} or newer ` +
          "(stmt2 parameter binding with field precisions, used for every write and poll)",
        undefined,
        { retryable: false },
      );
    }
  }

  async exec(sql: string, opts?: RequestOptions): Promise<{ affectedRows: number }> {
    const r = await this.binaryQuery(sql, opts);
    if (!r.is_update && r.id) this.freeResult(r.id); // a statement with a result set: we do not want its rows
    return { affectedRows: Number(r.affected_rows ?? 0) };
  }

  async query(sql: string, opts?: QueryOptions): Promise<QueryResult> {
    return collectStream(await this.queryStream(sql, opts), opts?.maxRows);
  }

  async queryWithParams(sql: string, params: unknown[], opts?: QueryWithParamsOptions): Promise<QueryResult> {
    return collectStream(await this.queryStreamWithParams(sql, params, opts), opts?.maxRows);
  }

  async queryStream(sql: string, opts?: StreamOptions): Promise<QueryStream> {
    const stop = new StopConditions(opts, this.timeoutMs);
    try {
      const r = await stop.race(this.binaryQuery(sql, { timeoutMs: stop.timeout() }), (late) => this.freeReplyResult(late));
      return this.openStream(r, stop);
    } catch (err) {
      throw stop.explain(err);
    }
  }

  async queryStreamWithParams(sql: string, params: unknown[], opts?: StreamOptions & { statements?: PreparedStatementHolder }): Promise<QueryStream> {
    if (params.length === 0) return this.queryStream(sql, opts);
    const payload = encodeStmt2QueryParams(params); // invalid parameters fail before anything is sent
    const stop = new StopConditions(opts, this.timeoutMs);
    const step = (): RequestOptions => ({ timeoutMs: stop.timeout() });
    const cache = opts?.statements;
    let stmt: Stmt2Impl | undefined;
    const release = (ok: boolean): void => {
      if (!stmt) return;
      if (cache) cache.release(stmt, ok);
      else stmt.close().catch(() => undefined);
    };
    try {
      const prepare = (): Promise<Stmt2> => this.prepare(sql, step());
      stmt = (await stop.race(cache ? cache.acquire(this, sql, prepare) : prepare(), (late) => (cache ? cache.release(late, true) : late.close().catch(() => undefined)))) as Stmt2Impl;
      if (stmt.isInsert) throw TdengineError.invalid("a parameterised query needs a SELECT, not an INSERT");
      await stop.race(stmt.bindPayload(payload, step()));
      await stop.race(stmt.exec(step()));
      const r = await stop.race(this.json("stmt2_result", { stmt_id: stmt.id }, step()), (late) => this.freeReplyResult(late as QueryReplyFields));
      const held = stmt;
      stmt = undefined;
      return this.openStream(r as QueryReplyFields, stop, () => {
        stmt = held;
        release(true);
      });
    } catch (err) {
      release(false);
      throw stop.explain(err);
    }
  }

  async prepare(sql: string, opts?: RequestOptions): Promise<Stmt2> {
    const init = await this.json("stmt2_init", { single_stb_insert: true, single_table_bind_once: true }, opts);
    const stmtId = Number(init.stmt_id);
    try {
      const p = await this.json("stmt2_prepare", { stmt_id: stmtId, sql, get_fields: true }, opts);
      return new Stmt2Impl(this, stmtId, p.is_insert === true, stmt2Fields(p.fields), Number(p.fields_count ?? 0));
    } catch (err) {
      this.json("stmt2_close", { stmt_id: stmtId }, opts).catch(() => undefined);
      throw err;
    }
  }

  async schemalessInsert(lines: string | string[], opts?: SchemalessOptions): Promise<{ affectedRows: number; totalRows: number }> {
    const r = await this.json(
      "insert",
      {
        protocol: SCHEMALESS_PROTOCOL[opts?.protocol ?? "influx"],
        precision: opts?.precision ?? "",
        ttl: opts?.ttl ?? 0,
        data: Array.isArray(lines) ? lines.join("\n") : lines,
      },
      opts,
    );
    return { affectedRows: Number(r.affected_rows ?? 0), totalRows: Number(r.total_rows ?? 0) };
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  freeResult(id: number): void {
    this.conn.sendNoReply("free_result", { req_id: nextReqId(), id });
  }

  private async binaryQuery(sql: string, opts?: RequestOptions): Promise<JsonReply & QueryReplyFields> {
    const reqId = nextReqId();
    const r = await this.conn.requestBinary(reqId, "binary_query", binaryQueryFrame(reqId, sql), this.t(opts));
    if (r instanceof Uint8Array) throw TdengineError.protocol("binary_query answered with a binary frame");
    return r as JsonReply & QueryReplyFields;
  }

  /** A stream over a query-shaped reply (binary_query or stmt2_result). */
  openStream(r: QueryReplyFields, stop: StopConditions, onEnd?: () => void): QueryStream {
    const precision = precisionOf(r.precision);
    const base = { resultId: Number(r.id ?? 0), precision, bigint: this.bigint, onEnd };
    if (r.is_update) {
      const columns: ColumnMeta[] = [{ name: "affected_rows", type: TYPE.INT, typeName: "INT", length: 4 }];
      return new ResultStream(this.transport, { ...base, columns, affectedRows: Number(r.affected_rows ?? 0) }, stop);
    }
    let columns: ColumnMeta[];
    try {
      columns = columnsOf(r, precision);
    } catch (err) {
      this.freeReplyResult(r);
      onEnd?.();
      throw err;
    }
    return new ResultStream(this.transport, { ...base, columns }, stop);
  }

  private get transport(): StreamTransport {
    const conn = this.conn;
    return {
      fetch: (resultId, timeoutMs) => {
        const reqId = nextReqId();
        return conn.requestBinary(reqId, "fetch_raw_block", fetchRawBlockFrame(reqId, resultId), timeoutMs);
      },
      free: (resultId) => this.freeResult(resultId),
      get closed(): boolean {
        return conn.closed;
      },
    };
  }

  /** Frees the result a query-shaped reply created (one that arrived after its caller gave up). */
  private freeReplyResult(r: QueryReplyFields): void {
    const id = Number(r.id);
    if (!r.is_update && Number.isSafeInteger(id) && id > 0 && !this.closed) this.freeResult(id);
  }

  bindFrame(stmtId: number, payload: Uint8Array, opts?: RequestOptions): Promise<JsonReply | Uint8Array> {
    const reqId = nextReqId();
    return this.conn.requestBinary(reqId, "stmt2_bind", stmt2BindFrame(reqId, stmtId, payload), this.t(opts));
  }
}

class Stmt2Impl implements Stmt2 {
  private closed = false;

  constructor(
    private readonly client: TdengineClient,
    readonly id: number,
    readonly isInsert: boolean,
    readonly fields: Stmt2Field[],
    readonly paramCount: number,
  ) {}

  async bind(tables: TableBind[], opts?: RequestOptions): Promise<void> {
    if (this.isInsert) return this.bindPayload(encodeStmt2InsertBind(this.fields, tables), opts);
    // A prepared query: one table whose columns each hold the single value of one `?`.
    if (tables.length !== 1) throw TdengineError.invalid("a prepared query binds exactly one table of parameters");
    const params = tables[0].columns.map((c, i) => {
      if (c.length !== 1) throw TdengineError.invalid(`query parameter ${i + 1} must have exactly one value`);
      return c[0];
    });
    return this.bindPayload(encodeStmt2QueryParams(params), opts);
  }

  async bindPayload(payload: Uint8Array, opts?: RequestOptions): Promise<void> {
    const r = await this.client.bindFrame(this.id, payload, opts);
    if (r instanceof Uint8Array) throw TdengineError.protocol("stmt2_bind answered with a binary frame");
  }

  async exec(opts?: RequestOptions): Promise<number> {
    const r = await this.client.json("stmt2_exec", { stmt_id: this.id }, opts);
    return Number(r.affected ?? 0);
  }

  async result(opts?: QueryOptions): Promise<QueryResult> {
    const stop = new StopConditions(opts, this.client.timeoutMs);
    const r = await this.client.json("stmt2_result", { stmt_id: this.id }, { timeoutMs: stop.timeout() });
    return collectStream(this.client.openStream(r as QueryReplyFields, stop), opts?.maxRows);
  }

  async close(): Promise<void> {
    if (this.closed || this.client.closed) return;
    this.closed = true;
    await this.client.json("stmt2_close", { stmt_id: this.id });
  }
}

export async function openClient(opts: ClientOptions): Promise<TdengineClientApi> {
  if (!opts || typeof opts.url !== "string") throw TdengineError.invalid("openClient needs a url");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One deadline for the whole connect (socket, conn, version), not one timeout per step.
  const deadline = Date.now() + timeoutMs;
  const conn = await Connection.open(wsUrl(opts.url, opts.token), { timeoutMs, tls: opts.tls, maxFrameBytes: opts.maxFrameBytes });
  const client = new TdengineClient(conn, opts);
  try {
    await client.handshake(opts, deadline);
  } catch (err) {
    // No closing handshake: a server that did not answer conn in time would hold the caller up to 2 s more.
    conn.terminate();
    if (err instanceof TdengineError && err.kind === "timeout") {
      throw new TdengineError("timeout", `connecting to ${opts.url.replace(/\?.*$/, "")} timed out after ${timeoutMs} ms (${err.message})`, undefined, { cause: err });
    }
    throw err;
  }
  return client;
}
