// Decoded result rows (arrays in column order) -> the row objects a poll emits.
import type { ColumnMeta, Precision } from "../tdengine/api";
import { setOwn } from "../own-property";
import { epochToMs, toEpoch } from "./timestamps";

/** TDengine type codes this module treats specially (protocol constants). */
const TIMESTAMP = 9;
const BIGINT = 5;
const BIGINT_UNSIGNED = 14;

/** "date": a JS Date (millisecond resolution); "ms": epoch milliseconds as a number. */
export type TimestampOutput = "date" | "ms";

type Convert = (v: unknown) => unknown;

function timestampConverter(precision: Precision, out: TimestampOutput): Convert {
  return (v) => {
    if (v === null || v === undefined) return null;
    const epoch = toEpoch(v, precision);
    if (epoch === undefined) return v;
    const ms = epochToMs(epoch, precision);
    return out === "date" ? new Date(ms) : ms;
  };
}

// A BIGINT is a number when it is a safe integer; otherwise a decimal string, which survives JSON (a bigint
// would make every downstream JSON.stringify throw).
const bigintConverter: Convert = (v) => {
  if (typeof v === "bigint") {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (typeof v === "string" && /^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
};

export interface RowConverter {
  /** Metadata of the emitted columns (the internal tbname is left out unless it was asked for). */
  columns: ColumnMeta[];
  convert(row: unknown[]): Record<string, unknown>;
}

/**
 * Builds the converter for one result shape. `omit` lists column indexes to leave out of the objects
 * (the tbname the poller reads for its key when the user did not ask for it).
 */
export function makeRowConverter(
  columns: ColumnMeta[],
  resultPrecision: Precision,
  timestamps: TimestampOutput,
  omit: ReadonlySet<number> = new Set(),
): RowConverter {
  const idx: number[] = [];
  const names: string[] = [];
  const conv: (Convert | undefined)[] = [];
  const meta: ColumnMeta[] = [];
  columns.forEach((c, i) => {
    if (omit.has(i)) return;
    idx.push(i);
    names.push(c.name);
    meta.push(c);
    if (c.type === TIMESTAMP) conv.push(timestampConverter(c.precision ?? resultPrecision, timestamps));
    else if (c.type === BIGINT || c.type === BIGINT_UNSIGNED) conv.push(bigintConverter);
    else conv.push(undefined);
  });
  // A column called __proto__ must become a field, not the row's prototype (the slower path only then).
  const set = names.includes("__proto__") ? setOwn : (o: Record<string, unknown>, k: string, v: unknown): void => void (o[k] = v);
  return {
    columns: meta,
    convert(row) {
      const o: Record<string, unknown> = {};
      for (let k = 0; k < idx.length; k++) {
        const v = row[idx[k]];
        const f = conv[k];
        set(o, names[k], v === undefined ? null : f ? f(v) : v);
      }
      return o;
    },
  };
}
