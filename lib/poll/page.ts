// One page of a poll: which of its rows are new (above the floor, not emitted before) and their row objects.
//
// A page is read in two steps. `inspectPage` finds the page's newest timestamp, which decides the next query,
// so the poller can send it before a PageEmitter builds this page's objects. The emitter de-duplicates on
// (tbname, ts) against the remembered keys (RecentKeys) and converts the rows.
//
// The fast path (catching up over a table, ~10^6 rows/s): in table mode the rows come in timestamp order, and
// the decoder gives every ms/us epoch as a safe-integer number. Such a page is de-duplicated without a bigint
// per row. Only two kinds of rows can be remembered already or must be remembered for later: rows at or below
// the newest remembered timestamp (a `ts >= bound` page starts with them), and rows that stay within the
// lookback of the page's newest timestamp (the next page and the next poll read from there; the poll forgets
// every older key when it ends). Both go through RecentKeys as before; the rows in between only need to be
// unique among themselves, which in timestamp order means within their timestamp. Any other page (SQL mode,
// bigint epochs, rows out of order) takes the general path, row by row through RecentKeys.
import type { RecentKeys } from "./recent-keys";
import type { RowConverter } from "./rows";
import type { Precision } from "../tdengine/api";
import { toEpoch } from "./timestamps";

export interface PageShape {
  tsIndex: number;
  /** Index of tbname, or -1 (SQL mode without it: the key is every other value of the row). */
  keyIndex: number;
  converter: RowConverter;
}

export interface InspectedPage {
  rows: unknown[][];
  /** Newest timestamp of the page (every row with a timestamp counts, also those below the floor). */
  max?: bigint;
  /** Epochs per row when the page takes the general path (undefined where a row has no usable timestamp). */
  epochs?: (bigint | undefined)[];
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Finds the newest timestamp and picks the path. `ordered`: the query sorts by the timestamp (table mode), so
 * a page whose epochs are ascending safe-integer numbers can take the fast path.
 */
export function inspectPage(rows: unknown[][], tsIndex: number, precision: Precision, ordered: boolean): InspectedPage {
  if (ordered && rows.length > 0) {
    let prev = -Infinity;
    let fast = true;
    for (let r = 0; r < rows.length; r++) {
      const t = rows[r][tsIndex];
      if (typeof t !== "number" || !Number.isSafeInteger(t) || t < prev) {
        fast = false;
        break;
      }
      prev = t;
    }
    if (fast) return { rows, max: BigInt(prev) };
  }
  const epochs = new Array<bigint | undefined>(rows.length);
  let max: bigint | undefined;
  for (let r = 0; r < rows.length; r++) {
    const ts = toEpoch(rows[r][tsIndex], precision);
    epochs[r] = ts;
    if (ts !== undefined && (max === undefined || ts > max)) max = ts;
  }
  return { rows, max, epochs };
}

export interface EmitContext {
  shape: PageShape;
  recent: RecentKeys;
  /** Rows below it are never emitted (their keys may be forgotten). */
  floor?: bigint;
  /** The lookback in the precision's units (table mode), for the fast path's choice of keys to remember. */
  lookbackUnits: bigint;
}

export interface EmittedPage {
  /** Newest timestamp among the rows emitted from this page. */
  newest?: bigint;
  /** Rows without a usable timestamp (left out). */
  withoutTs: number;
}

/**
 * Appends the page's new rows, converted, to `out` and remembers the keys that must be remembered. Rows are
 * taken in consecutive ranges (emit(from, to)), so the caller can let other work run between them.
 */
export class PageEmitter {
  private newest?: bigint;
  private withoutTs = 0;
  /** The fast path's state; undefined on the general path. */
  private readonly fast?: OrderedState;

  constructor(
    private readonly page: InspectedPage,
    private readonly ctx: EmitContext,
    private readonly out: Record<string, unknown>[],
  ) {
    if (!page.epochs) this.fast = orderedState(page, ctx);
  }

  emit(from: number, to: number): void {
    if (this.fast) this.emitOrdered(this.fast, from, to);
    else this.emitGeneral(from, to);
  }

  result(): EmittedPage {
    const fastNewest = this.fast && this.fast.newest !== -Infinity ? BigInt(this.fast.newest) : undefined;
    return { newest: fastNewest ?? this.newest, withoutTs: this.withoutTs };
  }

  /** The fast path (see the top of the file). */
  private emitOrdered(st: OrderedState, from: number, to: number): void {
    const { rows } = this.page;
    const { tsIndex, keyIndex, converter } = this.ctx.shape;
    const { recent } = this.ctx;
    const out = this.out;
    for (let r = from; r < to; r++) {
      const row = rows[r];
      const t = row[tsIndex] as number;
      if (t < st.floor) continue;
      const key = String(row[keyIndex]);
      if (t <= st.remembered || t >= st.rememberFrom) {
        const ts = BigInt(t);
        if (recent.has(ts, key)) continue;
        recent.add(ts, key);
        if (t > st.remembered) st.remembered = t;
      } else {
        if (t !== st.runTs) {
          st.runTs = t;
          st.run++;
        }
        if (st.seenInRun.get(key) === st.run) continue;
        st.seenInRun.set(key, st.run);
      }
      out.push(converter.convert(row));
      st.newest = t;
    }
  }

  /** Row by row through RecentKeys: any order, any epoch type, rows without a timestamp. */
  private emitGeneral(from: number, to: number): void {
    const { rows } = this.page;
    const { tsIndex, keyIndex, converter } = this.ctx.shape;
    const { recent, floor } = this.ctx;
    const epochs = this.page.epochs;
    for (let r = from; r < to; r++) {
      const row = rows[r];
      const ts = epochs ? epochs[r] : BigInt(row[tsIndex] as number);
      if (ts === undefined) {
        this.withoutTs++;
        continue;
      }
      // Below the floor the emitted keys are no longer remembered: never emit there (SQL mode may return such rows).
      if (floor !== undefined && ts < floor) continue;
      const key = keyIndex >= 0 ? String(row[keyIndex]) : rowKey(row, tsIndex);
      if (recent.has(ts, key)) continue;
      recent.add(ts, key);
      this.out.push(converter.convert(row));
      if (this.newest === undefined || ts > this.newest) this.newest = ts;
    }
  }
}

interface OrderedState {
  floor: number;
  /** Newest remembered timestamp: rows up to it may have been emitted. */
  remembered: number;
  /** Rows from here on are remembered for the next page and poll. */
  rememberFrom: number;
  /** Rows in between: unique within their timestamp (run), by run number. */
  seenInRun: Map<string, number>;
  run: number;
  runTs: number;
  newest: number;
}

/** A bigint as a number when that is exact, else undefined. */
function exact(v: bigint | undefined, dflt: number): number | undefined {
  if (v === undefined) return dflt;
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : undefined;
}

/** The fast path's state, or undefined when the page needs the general path (a bound not exact as a number). */
function orderedState(page: InspectedPage, ctx: EmitContext): OrderedState | undefined {
  const floor = exact(ctx.floor, -Infinity);
  const remembered = exact(ctx.recent.newest, -Infinity);
  const rememberFrom = page.max === undefined ? undefined : exact(page.max - ctx.lookbackUnits, -Infinity);
  if (ctx.shape.keyIndex < 0 || floor === undefined || remembered === undefined || rememberFrom === undefined) return undefined;
  return { floor, remembered, rememberFrom, seenInRun: new Map(), run: 0, runTs: NaN, newest: -Infinity };
}

/** Key of a row without tbname (SQL mode): all its values except the timestamp. */
function rowKey(row: unknown[], tsIndex: number): string {
  let k = "";
  for (let i = 0; i < row.length; i++) {
    if (i === tsIndex) continue;
    const v = row[i];
    k += (v === null || v === undefined ? "\u0000" : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : String(v)) + "\u0001";
  }
  return k;
}
