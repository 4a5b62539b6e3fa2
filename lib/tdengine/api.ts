// The public contract of the TDengine client (lib/tdengine). Nodes and tests code against these types;
// lib/tdengine/index.ts exports the implementation. No Node-RED imports anywhere under lib/.
//
// Value conventions (decoded results and bind inputs):
// - NULL is `null`, never the string "NULL".
// - BOOL -> boolean; TINYINT..INT and their UNSIGNED forms -> number; FLOAT/DOUBLE -> number, exact (no rounding:
//   FLOAT is the f32 value widened to a JS number).
// - BIGINT / BIGINT UNSIGNED -> number when it is a safe integer, otherwise per ClientOptions.bigint:
//   "string" (default) or "bigint". With bigint: "bigint" every BIGINT is a bigint.
// - TIMESTAMP -> epoch integer in the column's precision: a number when safe (always for ms and us in any
//   realistic range), otherwise a bigint (typical for ns). The precision is in ColumnMeta.precision.
// - VARCHAR/BINARY, NCHAR, JSON (text) -> string; VARBINARY, GEOMETRY (WKB), BLOB -> Uint8Array;
//   DECIMAL/DECIMAL64 -> string with the scale applied, e.g. "12.3400".
import type { EventEmitter } from "node:events";

export type Precision = "ms" | "us" | "ns";

export interface ClientOptions {
  /** ws:// or wss:// URL of taosAdapter, e.g. ws://127.0.0.1:6041 (the /ws path is added when absent). */
  url: string;
  user?: string;
  password?: string;
  /** Default database, sent in `conn`. */
  database?: string;
  /** TDengine Cloud token (sent as the `token` query parameter). */
  token?: string;
  /** Connect timeout and default per-request timeout in ms (default 30000). */
  timeoutMs?: number;
  /**
   * Largest message accepted from the server, in bytes (default 256 MiB). A bigger one fails the pending
   * requests with a non-retryable "protocol" TdengineError and closes the connection.
   */
  maxFrameBytes?: number;
  /** How BIGINTs beyond 2^53 are returned (default "string"). */
  bigint?: "string" | "bigint";
  /** TLS options for wss:// (custom CA; rejectUnauthorized defaults to true). */
  tls?: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean; servername?: string };
  /** Free text sent as `connector` in conn (defaults to this package's name and version). */
  connector?: string;
}

export interface ColumnMeta {
  name: string;
  /** TDengine type code (1 BOOL ... 21 DECIMAL64). */
  type: number;
  /** TDengine type name as taosAdapter spells it: "INT", "VARCHAR", "TIMESTAMP", "BIGINT UNSIGNED", "DECIMAL(10,4)". */
  typeName: string;
  /** Declared width (bytes for numeric and VARCHAR, characters for NCHAR). */
  length: number;
  /** Present for TIMESTAMP columns. */
  precision?: Precision;
  /** Present for DECIMAL columns. */
  scale?: number;
}

export interface QueryResult {
  columns: ColumnMeta[];
  /** Row-major values, one array per row, in column order. */
  rows: unknown[][];
  /** Precision of the result's timestamps. */
  precision: Precision;
  /** Set when the statement had no result set (taosAdapter `is_update`); rows is then [[affectedRows]]. */
  affectedRows?: number;
}

export interface RequestOptions {
  /** Overrides ClientOptions.timeoutMs for this request. */
  timeoutMs?: number;
}

/** Options of a streamed (or collected) query. */
export interface StreamOptions extends RequestOptions {
  /**
   * Overall deadline in ms for the whole statement: the query and every fetch (each request's timeout is cut to
   * what is left). Past it the stream fails with kind "timeout" and the result is freed. Default: none (each
   * request is bounded by timeoutMs only).
   */
  deadlineMs?: number;
  /** Aborting stops the statement: a pending request is abandoned, the result freed, the caller gets kind "closed". */
  signal?: AbortSignal;
}

export interface QueryOptions extends StreamOptions {
  /** query()/queryWithParams(): fail (kind "invalid", result freed) as soon as the result has more rows than this. */
  maxRows?: number;
}

/** One decoded block of a streamed result. */
export interface ResultBlock {
  /** Row-major values in column order (value conventions at the top of this file). */
  rows: unknown[][];
  /** Position of the block in the result, from 0. */
  index: number;
}

/**
 * A result read block by block. The next block is fetched only when the consumer asks for it (back-pressure);
 * at most one block is held. Iterate once (`for await (const block of stream)` or `stream.rows()`); breaking out
 * of the loop, an error, the deadline or the abort signal frees the result on the server (free_result).
 * A statement without a result set (DDL, INSERT) has affectedRows set and no blocks.
 */
export interface QueryStream extends AsyncIterable<ResultBlock> {
  readonly columns: ColumnMeta[];
  readonly precision: Precision;
  readonly affectedRows?: number;
  /** The rows of every block, one at a time. */
  rows(): AsyncIterable<unknown[]>;
  /** Stops reading: frees the result unless the server already finished it. Idempotent. */
  close(): Promise<void>;
}

/** One subtable's share of a stmt2 bind. */
export interface TableBind {
  /** Subtable name, for `INSERT INTO ? ...` statements (tbname placeholder). */
  table?: string;
  /** One value per tag placeholder, in placeholder order. */
  tags?: unknown[];
  /**
   * Column-major values: columns[c][r] = value of column placeholder c in row r. All columns equally long. A
   * column may be a typed array instead: when its element type is the placeholder's own (Int32Array for INT,
   * Float32Array for FLOAT, Float64Array for DOUBLE, BigInt64Array for BIGINT and TIMESTAMP...) its bytes are
   * copied as they are, which is the fast way to bind many rows; any other typed array is read value by value.
   */
  columns: (unknown[] | BindTypedArray)[];
  /** nulls[c][r] === 1 makes row r of column c NULL whatever its value (typed arrays cannot hold null). */
  nulls?: (Uint8Array | undefined)[];
}

export type BindTypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface Stmt2Field {
  name: string;
  /** TDengine type code. */
  type: number;
  precision: Precision;
  scale: number;
  /** As reported by stmt2_prepare (for variable types this includes the 2-byte length prefix). */
  bytes: number;
  bindType: "column" | "tag" | "tbname" | "param";
}

/** A prepared stmt2 statement, reusable across batches until closed. */
export interface Stmt2 {
  readonly id: number;
  readonly isInsert: boolean;
  readonly fields: Stmt2Field[];
  /**
   * Sends one binary stmt2_bind covering all given tables. TIMESTAMP values: number|bigint in the column's precision,
   * or Date. The tables are read (encoded) before the returned promise settles: the caller may reuse their arrays
   * after that (tdengine-write does).
   */
  bind(tables: TableBind[], opts?: RequestOptions): Promise<void>;
  /** stmt2_exec; returns affected rows. */
  exec(opts?: RequestOptions): Promise<number>;
  /** For queries: stmt2_result then fetch until finished. */
  result(opts?: QueryOptions): Promise<QueryResult>;
  close(): Promise<void>;
}

export interface SchemalessOptions extends RequestOptions {
  protocol?: "influx" | "telnet" | "json";
  /** Line-protocol precision: "" (not configured), "h", "m", "s", "ms", "u", "ns". */
  precision?: "" | "h" | "m" | "s" | "ms" | "u" | "ns";
  ttl?: number;
}

export interface TdengineClientApi extends EventEmitter {
  /** taosc version reported by the server (`version` action), e.g. "3.3.6.0". */
  readonly serverVersion: string;
  readonly closed: boolean;
  /** DDL / INSERT / any statement; returns affected rows (0 for DDL). */
  exec(sql: string, opts?: RequestOptions): Promise<{ affectedRows: number }>;
  /** Binary query + fetch_raw_block until finished; the whole result in memory (see QueryOptions.maxRows). */
  query(sql: string, opts?: QueryOptions): Promise<QueryResult>;
  /** SELECT with `?` placeholders bound through stmt2 (values are never put into the SQL text). */
  queryWithParams(sql: string, params: unknown[], opts?: QueryOptions): Promise<QueryResult>;
  /** Binary query; resolves once the server accepted it, with the result to read block by block. */
  queryStream(sql: string, opts?: StreamOptions): Promise<QueryStream>;
  /**
   * queryStream with `?` placeholders bound through stmt2 (no params: same as queryStream). The prepared
   * statement is closed when the stream ends.
   */
  queryStreamWithParams(sql: string, params: unknown[], opts?: StreamOptions): Promise<QueryStream>;
  /** stmt2_init + stmt2_prepare. */
  prepare(sql: string, opts?: RequestOptions): Promise<Stmt2>;
  schemalessInsert(lines: string | string[], opts?: SchemalessOptions): Promise<{ affectedRows: number; totalRows: number }>;
  /** Closes the socket; every pending request is rejected with a "closed" TdengineError. */
  close(): Promise<void>;
  // Events: "close" (err?: Error) once when the socket closes for any reason.
}

/**
 * Error kinds. "server": TDengine/taosAdapter answered with a non-zero code (code = the 16-bit code).
 * Transport kinds ("refused", "closed", "timeout", "protocol", "tls") come from this side; code is then a
 * client code (see errors.ts) and `retryable` says whether reopening the connection may help.
 */
export type TdengineErrorKind = "server" | "refused" | "closed" | "timeout" | "protocol" | "tls" | "version" | "invalid";
