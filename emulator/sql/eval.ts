// Compiling expressions to closures over (source index, physical row), with TDengine-like coercions.
import { CODE, notSupported, syntaxError, TdError } from "../errors.js";
import type { TableData } from "../store/table.js";
import { T, type ColumnDef, type Precision, type Value } from "../types.js";
import type { Expr } from "./ast.js";
import { durationIn, parseTimestampString } from "./time.js";
import { utf8Length } from "./values.js";
import { describeZone, wallToUtc, zoneOf, type Zone } from "./zone.js";

export type RowFn = (s: number, p: number) => Value;

export interface Scope {
  precision: Precision;
  columns: ColumnDef[];
  tags: ColumnDef[];
  sources: TableData[];
  params: Value[] | null;
  currentDb: string | null;
  serverVersion: string;
  /** Captured once per statement so every NOW in it agrees. */
  now: bigint;
  /** The connection's time zone: timestamp strings, TODAY(), TIMEZONE(), calendar windows. */
  zone?: Zone;
  /** Grouped output: the current group's aggregate results (read by aggref) and their column types. */
  group?: GroupFrame;
}

/** Mutable per-group state that compiled group-output expressions read. */
export interface GroupFrame {
  values: Value[];
  types: { type: number; length: number; decPrecision?: number; decScale?: number }[];
  /** Current window [start, end) for _wstart / _wend / _wduration; null without INTERVAL. */
  window: { start: bigint; end: bigint } | null;
}

export interface Compiled {
  fn: RowFn;
  type: number;
  length: number;
  isConst: boolean;
  /** For a plain column reference: the table column index. */
  colIdx?: number;
  tagIdx?: number;
  isTbname?: boolean;
  decPrecision?: number;
  decScale?: number;
}

export const AGG_FUNCS = new Set(["count", "min", "max", "avg", "sum", "first", "last", "last_row", "spread", "stddev", "percentile", "apercentile", "top", "bottom", "mode", "hyperloglog", "elapsed", "leastsquares", "histogram", "unique", "sample", "tail", "diff", "derivative", "irate", "twa", "csum", "mavg", "statecount", "stateduration"]);

export function containsAgg(e: Expr): boolean {
  switch (e.k) {
    case "func":
      return AGG_FUNCS.has(e.name) || e.args.some(containsAgg);
    case "bin":
      return containsAgg(e.l) || containsAgg(e.r);
    case "not":
    case "neg":
      return containsAgg(e.e);
    case "between":
      return containsAgg(e.e) || containsAgg(e.lo) || containsAgg(e.hi);
    case "in":
      return containsAgg(e.e) || e.list.some(containsAgg);
    case "isnull":
      return containsAgg(e.e);
    case "like":
      return containsAgg(e.e) || containsAgg(e.pattern);
    default:
      return false;
  }
}

/** DECIMAL values are unscaled bigints in storage; expressions compare them as numbers. */
function numericView(c: Compiled): Compiled {
  if (c.type !== T.DECIMAL && c.type !== T.DECIMAL64) return c;
  const f = c.fn;
  const div = 10 ** (c.decScale ?? 0);
  return { ...c, type: T.DOUBLE, fn: (s, p) => {
    const v = f(s, p);
    return v === null ? null : Number(v) / div;
  } };
}

function constOf(v: Value, type: number, length: number): Compiled {
  return { fn: () => v, type, length, isConst: true };
}

function numLiteral(text: string): Value {
  if (/^[+-]?\d+$/.test(text)) return BigInt(text);
  if (/^[+-]?0x/i.test(text)) return BigInt(text);
  return Number(text);
}

function toNum(v: Value): number {
  if (typeof v === "string") return Number(v);
  return Number(v);
}

/** Three-way compare with TDengine-ish coercions; NaN when incomparable. */
export function cmp(a: Value, b: Value): number {
  if (typeof a === "boolean") a = a ? 1 : 0;
  if (typeof b === "boolean") b = b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    const x = Buffer.from(a instanceof Uint8Array ? a : String(a));
    const y = Buffer.from(b instanceof Uint8Array ? b : String(b));
    return Buffer.compare(x, y);
  }
  if (typeof a === "string") a = toNum(a);
  if (typeof b === "string") b = toNum(b);
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : x == y ? 0 : NaN;
}

function arith(op: string, a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === "bigint" && typeof b === "bigint" && op !== "/") {
    if (op === "+") return a + b;
    if (op === "-") return a - b;
    if (op === "*") return a * b;
    if (op === "%") return b === 0n ? null : a % b;
  }
  const x = toNum(a);
  const y = toNum(b);
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      return y === 0 ? null : x / y;
    default:
      return y === 0 ? null : x % y;
  }
}

export function compileExpr(e: Expr, sc: Scope): Compiled {
  switch (e.k) {
    case "num": {
      const v = numLiteral(e.v);
      return constOf(v, typeof v === "bigint" ? T.BIGINT : T.DOUBLE, 8);
    }
    case "str":
      return constOf(e.v, T.VARCHAR, utf8Length(e.v));
    case "bool":
      return constOf(e.v, T.BOOL, 1);
    case "null":
      return constOf(null, T.VARCHAR, 0);
    case "dur":
      return constOf(durationIn(e.v, sc.precision), T.BIGINT, 8);
    case "param": {
      if (!sc.params) throw syntaxError("?");
      const v = sc.params[e.idx] ?? null;
      return constOf(v, typeof v === "string" ? T.VARCHAR : typeof v === "bigint" ? T.BIGINT : T.DOUBLE, 8);
    }
    case "star":
      throw syntaxError("*");
    case "col":
      return compileColumn(e.name, sc);
    case "func":
      return compileFunc(e, sc);
    case "neg": {
      const c = compileExpr(e.e, sc);
      const f = c.fn;
      return { fn: (s, p) => {
        const v = f(s, p);
        return v === null ? null : typeof v === "bigint" ? -v : -toNum(v);
      }, type: c.type === T.TIMESTAMP ? T.BIGINT : c.type, length: 8, isConst: c.isConst };
    }
    case "not": {
      const c = compileExpr(e.e, sc);
      const f = c.fn;
      return { fn: (s, p) => {
        const v = f(s, p);
        return v === null ? null : !truthy(v);
      }, type: T.BOOL, length: 1, isConst: c.isConst };
    }
    case "isnull": {
      const f = compileExpr(e.e, sc).fn;
      const not = e.not;
      return { fn: (s, p) => (f(s, p) === null) !== not, type: T.BOOL, length: 1, isConst: false };
    }
    case "between": {
      const c = numericView(compileExpr(e.e, sc));
      const lo = coerceConstFor(compileExpr(e.lo, sc), c, sc).fn;
      const hi = coerceConstFor(compileExpr(e.hi, sc), c, sc).fn;
      const f = c.fn;
      const not = e.not;
      return { fn: (s, p) => {
        const v = f(s, p);
        if (v === null) return null;
        const r = cmp(v, lo(s, p)) >= 0 && cmp(v, hi(s, p)) <= 0;
        return r !== not;
      }, type: T.BOOL, length: 1, isConst: false };
    }
    case "in": {
      const c = numericView(compileExpr(e.e, sc));
      const list = e.list.map((x) => coerceConstFor(compileExpr(x, sc), c, sc).fn);
      const f = c.fn;
      const not = e.not;
      return { fn: (s, p) => {
        const v = f(s, p);
        if (v === null) return null;
        let found = false;
        for (const g of list) if (cmp(v, g(s, p)) === 0) {
          found = true;
          break;
        }
        return found !== not;
      }, type: T.BOOL, length: 1, isConst: false };
    }
    case "bin":
      return compileBinary(e.op, e.l, e.r, sc);
    case "aggref": {
      const g = sc.group;
      if (!g) throw new TdError(0x260c, "Not a single-group group function");
      const i = e.i;
      const t = g.types[i];
      return { fn: () => g.values[i], type: t.type, length: t.length, isConst: false, decPrecision: t.decPrecision, decScale: t.decScale };
    }
    case "like": {
      const f = compileExpr(e.e, sc).fn;
      const p = compileExpr(e.pattern, sc);
      if (!p.isConst) throw notSupported("LIKE with a non-constant pattern");
      const re = likeRegex(String(p.fn(0, 0)));
      const not = e.not;
      return { fn: (s, q) => {
        const v = f(s, q);
        return v === null ? null : re.test(String(v)) !== not;
      }, type: T.BOOL, length: 1, isConst: false };
    }
  }
}

/** SQL LIKE pattern (% any run, _ one character, backslash escapes) as an anchored RegExp. */
export function likeRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) out += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "%") out += "[\\s\\S]*";
    else if (c === "_") out += "[\\s\\S]";
    else out += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/**
 * TIMETRUNCATE(ts, unit [, use_current_timezone]): ts rounded down to a multiple of unit. Units below a day count
 * from the epoch; d and w count from midnight in the connection's zone unless the third argument is 0.
 */
function timeTruncate(e: Extract<Expr, { k: "func" }>, sc: Scope): Compiled {
  if (e.args.length < 2 || e.args.length > 3 || e.args[1].k !== "dur") throw new TdError(0x2801, "Invalid function para number");
  const unitText = e.args[1].v;
  const unit = durationIn(unitText, sc.precision);
  if (unit <= 0n) throw new TdError(0x2802, "Invalid function para value");
  const arg = compileExpr(e.args[0], sc);
  const useZone = e.args.length < 3 || Number(compileExpr(e.args[2], sc).fn(0, 0)) !== 0;
  const natural = useZone && /[dw]$/.test(unitText);
  const perMs = sc.precision === "ms" ? 1n : sc.precision === "us" ? 1000n : 1000000n;
  const z = sc.zone ?? zoneOf(null);
  const f = coerceConstFor(arg, { fn: () => null, type: T.TIMESTAMP, length: 8, isConst: false }, sc).fn;
  return { fn: (s, p) => {
    const v = f(s, p);
    if (v === null) return null;
    const t = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    const shift = natural ? BigInt(z.offsetMs(Number(t / perMs))) * perMs : 0n;
    const r = (t + shift) % unit;
    return t - (r < 0n ? r + unit : r);
  }, type: T.TIMESTAMP, length: 8, isConst: arg.isConst };
}

function truthy(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return Number(v) !== 0 && v !== "";
  return Number(v) !== 0;
}

/** A string constant compared with a TIMESTAMP column is a timestamp literal in the table's precision. */
function coerceConstFor(c: Compiled, other: Compiled, sc: Scope): Compiled {
  if (other.type === T.TIMESTAMP && c.isConst && c.type === T.VARCHAR) {
    const v = c.fn(0, 0);
    if (typeof v === "string") {
      const ts = /^[+-]?\d+$/.test(v.trim()) ? BigInt(v.trim()) : parseTimestampString(v, sc.precision, sc.zone);
      return constOf(ts, T.TIMESTAMP, 8);
    }
  }
  return c;
}

function compileBinary(op: string, le: Expr, re: Expr, sc: Scope): Compiled {
  let l = compileExpr(le, sc);
  let r = compileExpr(re, sc);
  if (op !== "and" && op !== "or") {
    l = numericView(l);
    r = numericView(r);
  }
  if (op === "and" || op === "or") {
    const a = l.fn;
    const b = r.fn;
    const fn: RowFn =
      op === "and"
        ? (s, p) => {
            const x = a(s, p);
            if (x !== null && !truthy(x)) return false;
            const y = b(s, p);
            if (y !== null && !truthy(y)) return false;
            return x === null || y === null ? null : true;
          }
        : (s, p) => {
            const x = a(s, p);
            if (x !== null && truthy(x)) return true;
            const y = b(s, p);
            if (y !== null && truthy(y)) return true;
            return x === null || y === null ? null : false;
          };
    return { fn, type: T.BOOL, length: 1, isConst: l.isConst && r.isConst };
  }
  l = coerceConstFor(l, r, sc);
  r = coerceConstFor(r, l, sc);
  const a = l.fn;
  const b = r.fn;
  const isConst = l.isConst && r.isConst;
  let fn: RowFn;
  let type: number = T.BOOL;
  switch (op) {
    case "=":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        return x === null || y === null ? null : cmp(x, y) === 0;
      };
      break;
    case "!=":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        if (x === null || y === null) return null;
        const c = cmp(x, y);
        return c === c && c !== 0;
      };
      break;
    case "<":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        return x === null || y === null ? null : cmp(x, y) < 0;
      };
      break;
    case "<=":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        return x === null || y === null ? null : cmp(x, y) <= 0;
      };
      break;
    case ">":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        return x === null || y === null ? null : cmp(x, y) > 0;
      };
      break;
    case ">=":
      fn = (s, p) => {
        const x = a(s, p);
        const y = b(s, p);
        return x === null || y === null ? null : cmp(x, y) >= 0;
      };
      break;
    default: {
      // Arithmetic. TIMESTAMP +/- integer (e.g. NOW - 10m) stays an integer timestamp; everything else is DOUBLE.
      const tsArith = (op === "+" || op === "-") && (l.type === T.TIMESTAMP || r.type === T.TIMESTAMP);
      const intArith = op !== "/" && isIntType(l.type) && isIntType(r.type);
      type = tsArith ? T.TIMESTAMP : intArith ? T.BIGINT : T.DOUBLE;
      if (tsArith || intArith) {
        fn = (s, p) => {
          const x = a(s, p);
          const y = b(s, p);
          if (x === null || y === null) return null;
          return arith(op, toBig(x), toBig(y));
        };
      } else {
        fn = (s, p) => {
          const v = arith(op, a(s, p), b(s, p));
          return v === null ? null : Number(v);
        };
      }
      return { fn, type, length: 8, isConst };
    }
  }
  return { fn, type, length: 1, isConst };
}

function toBig(v: Value): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(Math.trunc(v));
  if (typeof v === "boolean") return v ? 1n : 0n;
  return BigInt(Math.trunc(Number(v)));
}

function isIntType(t: number): boolean {
  return t === T.TINYINT || t === T.SMALLINT || t === T.INT || t === T.BIGINT || t === T.UTINYINT || t === T.USMALLINT || t === T.UINT || t === T.UBIGINT || t === T.TIMESTAMP || t === T.BOOL;
}

export function compileColumn(name: string, sc: Scope): Compiled {
  const ci = sc.columns.findIndex((c) => c.name === name);
  if (ci >= 0) {
    const def = sc.columns[ci];
    const src = sc.sources;
    return {
      fn: (s, p) => src[s].cols[ci].get(p),
      type: def.type,
      length: def.bytes,
      isConst: false,
      colIdx: ci,
      decPrecision: def.decPrecision,
      decScale: def.decScale,
    };
  }
  const ti = sc.tags.findIndex((c) => c.name === name);
  if (ti >= 0) {
    const def = sc.tags[ti];
    const src = sc.sources;
    return { fn: (s) => src[s].tags[ti] ?? null, type: def.type, length: def.bytes, isConst: false, tagIdx: ti, decPrecision: def.decPrecision, decScale: def.decScale };
  }
  if (sc.group && (name === "_wstart" || name === "_wend" || name === "_wduration")) {
    const g = sc.group;
    if (name === "_wduration") return { fn: () => (g.window ? g.window.end - g.window.start : null), type: T.BIGINT, length: 8, isConst: false };
    const end = name === "_wend";
    return { fn: () => (g.window ? (end ? g.window.end : g.window.start) : null), type: T.TIMESTAMP, length: 8, isConst: false };
  }
  if (name === "tbname") {
    const src = sc.sources;
    return { fn: (s) => src[s].name, type: T.VARCHAR, length: 192, isConst: false, isTbname: true };
  }
  throw new TdError(CODE.INVALID_COLUMN, `Invalid column name: ${name}`);
}

function compileFunc(e: Extract<Expr, { k: "func" }>, sc: Scope): Compiled {
  switch (e.name) {
    case "now":
      return constOf(sc.now, T.TIMESTAMP, 8);
    case "today": {
      const z = sc.zone ?? zoneOf(null);
      const local = new Date(Date.now() + z.offsetMs(Date.now()));
      const midnight = wallToUtc(z, local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 0, 0, 0);
      const perMs = sc.precision === "ms" ? 1n : sc.precision === "us" ? 1000n : 1000000n;
      return constOf(BigInt(midnight) * perMs, T.TIMESTAMP, 8);
    }
    case "timezone": {
      const text = describeZone(sc.zone ?? zoneOf(null));
      return constOf(text, T.VARCHAR, text.length);
    }
    case "server_version":
    case "client_version":
      return constOf(sc.serverVersion, T.VARCHAR, sc.serverVersion.length);
    case "database":
      return constOf(sc.currentDb, T.VARCHAR, 64);
    case "server_status":
      return constOf(1n, T.INT, 4);
    case "timetruncate":
      return timeTruncate(e, sc);
    case "to_unixtimestamp":
    case "to_iso8601":
    case "cast":
      throw notSupported(e.name.toUpperCase());
    default:
      if (AGG_FUNCS.has(e.name)) throw new TdError(0x260c, "Not a single-group group function");
      throw new TdError(0x264d, `Invalid function name: ${e.name}`);
  }
}
