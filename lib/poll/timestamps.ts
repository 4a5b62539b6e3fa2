// Timestamp arithmetic in a database's own precision. Internally every timestamp is a bigint epoch in the
// database precision (ms, us or ns), so ns values keep all their digits and comparisons never mix types.
import type { Precision } from "../tdengine/api";

/** Units of the precision per millisecond. */
export const UNITS_PER_MS: Record<Precision, bigint> = { ms: 1n, us: 1000n, ns: 1000000n };

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

export function isPrecision(v: unknown): v is Precision {
  return v === "ms" || v === "us" || v === "ns";
}

/**
 * A decoded TIMESTAMP (number when safe, bigint otherwise; a Date or a decimal string are accepted too) as a
 * bigint in the database precision. Returns undefined for NULL or anything that is not a timestamp.
 */
export function toEpoch(value: unknown, precision: Precision): bigint | undefined {
  switch (typeof value) {
    case "bigint":
      return value;
    case "number":
      return Number.isInteger(value) ? BigInt(value) : undefined;
    case "string":
      return /^-?\d+$/.test(value) ? BigInt(value) : undefined;
    default:
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? undefined : BigInt(ms) * UNITS_PER_MS[precision];
      }
      return undefined;
  }
}

/** Epoch in the precision -> epoch milliseconds (floored, also for negative values). */
export function epochToMs(epoch: bigint, precision: Precision): number {
  const per = UNITS_PER_MS[precision];
  if (per === 1n) return Number(epoch);
  let q = epoch / per;
  if (epoch < 0n && q * per !== epoch) q -= 1n;
  return Number(q);
}

/** UNITS_PER_MS as numbers, for epochs that are safe integers. */
const UNITS_PER_MS_NUMBER: Record<Precision, number> = { ms: 1, us: 1000, ns: 1000000 };

/**
 * epochToMs for an epoch that is a safe integer number (what the decoder gives in ms and us precision), without
 * a bigint: integer arithmetic in doubles is exact below 2^53. Floored, also for negative values.
 */
export function epochNumberToMs(epoch: number, precision: Precision): number {
  const per = UNITS_PER_MS_NUMBER[precision];
  // `+ 0` turns -0 into 0, as the bigint path gives.
  if (per === 1) return epoch + 0;
  const rem = ((epoch % per) + per) % per;
  return (epoch - rem) / per + 0;
}

/** Epoch milliseconds -> epoch in the precision. */
export function msToEpoch(ms: number, precision: Precision): bigint {
  return BigInt(Math.floor(ms)) * UNITS_PER_MS[precision];
}
