// Batches mapped rows across messages and writes them with one stmt2 statement per super table
// (`INSERT INTO ? USING db.stb TAGS (...) VALUES (...)`), one bind covering every subtable of the batch.
//
// How failures are told apart (documented in the node's help too):
// - Transport trouble (not connected, socket closed, timeout, or a server error marked retryable): the batch goes
//   back to the front of the buffer and is retried with exponential backoff + jitter, for as long as the writer
//   lives. Re-sending a batch whose first attempt may have landed is safe: a row is keyed by (subtable, ts), so
//   a second write replaces it with the same values instead of adding a duplicate.
// - A server error that concerns the statement (database / super table / table missing, syntax, permission):
//   the statement is prepared afresh (after re-running the auto-create DDL when enabled) and the batch retried
//   once; if it fails again every row of the batch is rejected with the server's message.
// - Any other server (or bind-encoding) error: the batch is split in halves and each half retried, recursively,
//   so only the rows the server really refuses are rejected and their batch-mates are written. The cost is at
//   most 2n-1 requests for a batch of n rows in which every row fails.
// Every row ends exactly once: written, or rejected with a reason; a message resolves when all its rows have.
import type { Stmt2, TableBind, TdengineClientApi } from "../tdengine/api";
import { backoffDelay, type BackoffOptions } from "../tdengine-connection/backoff";
import type { RowBlock, RowError } from "./mapper";
import { createDatabaseSql, createStableSql, insertSql, useSql, type Precision, type TableSchema } from "./schema";
import { instantIn } from "./timestamps";

export interface Target {
  database: string;
  stable: string;
  schema: TableSchema;
  /** When set, `CREATE DATABASE IF NOT EXISTS ... PRECISION` and `CREATE STABLE IF NOT EXISTS` run before the first prepare. */
  autoCreate?: { precision: Precision };
}

export interface WriteOutcome {
  written: number;
  failed: RowError[];
  latencyMs: number;
}

export type WriterEvent =
  /** A batch is on its way to this super table (its "written" follows): readers may wait for it. */
  | { type: "sending"; database: string; stable: string }
  | {
      type: "written";
      rows: number;
      /** where they landed */
      database: string;
      stable: string;
      /** More rows for the same super table are buffered and go next (e.g. the rest of a large message). */
      more: boolean;
    }
  | { type: "outage"; error: Error }
  | { type: "recovered" }
  | { type: "rejected"; rows: number; error: Error };

export interface WriterOptions {
  /** The shared connection's client; rejects (transport error) when not connected within waitMs. */
  getClient: (waitMs: number) => Promise<TdengineClientApi>;
  /** Write when this many rows are buffered (default 1000). */
  batchRows?: number;
  /**
   * Rows that reach an idle writer (nothing buffered, no batch in flight, no retry pending) are written at once.
   * Rows that arrive while a batch is in flight gather: the next batch goes when it is full (batchRows) or when
   * its oldest row has waited this long (ms, default 100; 0 = as soon as the batch in flight returns). When more
   * than batchRows are waiting, one batch takes up to catchUpRows of them.
   */
  flushMs?: number;
  /**
   * Rows one batch takes at most when more than batchRows are waiting (a writer behind catches up in fewer, larger
   * binds; default CATCH_UP_ROWS, and never fewer than batchRows).
   */
  catchUpRows?: number;
  /** Rows held at most (buffered + in flight); beyond it new messages are refused (default 100000). */
  maxBufferedRows?: number;
  /** Backoff between retries during an outage (default 100 ms doubling to 3 s). */
  retry?: BackoffOptions;
  /** How long one attempt waits for the connection (ms, default 2000). */
  connectWaitMs?: number;
  /**
   * True while the connection moves to another endpoint of a cluster after losing one. A transport failure
   * then is retried once before it counts as an outage: a switch to a working endpoint is not an outage.
   */
  failingOver?: () => boolean;
  onEvent?: (e: WriterEvent) => void;
  random?: () => number;
}

/** Refusal of a message because the buffer bound would be exceeded (catchable; nothing of it was written). */
export class BufferFullError extends Error {
  constructor(readonly buffered: number, readonly bound: number, readonly rows: number) {
    super(`write buffer full: ${buffered} rows are waiting for TDengine (bound ${bound}); refused ${rows} new rows`);
    this.name = "BufferFullError";
  }
}

/** Refusal of a message because the node is closing. */
export class WriterClosedError extends Error {
  constructor() {
    super("the writer is closing; message refused");
    this.name = "WriterClosedError";
  }
}

interface Ticket {
  remaining: number;
  written: number;
  failed: RowError[];
  started: number;
  resolve: (o: WriteOutcome) => void;
}

/** One message's rows as the writer holds them: the mapped block, its ticket, which rows have ended. */
interface Held {
  block: RowBlock;
  ticket: Ticket;
  done: Uint8Array;
}

/**
 * Rows [start, end) of one message. Buffers, batches and retries are lists of segments, so that holding a row
 * costs no object of its own (at 10^6 rows/s the garbage of one object per row was a large part of the cost).
 */
interface Segment {
  held: Held;
  start: number;
  end: number;
}

function rowCount(segs: Segment[]): number {
  let n = 0;
  for (const s of segs) n += s.end - s.start;
  return n;
}

/**
 * Default of WriterOptions.catchUpRows. One bind round trip per batch caps a writer at batch size / round trip
 * time: with the demo's 1,000-row batches on a busy machine that was under 100,000 rows/s, and a backlog only grew.
 */
export const CATCH_UP_ROWS = 10_000;

/** Removes up to `max` rows from the front of `queue` (splitting a segment if needed) and returns them. */
function takeRows(queue: Segment[], max: number): Segment[] {
  const out: Segment[] = [];
  let left = max;
  let k = 0;
  while (k < queue.length && left > 0) {
    const s = queue[k];
    const len = s.end - s.start;
    if (len <= left) {
      out.push(s);
      left -= len;
      k++;
    } else {
      out.push({ held: s.held, start: s.start, end: s.start + left });
      queue[k] = { held: s.held, start: s.start + left, end: s.end };
      left = 0;
    }
  }
  queue.splice(0, k);
  return out;
}

/** Splits segments into the first `n` rows and the rest. */
function splitRows(segs: Segment[], n: number): [Segment[], Segment[]] {
  const first: Segment[] = [];
  const rest: Segment[] = [];
  let left = n;
  for (const s of segs) {
    const len = s.end - s.start;
    if (left >= len) {
      first.push(s);
      left -= len;
    } else if (left > 0) {
      first.push({ held: s.held, start: s.start, end: s.start + left });
      rest.push({ held: s.held, start: s.start + left, end: s.end });
      left = 0;
    } else rest.push(s);
  }
  return [first, rest];
}

/** The rows of segs that have not ended yet, as segments. */
function openRows(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const done = s.held.done;
    let i = s.start;
    while (i < s.end) {
      while (i < s.end && done[i] === 1) i++;
      const from = i;
      while (i < s.end && done[i] === 0) i++;
      if (i > from) out.push(from === s.start && i === s.end ? s : { held: s.held, start: from, end: i });
    }
  }
  return out;
}

interface TargetState {
  target: Target;
  sql: string;
  queue: Segment[];
  /** The prepared statement of a client; `ready` once prepared (used without a promise turn per batch). */
  stmt?: { client: TdengineClientApi; promise: Promise<Stmt2>; ready?: Stmt2 };
  created: boolean;
  precision: Precision;
}

interface Outage {
  error: Error;
  rows: Segment[];
}

/** Server codes meaning "the statement or its target is wrong", not "this row is wrong". */
const STATEMENT_CODES = new Set([
  0x0357, // authentication failure
  0x0362, // super table does not exist (mnode)
  0x0388, // database not exist
  0x0618, // table does not exist
  0x061a, // super table does not exist
  0x2600, // syntax error
  0x2602, // invalid column name
  0x2603, // table does not exist
  0x2616, // database not specified
  0x2644, // permission denied
  0x2662, // fail to get table info
]);

interface MaybeTdError {
  kind?: string;
  code?: number;
  retryable?: boolean;
}

export function isTransportError(e: unknown): boolean {
  const x = e as MaybeTdError;
  if (!x || typeof x !== "object" || typeof x.kind !== "string") return false;
  if (x.kind === "server") return x.retryable === true;
  return x.kind === "refused" || x.kind === "closed" || x.kind === "timeout" || x.kind === "protocol" || x.kind === "tls";
}

function isStatementError(e: unknown): boolean {
  const x = e as MaybeTdError;
  return !!x && x.kind === "server" && typeof x.code === "number" && STATEMENT_CODES.has(x.code);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function describe(e: Error): string {
  const code = (e as MaybeTdError).code;
  const hex = typeof code === "number" ? `0x${code.toString(16).padStart(4, "0")}` : "";
  return hex && code !== 0 && !e.message.includes(hex) ? `${e.message} (code ${hex})` : e.message;
}

export class Writer {
  private readonly opts: Required<Omit<WriterOptions, "onEvent" | "random" | "retry" | "failingOver">> & Pick<WriterOptions, "onEvent" | "random" | "retry" | "failingOver">;
  private readonly targets = new Map<string, TargetState>();
  private queued = 0;
  private unresolved = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private due = false;
  /** When the oldest row of the current gathering arrived (epoch ms), for the flush timer. */
  private gatheringSince = 0;
  private pumping = false;
  private closing = false;
  private stopped = false;
  private inOutage = false;
  /** A transport failure during a failover, not reported: the next failure in a row is an outage. */
  private failoverRetry = false;
  private inFlight: Segment[] | undefined;
  private idleWaiters: Array<() => void> = [];
  /** buildBind's per-row index arrays (group, position, destination), reused from batch to batch. */
  private rowScratch = new Int32Array(0);
  /**
   * buildBind's typed column values, reused from batch to batch: one batch is bound at a time, and bind has read
   * (encoded) them once it settles. A fresh 32-320 KB buffer per batch was 4 % of the node's CPU, plus GC.
   */
  private numberScratch = new Float64Array(0);

  constructor(opts: WriterOptions) {
    this.opts = {
      batchRows: 1000,
      catchUpRows: CATCH_UP_ROWS,
      flushMs: 100,
      maxBufferedRows: 100000,
      connectWaitMs: 2000,
      ...opts,
      retry: { initialMs: 100, maxMs: 3000, ...opts.retry },
    };
    if (!(this.opts.batchRows >= 1)) throw new Error("batch size must be at least 1 row");
  }

  /** Rows accepted and not yet written or rejected (buffered or in flight). */
  get pendingRows(): number {
    return this.unresolved;
  }

  get bound(): number {
    return this.opts.maxBufferedRows;
  }

  /** Throws BufferFullError / WriterClosedError when `rows` more rows cannot be accepted now. */
  checkCapacity(rows: number, reserved = 0): void {
    // While closing, rows of messages that arrived before close() are still taken (and flushed by it).
    if (this.stopped) throw new WriterClosedError();
    if (rows > 0 && this.unresolved + reserved + rows > this.opts.maxBufferedRows) {
      throw new BufferFullError(this.unresolved + reserved, this.opts.maxBufferedRows, rows);
    }
  }

  /** Queues the rows of one message; resolves once every row is written or rejected. */
  submit(target: Target, block: RowBlock): Promise<WriteOutcome> {
    const count = block.length;
    try {
      this.checkCapacity(count);
    } catch (e) {
      return Promise.reject(e);
    }
    const started = Date.now();
    if (count === 0) return Promise.resolve({ written: 0, failed: [], latencyMs: 0 });
    return new Promise<WriteOutcome>((resolve) => {
      const ticket: Ticket = { remaining: count, written: 0, failed: [], started, resolve };
      const held: Held = { block, ticket, done: new Uint8Array(count) };
      if (this.queued === 0) {
        this.gatheringSince = started;
        // An idle writer writes at once: waiting for a timer only adds latency when nothing else is going on.
        if (!this.pumping && !this.retryTimer) this.due = true;
      }
      this.targetState(target).queue.push({ held, start: 0, end: count });
      this.queued += count;
      this.unresolved += count;
      this.kick();
    });
  }

  /**
   * Stops accepting rows, writes what is buffered (retrying as usual) until done or timeoutMs passes, then
   * rejects whatever is left with a reason and returns how many rows were not written.
   */
  async close(timeoutMs: number): Promise<{ unwritten: number }> {
    this.closing = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // Try at once rather than after the current backoff delay, which may exceed the time left.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.kick();
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((r) => {
        deadline = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(deadline);
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const unwritten = this.unresolved;
    if (unwritten > 0) {
      const reason = `not written: the node closed before TDengine accepted the row (waited ${timeoutMs} ms)`;
      const left: Segment[][] = [this.inFlight ?? []];
      for (const ts of this.targets.values()) {
        left.push(ts.queue);
        ts.queue = [];
      }
      this.queued = 0;
      for (const part of left) for (const s of part) this.settleSegment(s, reason);
    }
    for (const ts of this.targets.values()) this.dropStatement(ts);
    return { unwritten };
  }

  private idle(): Promise<void> {
    if (this.unresolved === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private targetState(target: Target): TargetState {
    const key = `${target.database}.${target.stable}`;
    let ts = this.targets.get(key);
    if (!ts || ts.target.schema !== target.schema) {
      // A new schema object for the same table (e.g. re-read after a change) gets a fresh statement.
      const queue = ts?.queue ?? [];
      if (ts) this.dropStatement(ts);
      ts = { target, sql: insertSql(target.database, target.stable, target.schema), queue, created: false, precision: target.autoCreate?.precision ?? "ms" };
      this.targets.set(key, ts);
    }
    return ts;
  }

  private kick(): void {
    if (this.stopped || this.pumping || this.retryTimer || this.queued === 0) return;
    if (this.closing || this.due || this.queued >= this.opts.batchRows) {
      this.pumping = true;
      void this.pump();
    } else if (!this.flushTimer) {
      // Rows that came while a batch was in flight: gather them into a fuller batch, for at most flushMs.
      this.flushTimer = setTimeout(
        () => {
          this.flushTimer = undefined;
          this.due = true;
          this.kick();
        },
        Math.max(0, this.gatheringSince + this.opts.flushMs - Date.now()),
      );
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.queued === 0) {
          this.due = false;
          break;
        }
        if (!(this.closing || this.due || this.queued >= this.opts.batchRows)) break;
        if (this.flushTimer && this.queued >= this.opts.batchRows) {
          clearTimeout(this.flushTimer);
          this.flushTimer = undefined;
        }
        const ts = [...this.targets.values()].find((t) => t.queue.length > 0)!;
        const batchRows = this.opts.batchRows;
        const batch = takeRows(ts.queue, this.queued > batchRows ? Math.max(batchRows, Math.min(this.queued, this.opts.catchUpRows)) : batchRows);
        this.queued -= rowCount(batch);
        // What was due is on its way; rows that arrive while it is in flight gather for the next batch.
        if (this.queued === 0) this.due = false;
        this.inFlight = batch;
        this.emit({ type: "sending", database: ts.target.database, stable: ts.target.stable });
        let outage: Outage | undefined;
        try {
          outage = await this.writeRows(ts, batch, false);
        } catch (e) {
          // A bug must not lose rows silently nor crash the runtime: the batch fails with the error.
          this.rejectAll(batch, asError(e));
        }
        this.inFlight = undefined;
        if (this.stopped) break;
        if (outage) {
          const back = openRows(outage.rows);
          // concat, not unshift(...back): spreading a large batch into arguments can overflow the stack.
          ts.queue = back.concat(ts.queue);
          this.queued += rowCount(back);
          if (!this.inOutage && !this.failoverRetry && this.opts.failingOver?.()) this.failoverRetry = true;
          else if (!this.inOutage) {
            this.inOutage = true;
            this.emit({ type: "outage", error: outage.error });
          }
          const delay = backoffDelay(this.retryAttempt++, this.opts.retry, this.opts.random);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.due = true;
            this.kick();
          }, delay);
          break;
        }
        this.retryAttempt = 0;
        this.failoverRetry = false;
        if (this.inOutage) {
          this.inOutage = false;
          this.emit({ type: "recovered" });
        }
      }
    } finally {
      this.pumping = false;
      this.kick();
    }
  }

  /** Writes rows; returns the rows to retry later when the transport failed. */
  private async writeRows(ts: TargetState, batch: Segment[], statementRetried: boolean): Promise<Outage | undefined> {
    let client: TdengineClientApi;
    let stmt: Stmt2;
    try {
      client = await this.opts.getClient(this.opts.connectWaitMs);
      const prepared = ts.stmt?.client === client ? ts.stmt.ready : undefined;
      stmt = prepared ?? (await this.statement(ts, client));
    } catch (e) {
      if (isTransportError(e)) return { error: asError(e), rows: batch };
      this.dropStatement(ts);
      // DDL or prepare refused: a statement-level problem whatever the code; retry once from scratch.
      if (!statementRetried) {
        ts.created = false;
        return this.writeRows(ts, batch, true);
      }
      this.rejectAll(batch, asError(e));
      return undefined;
    }
    try {
      await stmt.bind(this.buildBind(ts, batch));
      await stmt.exec();
    } catch (e) {
      if (isTransportError(e)) {
        this.dropStatement(ts);
        return { error: asError(e), rows: batch };
      }
      // The server or the encoder refused something: prepare afresh next time, then narrow it down.
      this.dropStatement(ts);
      if (isStatementError(e)) {
        if (!statementRetried) {
          ts.created = false;
          return this.writeRows(ts, batch, true);
        }
        this.rejectAll(batch, asError(e));
        return undefined;
      }
      const total = rowCount(batch);
      if (total === 1) {
        this.rejectAll(batch, asError(e));
        return undefined;
      }
      const [head, tail] = splitRows(batch, total >> 1);
      const first = await this.writeRows(ts, head, statementRetried);
      if (first) return { error: first.error, rows: first.rows.concat(tail) };
      return this.writeRows(ts, tail, statementRetried);
    }
    let n = 0;
    for (const s of batch) n += this.settleSegment(s);
    if (n > 0) this.emit({ type: "written", rows: n, database: ts.target.database, stable: ts.target.stable, more: this.writesNext(ts) });
    return undefined;
  }

  /** Whether rows of this target are buffered and the pump writes them without waiting (not gathering). */
  private writesNext(ts: TargetState): boolean {
    return ts.queue.length > 0 && (this.closing || this.due || this.queued >= this.opts.batchRows);
  }

  private async statement(ts: TargetState, client: TdengineClientApi): Promise<Stmt2> {
    if (ts.stmt && ts.stmt.client === client) return ts.stmt.promise;
    if (ts.stmt) this.dropStatement(ts);
    const { target } = ts;
    if (target.autoCreate && !ts.created) {
      await client.exec(createDatabaseSql(target.database, target.autoCreate.precision));
      await client.exec(createStableSql(target.database, target.stable, target.schema));
      ts.created = true;
    }
    // The bound subtable name is unqualified, so TDengine resolves it in the connection's current database,
    // which is not set at connect time (it may not exist then): select it right before preparing.
    await client.exec(useSql(target.database));
    const promise = client.prepare(ts.sql);
    const entry: NonNullable<TargetState["stmt"]> = { client, promise };
    ts.stmt = entry;
    let stmt: Stmt2;
    try {
      stmt = await promise;
    } catch (e) {
      if (ts.stmt === entry) ts.stmt = undefined;
      throw e;
    }
    const tsField = stmt.fields.find((f) => f.bindType === "column");
    if (tsField) ts.precision = tsField.precision;
    entry.ready = stmt;
    return stmt;
  }

  private dropStatement(ts: TargetState): void {
    const s = ts.stmt;
    ts.stmt = undefined;
    if (s && !s.client.closed) {
      s.promise.then((st) => st.close()).catch(() => undefined);
    }
  }

  /**
   * Groups the batch's rows by subtable into one TableBind each, every column pre-sized: typed columns stay typed
   * (the encoder copies them whole), timestamps go into a Float64Array unless some need a bigint (ns) or are exact.
   */
  private buildBind(ts: TargetState, batch: Segment[]): TableBind[] {
    const ncols = ts.target.schema.columns.length;
    const precision = ts.precision;
    const total = rowCount(batch);
    // Pass 1: each row's subtable (group) and its position within it; one map lookup per subtable and segment.
    // The per-row index arrays only live during this call: reused from batch to batch instead of allocated.
    if (this.rowScratch.length < 3 * total) this.rowScratch = new Int32Array(3 * total);
    const group = this.rowScratch.subarray(0, total);
    const pos = this.rowScratch.subarray(total, 2 * total);
    const dest = this.rowScratch.subarray(2 * total, 3 * total);
    const byName = new Map<string, number>();
    const names: string[] = [];
    const tagsOf: unknown[][] = [];
    const counts: number[] = [];
    let exactTs = precision === "ns";
    const withNulls = new Array<boolean>(ncols).fill(false);
    let r = 0;
    for (const s of batch) {
      const { tables, table, tags, exact, nulls } = s.held.block;
      if (exact !== undefined) exactTs = true;
      for (let c = 1; c < ncols; c++) if (nulls[c - 1] !== undefined) withNulls[c] = true;
      const local = new Int32Array(tables.length).fill(-1);
      for (let i = s.start; i < s.end; i++, r++) {
        const id = table[i];
        let g = local[id];
        if (g < 0) {
          const name = tables[id];
          g = byName.get(name) ?? -1;
          if (g < 0) {
            // Tags only matter when TDengine creates the subtable; the first row of the batch supplies them.
            g = names.push(name) - 1;
            tagsOf.push(tags[i]);
            counts.push(0);
            byName.set(name, g);
          }
          local[id] = g;
        }
        group[r] = g;
        pos[r] = counts[g]++;
      }
    }
    const ntables = names.length;
    const binds: TableBind[] = new Array<TableBind>(ntables);
    for (let g = 0; g < ntables; g++) binds[g] = { table: names[g], tags: tagsOf[g], columns: new Array<TableBind["columns"][number]>(ncols) };
    // Typed columns: one range of one Float64Array per column, in which each subtable's rows take one range (row r
    // goes to dest[r]), handed out as views; plain columns (strings, BOOL, BIGINT...): one array per subtable.
    const offsets = new Int32Array(ntables);
    for (let g = 1; g < ntables; g++) offsets[g] = offsets[g - 1] + counts[g - 1];
    for (let k = 0; k < total; k++) dest[k] = offsets[group[k]] + pos[k];
    const first = batch[0].held.block;
    let typed = exactTs ? 0 : 1;
    for (let c = 1; c < ncols; c++) if (!Array.isArray(first.cols[c - 1])) typed++;
    // One buffer for every typed column of the batch; every place of it is written below (dest is a permutation).
    if (this.numberScratch.length < typed * total) this.numberScratch = new Float64Array(typed * total);
    const numbers = this.numberScratch.subarray(0, typed * total);
    let nextRange = 0;
    const range = (): Float64Array => numbers.subarray(total * nextRange, total * ++nextRange);
    const perTable = (): unknown[][] => {
      const out = new Array<unknown[]>(ntables);
      for (let g = 0; g < ntables; g++) out[g] = new Array<unknown>(counts[g]);
      return out;
    };
    // Pass 2, column by column: each row's value to its place.
    if (exactTs) {
      const times = perTable();
      r = 0;
      for (const s of batch) {
        const { ts: ms, exact } = s.held.block;
        for (let i = s.start; i < s.end; i++, r++) times[group[r]][pos[r]] = instantIn(exact?.[i] ?? ms[i], precision);
      }
      for (let g = 0; g < ntables; g++) binds[g].columns[0] = times[g];
    } else {
      const all = range();
      const scale = precision === "ms" ? 1 : 1000; // "us"; ns and exact instants took the branch above
      r = 0;
      for (const s of batch) {
        const ms = s.held.block.ts;
        for (let i = s.start; i < s.end; i++, r++) all[dest[r]] = ms[i] * scale;
      }
      for (let g = 0; g < ntables; g++) binds[g].columns[0] = all.subarray(offsets[g], offsets[g] + counts[g]);
    }
    for (let c = 1; c < ncols; c++) {
      if (Array.isArray(first.cols[c - 1])) {
        const dst = perTable();
        r = 0;
        for (const s of batch) {
          const src = s.held.block.cols[c - 1];
          for (let i = s.start; i < s.end; i++, r++) dst[group[r]][pos[r]] = src[i];
        }
        for (let g = 0; g < ntables; g++) binds[g].columns[c] = dst[g];
      } else {
        const all = range();
        r = 0;
        for (const s of batch) {
          const src = s.held.block.cols[c - 1] as Float64Array;
          for (let i = s.start; i < s.end; i++, r++) all[dest[r]] = src[i];
        }
        for (let g = 0; g < ntables; g++) binds[g].columns[c] = all.subarray(offsets[g], offsets[g] + counts[g]);
      }
      if (!withNulls[c]) continue;
      const marks = new Uint8Array(total);
      r = 0;
      for (const s of batch) {
        const srcNulls = s.held.block.nulls[c - 1];
        if (srcNulls !== undefined) for (let i = s.start, k = r; i < s.end; i++, k++) marks[dest[k]] = srcNulls[i];
        r += s.end - s.start;
      }
      for (let g = 0; g < ntables; g++) (binds[g].nulls ??= new Array<Uint8Array | undefined>(ncols).fill(undefined))[c] = marks.subarray(offsets[g], offsets[g] + counts[g]);
    }
    return binds;
  }

  private rejectAll(batch: Segment[], e: Error): void {
    // A value the client could not encode never reached TDengine: say so, and name the field.
    const x = e as MaybeTdError & { field?: string };
    const reason = x.kind === "invalid" ? `not sent: the client could not encode the row for TDengine: ${e.message}` : `TDengine refused the row: ${describe(e)}`;
    let n = 0;
    for (const s of batch) n += this.settleSegment(s, reason, x.kind === "invalid" ? x.field : undefined);
    if (n > 0) this.emit({ type: "rejected", rows: n, error: e });
  }

  /**
   * Ends the rows of a segment that have not ended yet (written, or rejected with `reason`), each exactly once;
   * returns how many it ended.
   */
  private settleSegment(s: Segment, reason?: string, field?: string): number {
    const { done, ticket: t, block } = s.held;
    let n = 0;
    if (reason === undefined && done.subarray(s.start, s.end).indexOf(1) === -1) {
      // The common case, no row of the segment ended yet: mark them all at once.
      done.fill(1, s.start, s.end);
      n = s.end - s.start;
    } else {
      for (let i = s.start; i < s.end; i++) {
        if (done[i] === 1) continue;
        done[i] = 1;
        n++;
        if (reason !== undefined) t.failed.push(field === undefined ? { index: block.index[i], reason } : { index: block.index[i], field, reason });
      }
    }
    if (n === 0) return 0;
    this.unresolved -= n;
    if (reason === undefined) t.written += n;
    t.remaining -= n;
    if (t.remaining === 0) {
      t.failed.sort((a, b) => a.index - b.index);
      t.resolve({ written: t.written, failed: t.failed, latencyMs: Date.now() - t.started });
    }
    if (this.unresolved === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
    return n;
  }

  private emit(e: WriterEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // The observer's failure must not stop writing.
    }
  }
}
