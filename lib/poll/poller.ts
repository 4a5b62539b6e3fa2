// One poller: the watermark state of one query and the paging loop that reads every row after it exactly
// once. No timers and no Node-RED here; the caller decides when to poll and what to do with the rows.
//
// Semantics (TDengine): subtables of a super table share timestamps and `ORDER BY ts LIMIT n` can split the
// rows of one timestamp across pages, so pages are read with `ts >= bound` and rows are de-duplicated on
// (tbname, ts) against the keys already emitted (RecentKeys). A page that comes back full is followed by the
// next page from its newest timestamp, until a short page says the poller has caught up. If one timestamp has
// more rows than a page (so `ts >= bound` cannot advance), that timestamp is read whole with `ts = bound`
// and paging continues with `ts > bound`.
//
// Late rows (lookback): re-reading the whole lookback window on every poll costs as much as reading every row
// again lookback/interval times over. In table mode a poll first counts the rows of the window
// [watermark - lookback, watermark] with one COUNT(*) and compares the count with the rows it emitted there (all
// remembered, see RecentKeys): equal means nothing arrived late, and the poll reads from the watermark only;
// different means late rows (or deletions): halves of the window are counted in turn to find where
// (late-ranges.ts), those ranges alone are read, de-duplicated as always, then the poll goes on from the
// watermark. A DELETE of as many rows as arrived late in the same range would hide them from the count.
import { createHash } from "node:crypto";
import type { ColumnMeta, Precision, QueryResult } from "../tdengine/api";
import type { QueryWithParamsOptions } from "../tdengine/client";
import { findLateRanges } from "./late-ranges";
import { RecentKeys } from "./recent-keys";
import { inspectPage, PageEmitter, type PageShape } from "./page";
import { makeRowConverter, type TimestampOutput } from "./rows";
import { StatementCache } from "./statement-cache";
import { buildTableQuery, buildWindowCountQuery, prepareUserSql, TBNAME, validateTableSource, type BoundOp, type TableSource } from "./sql";
import { epochToMs, INT64_MAX, msToEpoch, UNITS_PER_MS } from "./timestamps";

/**
 * What the poller needs from a TDengine client. The poller passes its own statement cache in
 * `opts.statements`; a client that honours it reuses prepared statements across polls.
 */
export interface QueryClient {
  queryWithParams(sql: string, params: unknown[], opts?: QueryWithParamsOptions): Promise<QueryResult>;
}

export type PollSource =
  | { mode: "table"; table: TableSource; /** emit the tbname column */ includeTbname: boolean }
  | { mode: "sql"; sql: string; /** name of the result column holding the row timestamp */ tsColumn: string };

/** Where a poller without a watermark starts. */
export type StartPosition = { kind: "now" } | { kind: "lookback"; ms: number } | { kind: "everything" };

export interface PollerOptions {
  source: PollSource;
  start: StartPosition;
  /** LIMIT of one page (table mode); in SQL mode, the row count at which a page counts as full. */
  pageSize?: number;
  /** A poll stops after this many new rows and reports caughtUp = false (the caller polls again at once). */
  maxRowsPerPoll?: number;
  /** Re-reads this far behind the watermark to catch late (out-of-order) rows, still without duplicates. */
  lookbackMs?: number;
  /** Bound of the emitted-keys memory (see RecentKeys). */
  maxRecentKeys?: number;
  timestamps?: TimestampOutput;
  requestTimeoutMs?: number;
  /** Clock (epoch ms); tests pass their own. */
  now?: () => number;
}

export const POLLER_DEFAULTS = {
  pageSize: 10000,
  maxRowsPerPoll: 10000,
  lookbackMs: 0,
  maxRecentKeys: 100000,
  timestamps: "date" as TimestampOutput,
};

export interface WatermarkInfo {
  /** Epoch in the database precision, as a decimal string (ns values do not fit a JS number). */
  value: string;
  precision: Precision;
  /** The same instant in epoch milliseconds. */
  ms: number;
}

export interface PollResult {
  rows: Record<string, unknown>[];
  columns: ColumnMeta[];
  watermark?: WatermarkInfo;
  /** False when maxRowsPerPoll or an error cut the poll short. */
  caughtUp: boolean;
  pages: number;
  /** Rows decoded (new + duplicates). */
  rowsRead: number;
  /** Table mode with a lookback: whether the window was re-read because its row count showed late rows. */
  lookbackRead?: boolean;
  /** Newest timestamp among the emitted rows, epoch ms. */
  newestMs?: number;
  /** Rows without a usable timestamp (SQL mode), left out. */
  rowsWithoutTs: number;
  /** SQL mode: more rows share one timestamp than a page holds, so the query cannot advance. */
  stalled: boolean;
  /**
   * Set when a page failed after earlier pages produced rows: those rows are in `rows` and already counted
   * in the watermark, so the caller must emit them and report the error.
   */
  error?: Error;
}

export interface PersistedState {
  v: 1;
  fingerprint: string;
  precision: Precision;
  watermark: string;
  /** Keys of the rows at the watermark timestamp (so a restart does not repeat them). */
  boundary: string[];
}

/** What the pages of one poll add up to. */
interface PageAccumulator {
  rows: Record<string, unknown>[];
  pages: number;
  rowsRead: number;
  rowsWithoutTs: number;
  stalled: boolean;
  caughtUp: boolean;
  newest?: bigint;
  error?: Error;
  /** Rows this poll may emit: maxRowsPerPoll, or less (see poll's maxRows). */
  cap: number;
}

/** COUNT queries one poll may spend locating late rows (a 50,000-row window needs about ten). */
const LATE_RANGE_MAX_COUNTS = 24;

interface Shape extends PageShape {
  signature: string;
}

/** Rows converted between two turns of the event loop while the next page is being fetched. */
const EMIT_CHUNK_ROWS = 1000;

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type NextPage = { kind: "page"; op: BoundOp; bound: bigint | undefined } | { kind: "done" } | { kind: "stalled" };

/** The next page's query, asked for by a poll that maxRowsPerPoll stopped, kept for the poll that follows. */
interface CarriedPage {
  client: QueryClient;
  op: BoundOp;
  bound: bigint | undefined;
  result: Promise<QueryResult>;
}

/** Waits for a query without caring how it ends (its error, if any, belongs to nobody). */
const settle = (p: Promise<unknown>): Promise<void> => p.then(
  () => undefined,
  () => undefined,
);

export class Poller {
  readonly fingerprint: string;
  private readonly source: PollSource;
  private readonly start: StartPosition;
  private readonly pageSize: number;
  /** New rows after which a poll stops (it may finish the page it is on). */
  readonly maxRowsPerPoll: number;
  private readonly lookbackMs: number;
  private readonly timestamps: TimestampOutput;
  private readonly requestTimeoutMs?: number;
  private readonly now: () => number;
  private readonly userSql?: { sql: string; params: number };
  private readonly recent: RecentKeys;

  private precision?: Precision;
  private watermark?: bigint;
  /** The query never reads below this: the start position, a restored watermark, or evicted keys. */
  private minFloor?: bigint;
  private shape?: Shape;
  /** Prepared statements reused across polls; close() releases them. */
  private readonly statements = new StatementCache();
  /**
   * Catching up, a poll ends at maxRowsPerPoll and the caller polls again at once: the page that poll will read
   * first is asked for before the rows are handed out, so the server works while the caller emits them.
   */
  private carried?: CarriedPage;

  constructor(opts: PollerOptions) {
    this.source = opts.source;
    this.start = opts.start;
    this.pageSize = positiveInt(opts.pageSize ?? POLLER_DEFAULTS.pageSize, "page size");
    this.maxRowsPerPoll = positiveInt(opts.maxRowsPerPoll ?? POLLER_DEFAULTS.maxRowsPerPoll, "max rows per poll");
    this.lookbackMs = opts.lookbackMs ?? POLLER_DEFAULTS.lookbackMs;
    if (!Number.isFinite(this.lookbackMs) || this.lookbackMs < 0) throw new RangeError("lookback must be >= 0 ms");
    if (opts.start.kind === "lookback" && !(Number.isFinite(opts.start.ms) && opts.start.ms >= 0)) {
      throw new RangeError("the start window must be >= 0 ms");
    }
    this.timestamps = opts.timestamps ?? POLLER_DEFAULTS.timestamps;
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.now = opts.now ?? Date.now;
    this.recent = new RecentKeys(positiveInt(opts.maxRecentKeys ?? POLLER_DEFAULTS.maxRecentKeys, "max remembered keys"));
    if (opts.source.mode === "table") {
      validateTableSource(opts.source.table);
    } else {
      if (!opts.source.tsColumn) throw new Error("the timestamp column name is required");
      this.userSql = prepareUserSql(opts.source.sql);
    }
    this.fingerprint = fingerprintOf(opts.source);
  }

  /** The current watermark, if the poller has one yet. */
  get watermarkInfo(): WatermarkInfo | undefined {
    if (this.watermark === undefined || !this.precision) return undefined;
    return { value: this.watermark.toString(), precision: this.precision, ms: epochToMs(this.watermark, this.precision) };
  }

  /** Number of emitted keys remembered for de-duplication. */
  get rememberedKeys(): number {
    return this.recent.size;
  }

  /** Closes the prepared statements kept for polling (call when the poller is discarded). */
  async close(): Promise<void> {
    // A page asked for ahead still uses a statement: let it finish before the statements are closed.
    await this.dropCarried();
    await this.statements.close();
  }

  /** Forgets the watermark: the next poll starts again from the start position. */
  reset(): void {
    void this.dropCarried();
    this.watermark = undefined;
    this.minFloor = undefined;
    this.recent.clear();
  }

  /** State to persist after rows were emitted; undefined before the first watermark exists. */
  snapshot(): PersistedState | undefined {
    if (this.watermark === undefined || !this.precision) return undefined;
    return {
      v: 1,
      fingerprint: this.fingerprint,
      precision: this.precision,
      watermark: this.watermark.toString(),
      boundary: this.recent.keysAt(this.watermark),
    };
  }

  /**
   * Resumes from a persisted state. Returns false (and changes nothing) when the state is malformed or was
   * written for another query (the fingerprint differs).
   */
  restore(state: unknown): boolean {
    if (!isPersistedState(state) || state.fingerprint !== this.fingerprint) return false;
    const wm = BigInt(state.watermark);
    this.reset();
    this.precision = state.precision;
    this.watermark = wm;
    // Rows older than the watermark were emitted before the restart but are not remembered any more.
    this.minFloor = wm;
    for (const k of state.boundary) this.recent.add(wm, k);
    return true;
  }

  /**
   * Reads every new row (up to maxRowsPerPoll). Throws when the first page fails. `lateRows: false` skips the
   * lookback check of this poll (table mode) and reads from the watermark only: for polls woken by a local write,
   * which come often; late rows are still caught by the next poll that checks (the interval's).
   * `maxRows` lowers maxRowsPerPoll for this poll: a poll whose rows join an earlier poll's in one message
   * keeps that message within maxRowsPerPoll.
   */
  async poll(client: QueryClient, opts: { lateRows?: boolean; maxRows?: number } = {}): Promise<PollResult> {
    if (this.watermark === undefined && this.minFloor === undefined) await this.initialise(client);

    const cap = Math.max(1, Math.min(this.maxRowsPerPoll, opts.maxRows ?? Infinity));
    const acc: PageAccumulator = { rows: [], pages: 0, rowsRead: 0, rowsWithoutTs: 0, stalled: false, caughtUp: true, cap };
    const floor = this.floor();
    let lookbackRead: boolean | undefined;
    let from = floor;
    if (this.source.mode === "table" && this.lookbackMs > 0 && floor !== undefined && this.watermark !== undefined && floor < this.watermark) {
      // The COUNTs compare the window with what was emitted; a page still on its way is waited for first, so the
      // requests of the poll stay in order on the connection.
      if (this.carried) await settle(this.carried.result);
      const late = opts.lateRows === false ? [] : await this.lateRanges(client, this.source.table, floor, this.watermark);
      lookbackRead = late.length > 0;
      // Reading late ranges may end the poll before the read from the watermark: a carried page would grow old.
      if (lookbackRead) await this.dropCarried();
      // Late rows: read just the ranges whose counts showed them, then on from the watermark. The rows at the
      // watermark (remembered) and after it are all there is to read otherwise.
      for (const [lo, hi] of late) {
        if (!(await this.readPages(client, acc, floor, lo, hi))) break;
      }
      from = this.watermark;
    }
    if (acc.caughtUp) await this.readPages(client, acc, floor, from);

    this.forgetOldKeys();
    return {
      rows: acc.rows,
      columns: this.shape?.converter.columns ?? [],
      watermark: this.watermarkInfo,
      caughtUp: acc.caughtUp,
      pages: acc.pages,
      rowsRead: acc.rowsRead,
      lookbackRead,
      newestMs: acc.newest !== undefined && this.precision ? epochToMs(acc.newest, this.precision) : undefined,
      rowsWithoutTs: acc.rowsWithoutTs,
      stalled: acc.stalled,
      error: acc.error,
    };
  }

  /**
   * Pages of rows from `start` (to `upper`, inclusive, when given: table mode only) into `acc`, each emitted once.
   * Returns false when the poll must stop here (maxRowsPerPoll, or an error after rows); throws when a page fails
   * before any row of the poll.
   */
  private async readPages(client: QueryClient, acc: PageAccumulator, floor: bigint | undefined, start: bigint | undefined, upper?: bigint): Promise<boolean> {
    let bound = start;
    let op: BoundOp = ">=";
    const ordered = this.source.mode === "table";
    const lookbackUnits = (p: Precision): bigint => (ordered ? BigInt(Math.floor(this.lookbackMs)) * UNITS_PER_MS[p] : 0n);
    // The first page may have been asked for by the poll before (CarriedPage).
    const carried = upper === undefined ? await this.takeCarried(client, op, bound) : undefined;
    /** The next page's query, sent before this page's rows are converted (see below). */
    let prefetched: Promise<QueryResult> | undefined = carried && Promise.resolve(carried);
    for (;;) {
      let res: QueryResult;
      let shape: Shape;
      try {
        res = await (prefetched ?? this.query(client, op, bound, undefined, upper));
        prefetched = undefined;
        shape = this.shapeOf(res);
      } catch (err) {
        // Rows of earlier pages are already in the state: hand them out with the error, never drop them.
        if (acc.rows.length === 0) throw err;
        acc.error = err instanceof Error ? err : new Error(String(err));
        acc.caughtUp = false;
        return false;
      }
      acc.pages++;
      acc.rowsRead += res.rows.length;
      if (!this.precision) this.precision = res.precision;
      const precision = this.precision;
      const page = inspectPage(res.rows, shape.tsIndex, precision, ordered);
      const next = this.nextPage(res.rows.length, page.max, op, bound);
      // The next query does not depend on which rows of this page are new, only on its newest timestamp: it is
      // asked for now and the server works on it while this page's objects are built. This poll reads it if it
      // goes on; if the page reaches the cap, the next poll does (open-ended reads carry it, see CarriedPage).
      // A lookback range does not carry, so it asks ahead only when sure to go on (even if every row is new).
      if (next.kind === "page" && (upper === undefined || acc.rows.length + res.rows.length < acc.cap)) {
        prefetched = this.query(client, next.op, next.bound, undefined, upper);
        prefetched.catch(() => undefined); // awaited (and its error handled) at the top of the loop, or carried
      }
      const emitter = new PageEmitter(page, { shape, recent: this.recent, floor, lookbackUnits: lookbackUnits(precision) }, acc.rows);
      for (let at = 0; at < res.rows.length; at += EMIT_CHUNK_ROWS) {
        // While the next page is on its way, its requests (bind, exec, result, fetch) and replies go on between
        // chunks, instead of waiting for the whole page to be built.
        if (prefetched && at > 0) await yieldToIo();
        emitter.emit(at, Math.min(res.rows.length, at + EMIT_CHUNK_ROWS));
      }
      const emitted = emitter.result();
      acc.rowsWithoutTs += emitted.withoutTs;
      if (emitted.newest !== undefined && (acc.newest === undefined || emitted.newest > acc.newest)) acc.newest = emitted.newest;
      if (acc.newest !== undefined && (this.watermark === undefined || acc.newest > this.watermark)) this.watermark = acc.newest;

      if (acc.rows.length >= acc.cap) {
        acc.caughtUp = false;
        // The poll that follows (at once, see CarriedPage) starts where this one stops, with the page asked for
        // above. Only an open-ended read asks ahead when it may stop here (a lookback range ends at its bound).
        if (prefetched && next.kind === "page") this.carried = { client, op: next.op, bound: next.bound, result: prefetched };
        return false;
      }
      if (next.kind !== "page") {
        if (next.kind === "stalled") acc.stalled = true;
        return true;
      }
      op = next.op;
      bound = next.bound;
    }
  }

  /**
   * What follows a page of `count` rows whose newest timestamp is `max`, read with `op bound`. Table mode: a
   * full page is followed by the next from its newest timestamp; a full page that did not advance (one
   * timestamp has more rows than a page) is followed by that timestamp read whole (`=`), then by `>`.
   */
  private nextPage(count: number, max: bigint | undefined, op: BoundOp, bound: bigint | undefined): NextPage {
    if (this.source.mode === "table") {
      // The whole group at `bound` has been read; continue after it.
      if (op === "=") return { kind: "page", op: ">", bound };
      if (count < this.pageSize || max === undefined) return { kind: "done" };
      if (op === ">=" && max === bound) return { kind: "page", op: "=", bound };
      return { kind: "page", op: ">=", bound: max };
    }
    if (count < this.pageSize || max === undefined) return { kind: "done" };
    if (bound !== undefined && max <= bound) return { kind: "stalled" };
    return { kind: "page", op, bound: max };
  }

  /**
   * The carried page, when it was asked for on this client with this bound and has not failed; otherwise it is
   * dropped (undefined: the caller asks again).
   */
  private async takeCarried(client: QueryClient, op: BoundOp, bound: bigint | undefined): Promise<QueryResult | undefined> {
    const c = this.carried;
    if (!c) return undefined;
    this.carried = undefined;
    if (c.client !== client || c.op !== op || c.bound !== bound) {
      await settle(c.result);
      return undefined;
    }
    // A failure (a connection lost since, a timeout) is not this poll's: the page is asked for again.
    return c.result.catch(() => undefined);
  }

  private async dropCarried(): Promise<void> {
    const c = this.carried;
    this.carried = undefined;
    if (c) await settle(c.result);
  }

  /** Sets the start watermark. "now" and a start window need the database precision first. */
  private async initialise(client: QueryClient): Promise<void> {
    if (this.start.kind === "everything") {
      // No floor: the first pages read from the oldest row (epoch 0 bound, see floor()).
      this.minFloor = 0n;
      return;
    }
    if (!this.precision) {
      // A page bound at the largest timestamp returns no rows but tells the result precision.
      const probe = await this.query(client, ">=", INT64_MAX, 1);
      this.precision = probe.precision;
    }
    const back = this.start.kind === "lookback" ? this.start.ms : 0;
    const start = msToEpoch(this.now() - back, this.precision);
    // The start is the first watermark (so it is persisted even before a row arrives) and a floor that a
    // late-row lookback never reads below.
    this.minFloor = start;
    this.watermark = start;
  }

  /** Lower bound of the next poll: watermark minus lookback, never below minFloor. */
  private floor(): bigint | undefined {
    let f = this.minFloor;
    if (this.watermark !== undefined) {
      const lb = this.precision ? BigInt(Math.floor(this.lookbackMs)) * UNITS_PER_MS[this.precision] : 0n;
      const w = this.watermark - lb;
      if (f === undefined || w > f) f = w;
    }
    return f;
  }

  private forgetOldKeys(): void {
    const floor = this.floor();
    if (floor !== undefined) this.recent.pruneBelow(floor);
    const evicted = this.recent.enforceBound();
    if (evicted !== undefined && (this.minFloor === undefined || evicted + 1n > this.minFloor)) this.minFloor = evicted + 1n;
  }

  /** The ranges of [lo, hi] holding rows not emitted (counts differ; rows are unique per tbname and ts), oldest first. */
  private async lateRanges(client: QueryClient, table: TableSource, lo: bigint, hi: bigint): Promise<[bigint, bigint][]> {
    const opts: QueryWithParamsOptions = { statements: this.statements };
    if (this.requestTimeoutMs) opts.timeoutMs = this.requestTimeoutMs;
    const sql = buildWindowCountQuery(table);
    const probe = {
      count: async (a: bigint, b: bigint): Promise<number> => {
        const res = await client.queryWithParams(sql, [a, b], opts);
        // An aggregate over no rows may answer no row at all.
        return res.rows.length === 0 ? 0 : Number(res.rows[0][0]);
      },
      emitted: (a: bigint, b: bigint): number => this.recent.countBetween(a, b),
    };
    // Ranges small enough to read are a tenth of a page: a late row costs a page read at most.
    const { ranges } = await findLateRanges(probe, lo, hi, { readRows: Math.max(1, Math.floor(this.pageSize / 10)), maxCounts: LATE_RANGE_MAX_COUNTS });
    return ranges;
  }

  private query(client: QueryClient, op: BoundOp, bound: bigint | undefined, limit?: number, upper?: bigint): Promise<QueryResult> {
    const value = bound ?? 0n;
    const opts: QueryWithParamsOptions = {};
    if (this.requestTimeoutMs) opts.timeoutMs = this.requestTimeoutMs;
    // The one-off precision probe (LIMIT 1) is not worth keeping a statement for.
    if (limit === undefined) opts.statements = this.statements;
    if (this.source.mode === "table") {
      const sql = buildTableQuery(this.source.table, op, op === "=" ? undefined : (limit ?? this.pageSize), upper !== undefined);
      return client.queryWithParams(sql, upper !== undefined ? [value, upper] : [value], opts);
    }
    const u = this.userSql!;
    return client.queryWithParams(u.sql, new Array<bigint>(u.params).fill(value), opts);
  }

  private shapeOf(res: QueryResult): Shape {
    const signature = res.columns.map((c) => `${c.name}:${c.type}:${c.precision ?? ""}`).join(",");
    if (this.shape?.signature === signature) return this.shape;
    const names = res.columns.map((c) => c.name.toLowerCase());
    const tsName = (this.source.mode === "table" ? this.source.table.tsColumn : this.source.tsColumn).toLowerCase();
    const tsIndex = names.indexOf(tsName);
    if (tsIndex < 0) {
      throw new Error(`the query result has no timestamp column "${tsName}" (columns: ${res.columns.map((c) => c.name).join(", ")})`);
    }
    const keyIndex = names.lastIndexOf(TBNAME);
    const omit = new Set<number>();
    if (this.source.mode === "table" && !this.source.includeTbname && keyIndex >= 0) omit.add(keyIndex);
    const converter = makeRowConverter(res.columns, res.precision, this.timestamps, omit);
    this.shape = { signature, tsIndex, keyIndex, converter };
    return this.shape;
  }
}

function positiveInt(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

function fingerprintOf(source: PollSource): string {
  const basis =
    source.mode === "table"
      ? ["table", source.table.database, source.table.table, source.table.tsColumn].join("\u0000")
      : ["sql", source.sql.trim(), source.tsColumn].join("\u0000");
  return createHash("sha256").update(basis).digest("hex").slice(0, 16);
}

function isPersistedState(s: unknown): s is PersistedState {
  if (!s || typeof s !== "object") return false;
  const o = s as Record<string, unknown>;
  return (
    o.v === 1 &&
    typeof o.fingerprint === "string" &&
    (o.precision === "ms" || o.precision === "us" || o.precision === "ns") &&
    typeof o.watermark === "string" &&
    /^-?\d+$/.test(o.watermark) &&
    Array.isArray(o.boundary) &&
    o.boundary.every((k) => typeof k === "string")
  );
}
