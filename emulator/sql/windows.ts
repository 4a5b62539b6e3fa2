// INTERVAL(every [, offset]) [SLIDING(s)] windows as TDengine defines them: windows of length `every` start every
// `sliding` (default `every`), aligned to the UNIX epoch plus the offset. Units below a day are absolute; d and w
// are natural days (aligned to midnight in the connection's zone); n (months) and y (years) are calendar windows
// in that zone. A row belongs to every window [start, start + every) that contains it.
import { TdError } from "../errors.js";
import type { IntervalClause } from "./ast.js";
import type { Precision } from "../types.js";
import { durationIn } from "./time.js";
import { wallToUtc, type Zone } from "./zone.js";

const PER_MS: Record<Precision, bigint> = { ms: 1n, us: 1000n, ns: 1000000n };
/** Windows one query may produce (FILL over a long range); beyond this the query is refused, not run. */
export const MAX_WINDOWS = 1_000_000;

export interface Windows {
  /** Starts of the windows containing ts, ascending. */
  startsFor(ts: bigint): bigint[];
  /** End (exclusive) of the window starting at start. */
  endOf(start: bigint): bigint;
  /** The window start following start. */
  next(start: bigint): bigint;
  /** About how many window starts fall in [lo, hi): refuses huge FILL ranges before producing any row. */
  approxCount(lo: bigint, hi: bigint): number;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function months(text: string): number | null {
  const unit = text[text.length - 1];
  if (unit === "n") return Number(text.slice(0, -1));
  if (unit === "y") return Number(text.slice(0, -1)) * 12;
  return null;
}

export function makeWindows(iv: IntervalClause, p: Precision, zone: Zone): Windows {
  const slidingText = iv.sliding ?? iv.every;
  const everyMonths = months(iv.every);
  const slideMonths = months(slidingText);
  if ((everyMonths === null) !== (slideMonths === null)) throw new TdError(0x2600, "syntax error near \"sliding\" (interval and sliding must both be calendar or both absolute)");
  const offset = iv.offset ? durationIn(iv.offset, p) : 0n;
  if (everyMonths !== null && ((slideMonths as number) * 100 < everyMonths || (slideMonths as number) <= 0 || (slideMonths as number) > everyMonths))
    throw new TdError(0x2600, "syntax error near \"sliding\" (invalid sliding for a calendar interval)");
  if (everyMonths !== null) return calendarWindows(everyMonths, slideMonths as number, offset, p, zone);
  const every = durationIn(iv.every, p);
  const sliding = durationIn(slidingText, p);
  if (every <= 0n || sliding <= 0n) throw new TdError(0x2600, "syntax error near \"interval\" (interval value is too small)");
  if (sliding > every) throw new TdError(0x2600, "syntax error near \"sliding\" (sliding value no larger than the interval value)");
  if (sliding * 100n < every) throw new TdError(0x2600, "syntax error near \"sliding\" (sliding value no smaller than 1% of interval value)");
  if (offset >= every) throw new TdError(0x2600, "syntax error near \"interval\" (interval offset should be shorter than interval)");
  const unit = iv.every[iv.every.length - 1];
  const natural = unit === "d" || unit === "w";
  const perMs = PER_MS[p];
  // Natural days: shift by the zone offset at ts so windows start at local midnight.
  const shiftAt = (ts: bigint): bigint => (natural ? BigInt(zone.offsetMs(Number(ts / perMs))) * perMs : 0n);
  return {
    startsFor(ts) {
      const shift = shiftAt(ts);
      const last = floorDiv(ts + shift - offset, sliding) * sliding + offset - shift;
      const out: bigint[] = [];
      for (let s = last; s + every > ts; s -= sliding) out.push(s);
      return out.reverse();
    },
    endOf: (start) => start + every,
    next: (start) => start + sliding,
    approxCount: (lo, hi) => Number((hi - lo) / sliding) + 1,
  };
}

function calendarWindows(every: number, sliding: number, offset: bigint, p: Precision, zone: Zone): Windows {
  const perMs = PER_MS[p];
  // Month index since 1970-01 (in the zone) of an instant, and the instant a month index starts at.
  const monthOf = (ts: bigint): number => {
    const ms = Number((ts - offset) / perMs);
    const d = new Date(ms + zone.offsetMs(ms));
    return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
  };
  const startOf = (m: number): bigint => BigInt(wallToUtc(zone, 1970 + Math.floor(m / 12), ((m % 12) + 12) % 12, 1, 0, 0, 0)) * perMs + offset;
  const fromStart = new Map<bigint, number>();
  const start = (m: number): bigint => {
    const s = startOf(m);
    fromStart.set(s, m);
    return s;
  };
  const indexOf = (s: bigint): number => fromStart.get(s) ?? monthOf(s);
  return {
    startsFor(ts) {
      const m = monthOf(ts);
      const last = Math.floor(m / sliding) * sliding;
      const out: bigint[] = [];
      for (let k = last; k + every > m; k -= sliding) out.push(start(k));
      return out.reverse();
    },
    endOf: (s) => startOf(indexOf(s) + every),
    next: (s) => start(indexOf(s) + sliding),
    approxCount: (lo, hi) => (monthOf(hi) - monthOf(lo)) / sliding + 1,
  };
}
