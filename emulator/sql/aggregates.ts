// Aggregate functions with TDengine's result types: COUNT → BIGINT, SUM of signed/unsigned integers → BIGINT /
// BIGINT UNSIGNED, SUM of floats → DOUBLE, AVG / SPREAD / STDDEV → DOUBLE, MIN / MAX / FIRST / LAST / LAST_ROW → the
// argument's type. NULLs are skipped except by LAST_ROW; STDDEV is the population standard deviation.
import { notSupported, TdError } from "../errors.js";
import { T, type Value } from "../types.js";
import type { Expr } from "./ast.js";
import { cmp, compileExpr, type RowFn, type Scope } from "./eval.js";

export interface AggType {
  type: number;
  length: number;
  decPrecision?: number;
  decScale?: number;
}

export interface Accumulator {
  step(s: number, p: number): void;
  result(): Value;
}

export interface AggFactory {
  meta: AggType;
  create(): Accumulator;
}

/** The functions the emulator aggregates; other aggregate names are refused as not supported. */
export const SUPPORTED_AGGS = new Set(["count", "sum", "avg", "min", "max", "first", "last", "last_row", "spread", "stddev"]);

const isText = (t: number): boolean => t === T.VARCHAR || t === T.NCHAR || t === T.JSON || t === T.VARBINARY || t === T.GEOMETRY;
const isInt = (t: number): boolean => t === T.TINYINT || t === T.SMALLINT || t === T.INT || t === T.BIGINT || t === T.UTINYINT || t === T.USMALLINT || t === T.UINT || t === T.UBIGINT;
const isUnsigned = (t: number): boolean => t === T.UTINYINT || t === T.USMALLINT || t === T.UINT || t === T.UBIGINT;

const DOUBLE: AggType = { type: T.DOUBLE, length: 8 };

/** tsOf(s, p): the row's primary timestamp, ordering first/last/last_row. */
export function aggFactory(name: string, args: Expr[], star: boolean, sc: Scope, tsOf: (s: number, p: number) => bigint): AggFactory {
  if (!SUPPORTED_AGGS.has(name)) throw notSupported(`function ${name} in the emulator`);
  if (name === "count" && (star || (args.length === 1 && args[0].k === "num"))) {
    return { meta: { type: T.BIGINT, length: 8 }, create: () => counter(null) };
  }
  if (args.length !== 1) throw new TdError(0x2801, "Invalid function para number");
  const c = compileExpr(args[0], sc);
  const f = c.fn;
  const same: AggType = { type: c.type, length: c.length, decPrecision: c.decPrecision, decScale: c.decScale };
  const numeric = !isText(c.type);
  const isDec = c.type === T.DECIMAL || c.type === T.DECIMAL64;
  switch (name) {
    case "count":
      return { meta: { type: T.BIGINT, length: 8 }, create: () => counter(f) };
    case "min":
    case "max": {
      if (!numeric) throw new TdError(0x2802, "Invalid function para type");
      const wantMax = name === "max";
      return { meta: same, create: () => extreme(f, wantMax) };
    }
    case "sum":
    case "avg":
    case "spread":
    case "stddev": {
      if (!numeric || c.type === T.BOOL || (c.type === T.TIMESTAMP && name !== "spread")) throw new TdError(0x2802, "Invalid function para type");
      if (isDec) throw notSupported(`${name} of DECIMAL in the emulator`);
      if (name === "sum") {
        if (isInt(c.type)) return { meta: { type: isUnsigned(c.type) ? T.UBIGINT : T.BIGINT, length: 8 }, create: () => intSum(f) };
        return { meta: DOUBLE, create: () => moments(f, "sum") };
      }
      return { meta: DOUBLE, create: () => moments(f, name as "avg" | "spread" | "stddev") };
    }
    default: {
      const wantLast = name !== "first";
      const skipNull = name !== "last_row";
      return { meta: same, create: () => positional(f, tsOf, wantLast, skipNull) };
    }
  }
}

function counter(f: RowFn | null): Accumulator {
  let n = 0n;
  return {
    step(s, p) {
      if (!f || f(s, p) !== null) n++;
    },
    result: () => n,
  };
}

function extreme(f: RowFn, wantMax: boolean): Accumulator {
  let best: Value = null;
  return {
    step(s, p) {
      const v = f(s, p);
      if (v === null) return;
      if (best === null || (wantMax ? cmp(v, best) > 0 : cmp(v, best) < 0)) best = v;
    },
    result: () => best,
  };
}

function intSum(f: RowFn): Accumulator {
  let sum = 0n;
  let n = 0;
  return {
    step(s, p) {
      const v = f(s, p);
      if (v === null) return;
      n++;
      sum += typeof v === "bigint" ? v : BigInt(v as number);
    },
    result: () => (n === 0 ? null : sum),
  };
}

/** Sum, mean, min/max and variance in one pass (Welford), as doubles. */
function moments(f: RowFn, want: "sum" | "avg" | "spread" | "stddev"): Accumulator {
  let n = 0;
  let sum = 0;
  let mean = 0;
  let m2 = 0;
  let lo = Infinity;
  let hi = -Infinity;
  return {
    step(s, p) {
      const v = f(s, p);
      if (v === null) return;
      const x = Number(v);
      n++;
      sum += x;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    },
    result: () => {
      if (n === 0) return null;
      if (want === "sum") return sum;
      if (want === "avg") return sum / n;
      if (want === "spread") return hi - lo;
      return Math.sqrt(m2 / n);
    },
  };
}

function positional(f: RowFn, tsOf: (s: number, p: number) => bigint, wantLast: boolean, skipNull: boolean): Accumulator {
  let bestTs: bigint | null = null;
  let best: Value = null;
  return {
    step(s, p) {
      const v = f(s, p);
      if (skipNull && v === null) return;
      const t = tsOf(s, p);
      if (bestTs === null || (wantLast ? t >= bestTs : t < bestTs)) {
        bestTs = t;
        best = v;
      }
    },
    result: () => best,
  };
}
