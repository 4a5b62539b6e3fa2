// Decoded result rows (arrays in column order) -> the row objects a poll emits.
//
// Catching up emits up to a million rows a second, so building the objects is the poll's hottest loop. The
// builder is generated per result shape (as lib/write/fast-row.ts does): one object literal with every column,
// instead of a loop of megamorphic keyed stores, so V8 sizes the objects to their fields. The rows are plain
// objects to everything that looks (prototype, constructor, util.inspect, JSON, structured clone).
import type { ColumnMeta, Precision } from "../tdengine/api";
import { setOwn } from "../own-property";
import { epochNumberToMs, epochToMs, toEpoch } from "./timestamps";

/** TDengine type codes this module treats specially (protocol constants). */
const TIMESTAMP = 9;
const BIGINT = 5;
const BIGINT_UNSIGNED = 14;

/** "date": a JS Date (millisecond resolution); "ms": epoch milliseconds as a number. */
export type TimestampOutput = "date" | "ms";

type Convert = (v: unknown) => unknown;

function timestampConverter(precision: Precision, out: TimestampOutput): Convert {
  // The exact path for anything but a safe-integer epoch (a bigint ns epoch, a string, a Date).
  const slow = (v: unknown): unknown => {
    const epoch = toEpoch(v, precision);
    if (epoch === undefined) return v;
    const ms = epochToMs(epoch, precision);
    return out === "date" ? new Date(ms) : ms;
  };
  // The decoder gives a number whenever the epoch is a safe integer (always in ms and us precision): no bigint.
  const isEpoch = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
  if (out === "date") return (v) => (isEpoch(v) ? new Date(epochNumberToMs(v, precision)) : v === null ? null : slow(v));
  return (v) => (isEpoch(v) ? epochNumberToMs(v, precision) : v === null ? null : slow(v));
}

// A BIGINT is a number when it is a safe integer; otherwise a decimal string, which survives JSON (a bigint
// would make every downstream JSON.stringify throw).
const bigintConverter: Convert = (v) => {
  if (typeof v === "number") return v;
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
  return { columns: meta, convert: names.includes("__proto__") ? definingConvert(idx, names, conv) : compileConvert(idx, names, conv) };
}

/**
 * The generated builder: one object literal, so V8 allocates each row at its final size and, with allocation
 * sites of their own, rows that live long (a catch-up's page) are allocated in the old generation at once
 * instead of being copied by every scavenge. Names enter the source only as JSON string literals; a
 * "__proto__" key in a literal would set the prototype, so such a shape takes definingConvert instead.
 */
function compileConvert(idx: number[], names: string[], conv: (Convert | undefined)[]): (row: unknown[]) => Record<string, unknown> {
  const params: string[] = [];
  const args: unknown[] = [];
  const fields: string[] = [];
  for (let k = 0; k < names.length; k++) {
    params.push(`f${k}`);
    args.push(conv[k]);
    // NULL and a missing value are null; a converter sees every other value.
    const v = `row[${idx[k]}]`;
    fields.push(`${JSON.stringify(names[k])}: (v = ${v}) === undefined ? null : ${conv[k] ? `f${k}(v)` : "v"}`);
  }
  const body = `"use strict";
return function convert(row) {
  let v;
  return {
${fields.join(",\n")}
  };
};`;
  const make = new Function(...params, body) as (...a: unknown[]) => (row: unknown[]) => Record<string, unknown>;
  return make(...args);
}

/** The general builder: own properties defined one by one (a column may be called "__proto__"). */
function definingConvert(idx: number[], names: string[], conv: (Convert | undefined)[]): (row: unknown[]) => Record<string, unknown> {
  return (row) => {
    const o: Record<string, unknown> = {};
    for (let k = 0; k < idx.length; k++) {
      const v = row[idx[k]];
      const f = conv[k];
      setOwn(o, names[k], v === undefined ? null : f ? f(v) : v);
    }
    return o;
  };
}
