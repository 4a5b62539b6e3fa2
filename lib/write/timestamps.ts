// Timestamp inputs (Date, epoch number in the database precision or in ms, bigint, ISO-8601 string) are read
// into an instant that is converted to the database precision only at bind time, because the precision may be
// learnt from the prepared statement (when the database was not created by this node).
import type { Precision } from "./schema";

/** An instant: epoch milliseconds (integer) + nanoseconds within that millisecond; or a raw value already in DB precision. */
export type Instant = { ms: number; ns: number; raw?: undefined } | { raw: number | bigint; ms?: undefined; ns?: undefined };

export type NumberUnit = "db" | "ms";

const MAX_DATE_MS = 8.64e15;

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/i;

/** Reads a timestamp; returns the reason as a string when it is unusable. */
export function readInstant(v: unknown, unit: NumberUnit): Instant | string {
  if (v instanceof Date) {
    const ms = v.getTime();
    return Number.isFinite(ms) ? { ms, ns: 0 } : "invalid Date";
  }
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return `not a finite number (${v})`;
    if (unit === "db") {
      if (!Number.isSafeInteger(v)) return `epoch ${v} is not an integer in the database precision`;
      return { raw: v };
    }
    // Beyond a JS Date's range no precision can hold it; said here, with the field, not by the encoder later.
    if (Math.abs(v) > MAX_DATE_MS) return `epoch ${v} ms is out of range (at most ±8.64e15 ms, the range of a Date)`;
    const ms = Math.floor(v);
    return { ms, ns: Math.round((v - ms) * 1e6) };
  }
  if (typeof v === "bigint") {
    if (unit === "db") return { raw: v };
    const ms = Number(v);
    return Number.isSafeInteger(ms) ? { ms, ns: 0 } : `epoch ${v} ms is out of range`;
  }
  if (typeof v === "string") return readIso(v);
  if (v === undefined || v === null) return "missing timestamp";
  return `expected a Date, an epoch number or an ISO-8601 string, got ${typeof v}`;
}

/** Date.UTC without its rule that years 0-99 mean 1900-1999: "0050-01-01" is the year 50. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, se: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, se, 0);
  return t.getTime();
}

function readIso(s: string): Instant | string {
  const m = ISO.exec(s.trim());
  if (!m) return `"${s.slice(0, 40)}" is not an ISO-8601 timestamp with a time zone (e.g. 2024-05-01T03:04:05.123Z)`;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  let ms = utcMs(+y, +mo - 1, +d, +h, +mi, +se);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== +y || check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +se > 59) return `"${s}" is not a valid date`;
  if (zone.toUpperCase() !== "Z") {
    const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
    const off = (+z[2] * 60 + +z[3]) * 60000;
    ms -= z[1] === "+" ? off : -off;
  }
  const nsTotal = frac ? Number(frac.padEnd(9, "0")) : 0;
  ms += Math.floor(nsTotal / 1e6);
  return { ms, ns: nsTotal % 1e6 };
}

/** The value to bind for a TIMESTAMP column of the given precision; a plain number is an integer epoch in ms. */
export function instantIn(t: Instant | number, precision: Precision): number | bigint {
  if (typeof t === "number") return precision === "ms" ? t : precision === "us" ? t * 1000 : BigInt(t) * 1_000_000n;
  if (t.raw !== undefined) return t.raw;
  if (precision === "ms") return t.ms;
  if (precision === "us") return t.ms * 1000 + Math.floor(t.ns / 1000);
  return BigInt(t.ms) * 1_000_000n + BigInt(t.ns);
}
