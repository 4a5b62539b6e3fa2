// Row values -> what a Perspective table of a given schema accepts. Perspective reads its input through
// JSON-like coercion: a bigint throws, epoch numbers are always taken as milliseconds, an int32 column wraps
// large values silently and strings like "2024-01-01 10:00:00+0800" abort the whole update. So every value is
// converted here, and a value that cannot be converted rejects its row (never its batch-mates).
import type { ColumnPlan, ValueKind } from "./schema";

/** Unit of epoch numbers given for datetime columns. "auto" guesses from the magnitude (see epochToMs). */
export type EpochUnit = "auto" | "s" | "ms" | "us" | "ns";

export type Converter = (v: unknown) => unknown;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

class ValueError extends Error {}

function fail(what: string, v: unknown): never {
  let shown: string;
  try {
    shown = typeof v === "bigint" ? `${v}n` : (JSON.stringify(v) ?? String(v));
  } catch {
    shown = String(v);
  }
  throw new ValueError(`${what}: ${shown.length > 60 ? shown.slice(0, 60) + "..." : shown}`);
}

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * Epoch number -> epoch ms. "auto": |v| >= 1e17 is nanoseconds, >= 1e14 microseconds, otherwise milliseconds
 * (so ms epochs from 1973 to the year 5138 and TDengine's us/ns timestamps of today are all read right).
 */
export function epochToMs(v: number | bigint, unit: EpochUnit): number {
  let u = unit;
  if (u === "auto") {
    const abs = typeof v === "bigint" ? (v < 0n ? -v : v) : Math.abs(v);
    u = abs >= 1e17 ? "ns" : abs >= 1e14 ? "us" : "ms";
  }
  if (typeof v === "bigint") {
    switch (u) {
      case "s": return Number(v) * 1000;
      case "ms": return Number(v);
      case "us": return Number(v / 1000n) + Number(v % 1000n) / 1000;
      case "ns": return Number(v / 1000000n) + Number(v % 1000000n) / 1e6;
    }
  }
  const n = v as number;
  switch (u) {
    case "s": return n * 1000;
    case "ms": return n;
    case "us": return n / 1000;
    default: return n / 1e6;
  }
}

// TDengine prints zones as +0800; Perspective and Date.parse want +08:00. A string without a zone is read as
// UTC, the same way Perspective itself reads it.
function parseDateString(s: string): number {
  let t = s.trim().replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = t.replace(" ", "T") + "Z";
  else if (/^\d{4}-\d{2}-\d{2} \d/.test(t)) t = t.replace(" ", "T");
  return Date.parse(t);
}

function toEpochMs(unit: EpochUnit): Converter {
  return (v) => {
    if (v === null || v === undefined) return null;
    let ms: number;
    if (v instanceof Date) ms = v.getTime();
    else if (typeof v === "number" || typeof v === "bigint") ms = epochToMs(v, unit);
    else if (typeof v === "string") {
      if (/^\s*-?\d+\s*$/.test(v)) ms = epochToMs(BigInt(v.trim()), unit);
      else if (NUMERIC.test(v)) ms = epochToMs(Number(v), unit);
      else ms = parseDateString(v);
    } else fail("not a timestamp", v);
    if (!Number.isFinite(ms)) fail("not a valid timestamp", v);
    return ms;
  };
}

function toNumber(v: unknown, what: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "bigint") n = Number(v);
  else if (typeof v === "boolean") n = v ? 1 : 0;
  else if (typeof v === "string" && NUMERIC.test(v)) n = Number(v);
  else fail(`not ${what}`, v);
  if (Number.isNaN(n) && typeof v !== "number") fail(`not ${what}`, v);
  return n;
}

const toFloat: Converter = (v) => (v === null || v === undefined ? null : toNumber(v, "a number"));

const toInteger: Converter = (v) => {
  if (v === null || v === undefined) return null;
  const n = Math.trunc(toNumber(v, "an integer"));
  if (!Number.isFinite(n)) fail("not an integer", v);
  // Perspective's integer is int32 and wraps silently: refuse instead of storing a wrong number.
  if (n < INT32_MIN || n > INT32_MAX) fail("outside the 32-bit integer range (declare the column as float)", v);
  return n;
};

const toBoolean: Converter = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (s === "true" || s === "1") return true;
    if (s === "false" || s === "0") return false;
  }
  return fail("not a boolean", v);
};

function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

const toStringValue: Converter = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : fail("not a valid date", v);
  const bytes = bytesOf(v);
  if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  return JSON.stringify(v);
};

const toHexString: Converter = (v) => {
  if (v === null || v === undefined) return null;
  const bytes = bytesOf(v);
  if (bytes) return toHex(bytes);
  if (typeof v === "string") return v; // already text (taosAdapter's JSON replies give hex strings)
  return fail("not binary data", v);
};

export function converterFor(kind: ValueKind, unit: EpochUnit = "auto"): Converter {
  switch (kind) {
    case "datetime":
    case "date": return toEpochMs(unit);
    case "integer": return toInteger;
    case "float": return toFloat;
    case "boolean": return toBoolean;
    case "hex": return toHexString;
    default: return toStringValue;
  }
}

/** Columnar data for table.update(): equal-length arrays, only for the columns the rows carry. */
export type Columnar = Record<string, unknown[]>;

/** Rows in columnar data (the length of any of its equal-length columns; 0 without columns). */
export function columnarRows(data: Columnar): number {
  // Own columns only (Object.values): a for-in would also walk keys inherited from a polluted prototype.
  const first = Object.values(data)[0];
  return first ? first.length : 0;
}

export interface ConvertedBatch {
  /** Consecutive rows with the same set of columns, in input order (a row without a column must not null it). */
  chunks: Columnar[];
  rows: number;
  rejected: { index: number; reason: string }[];
}

export class RowConverter {
  private readonly convs: Map<string, Converter>;
  constructor(readonly plans: readonly ColumnPlan[], unit: EpochUnit = "auto") {
    this.convs = new Map(plans.map((p) => [p.name, converterFor(p.kind, unit)]));
  }

  /** Converts one value of a column (used for remove keys). */
  value(column: string, v: unknown): unknown {
    const c = this.convs.get(column);
    if (!c) throw new Error(`unknown column "${column}"`);
    return c(v);
  }

  /**
   * Accepts an array of row objects, one row object, or a columnar object ({column: values[]}). Columns that
   * are not in the schema are ignored, as Perspective would.
   */
  convert(payload: unknown): ConvertedBatch {
    const rows = toRows(payload);
    const out: ConvertedBatch = { chunks: [], rows: 0, rejected: [] };
    let current: Columnar | undefined;
    let currentKey = "";
    rows.forEach((row, index) => {
      if (!row || typeof row !== "object" || Array.isArray(row)) {
        out.rejected.push({ index, reason: "a row must be an object of column values" });
        return;
      }
      const names: string[] = [];
      const values: unknown[] = [];
      let column = "";
      try {
        for (const p of this.plans) {
          if (!Object.prototype.hasOwnProperty.call(row, p.name)) continue;
          column = p.name;
          values.push(this.convs.get(p.name)!((row as Record<string, unknown>)[p.name]));
          names.push(p.name);
        }
      } catch (err) {
        out.rejected.push({ index, reason: `column "${column}": ${(err as Error).message}` });
        return;
      }
      if (names.length === 0) {
        out.rejected.push({ index, reason: "the row has none of the table's columns" });
        return;
      }
      const key = names.join("\u0000");
      if (!current || key !== currentKey) {
        current = Object.fromEntries(names.map((n) => [n, []]));
        currentKey = key;
        out.chunks.push(current);
      }
      for (let i = 0; i < names.length; i++) current[names[i]].push(values[i]);
      out.rows++;
    });
    return out;
  }
}

function toRows(payload: unknown): unknown[] {
  if (Array.isArray(payload)) return payload;
  if (payload && typeof payload === "object") {
    const vals = Object.values(payload as Record<string, unknown>);
    if (vals.length > 0 && vals.every(Array.isArray)) {
      // Columnar: {a: [1, 2], b: [3, 4]} -> rows.
      const cols = Object.entries(payload as Record<string, unknown[]>);
      const n = Math.max(...cols.map(([, v]) => v.length));
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const r: Record<string, unknown> = {};
        // defineProperty, not r[k] = ...: a column called __proto__ must stay a column.
        for (const [k, v] of cols) if (i < v.length) Object.defineProperty(r, k, { value: v[i], writable: true, enumerable: true, configurable: true });
        rows.push(r);
      }
      return rows;
    }
    return [payload];
  }
  throw new Error("msg.payload must be a row object, an array of row objects or a columnar object");
}

export function isValueError(err: unknown): boolean {
  return err instanceof ValueError;
}
