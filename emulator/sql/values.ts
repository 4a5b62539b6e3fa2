// Converting SQL literals / bound values to the store's value conventions for a given column, with TDengine's
// range and length checks.
import { CODE, syntaxError, TdError } from "../errors.js";
import { T, type ColumnDef, type Precision, type Value } from "../types.js";
import { parseTimestampString } from "./time.js";
import { wktToWkb } from "./wkt.js";
import type { Zone } from "./zone.js";

const INT_RANGE: Record<number, [bigint, bigint, string]> = {
  [T.TINYINT]: [-128n, 127n, "tinyint"],
  [T.SMALLINT]: [-32768n, 32767n, "smallint"],
  [T.INT]: [-2147483648n, 2147483647n, "int"],
  [T.BIGINT]: [-9223372036854775808n, 9223372036854775807n, "bigint"],
  [T.UTINYINT]: [0n, 255n, "unsigned tinyint"],
  [T.USMALLINT]: [0n, 65535n, "unsigned smallint"],
  [T.UINT]: [0n, 4294967295n, "unsigned int"],
  [T.UBIGINT]: [0n, 18446744073709551615n, "unsigned bigint"],
};

function toBigIntStrict(v: Value, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw syntaxError(String(v), `invalid ${what} data`);
    return BigInt(Math.trunc(v));
  }
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") {
    const s = v.trim();
    if (/^[+-]?\d+$/.test(s)) return BigInt(s);
    if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s);
    const f = Number(s);
    if (s !== "" && Number.isFinite(f)) return BigInt(Math.trunc(f));
  }
  throw syntaxError(String(v), `invalid ${what} data`);
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) i++;
    n++;
  }
  return n;
}

function tooLong(col: ColumnDef): TdError {
  return new TdError(CODE.VALUE_TOO_LONG, `Value too long for column/tag: ${col.name}`);
}

/** Check a value's length against the column's declared width. */
export function checkLength(col: ColumnDef, v: Value): void {
  if (v === null) return;
  if (col.type === T.NCHAR) {
    if (codePoints(v as string) > col.bytes) throw tooLong(col);
  } else if (col.type === T.VARCHAR || col.type === T.JSON) {
    if (utf8Length(v as string) > col.bytes) throw tooLong(col);
  } else if (col.type === T.VARBINARY || col.type === T.GEOMETRY || col.type === T.BLOB) {
    if ((v as Uint8Array).length > col.bytes) throw tooLong(col);
  }
}

export function parseDecimal(s: string, col: ColumnDef): bigint {
  const scale = col.decScale ?? 0;
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw syntaxError(s, "invalid decimal data");
  let intPart = m[2] || "0";
  let frac = m[3] ?? "";
  const exp = Number(m[4] ?? 0);
  if (exp > 0) {
    const move = frac.slice(0, exp).padEnd(exp, "0");
    intPart += move;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const k = -exp;
    const pad = intPart.padStart(k + 1, "0");
    frac = pad.slice(pad.length - k) + frac;
    intPart = pad.slice(0, pad.length - k);
  }
  // round half away from zero at the scale
  let digits = BigInt(intPart + frac.slice(0, scale).padEnd(scale, "0"));
  if (frac.length > scale && frac[scale] >= "5") digits += 1n;
  const limit = 10n ** BigInt(col.decPrecision ?? 18);
  if (digits >= limit) throw new TdError(0x2605, `Invalid value type: decimal overflow for column ${col.name}`);
  return m[1] === "-" ? -digits : digits;
}

export function formatDecimal(v: bigint, scale: number): string {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const out = scale > 0 ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
  return neg ? "-" + out : out;
}

function hexToBytes(h: string): Uint8Array {
  if (h.length % 2) h = "0" + h;
  if (!/^[0-9a-f]*$/i.test(h)) throw syntaxError(h, "invalid varbinary data");
  return Uint8Array.from(Buffer.from(h, "hex"));
}

/** Convert an evaluated SQL value to the value stored in a column of type col (for INSERT and tags). */
export function coerce(v: Value, col: ColumnDef, precision: Precision, zone?: Zone): Value {
  if (v === null) return null;
  switch (col.type) {
    case T.BOOL:
      if (typeof v === "boolean") return v;
      if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0;
      if (typeof v === "string") {
        const l = v.toLowerCase();
        if (l === "true") return true;
        if (l === "false") return false;
        const n = Number(v);
        if (v.trim() !== "" && Number.isFinite(n)) return n !== 0;
      }
      throw syntaxError(String(v), "invalid bool data");
    case T.TINYINT:
    case T.SMALLINT:
    case T.INT:
    case T.BIGINT:
    case T.UTINYINT:
    case T.USMALLINT:
    case T.UINT:
    case T.UBIGINT: {
      const [lo, hi, what] = INT_RANGE[col.type];
      const b = toBigIntStrict(v, what);
      if (b < lo || b > hi) throw syntaxError(String(v), `${what} data overflow`);
      return col.type === T.BIGINT || col.type === T.UBIGINT ? b : Number(b);
    }
    case T.FLOAT: {
      const n = typeof v === "string" ? Number(v.trim() || NaN) : Number(v);
      if (Number.isNaN(n) && typeof v === "string") throw syntaxError(v, "invalid float data");
      if (Number.isFinite(n) && Math.abs(n) > 3.4028234663852886e38) throw syntaxError(String(v), "float data overflow");
      return Math.fround(n);
    }
    case T.DOUBLE: {
      const n = typeof v === "string" ? Number(v.trim() || NaN) : Number(v);
      if (Number.isNaN(n) && typeof v === "string") throw syntaxError(v, "invalid double data");
      return n;
    }
    case T.TIMESTAMP:
      if (typeof v === "string") {
        if (/^[+-]?\d+$/.test(v.trim())) return BigInt(v.trim());
        return parseTimestampString(v, precision, zone);
      }
      if (typeof v === "boolean") throw syntaxError(String(v), "invalid timestamp");
      return toBigIntStrict(v, "timestamp");
    case T.VARCHAR:
    case T.NCHAR: {
      const s = typeof v === "string" ? v : v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : String(v);
      checkLength(col, s);
      return s;
    }
    case T.JSON: {
      const s = typeof v === "string" ? v : String(v);
      if (s.trim() !== "" && s.trim().toLowerCase() !== "null") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(s);
        } catch {
          throw new TdError(0x2600, `syntax error near "${s}" (Invalid json format)`);
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
          throw new TdError(0x2600, `syntax error near "${s}" (Invalid json format)`);
      }
      checkLength(col, s);
      return s;
    }
    case T.VARBINARY:
    case T.BLOB: {
      let b: Uint8Array;
      if (v instanceof Uint8Array) b = v;
      else if (typeof v === "string" && /^\\x/i.test(v)) b = hexToBytes(v.slice(2));
      else b = Uint8Array.from(Buffer.from(String(v), "utf8"));
      checkLength(col, b);
      return b;
    }
    case T.GEOMETRY: {
      const b = v instanceof Uint8Array ? v : wktToWkb(String(v));
      checkLength(col, b);
      return b;
    }
    case T.DECIMAL:
    case T.DECIMAL64:
      if (typeof v === "bigint" || typeof v === "number") return parseDecimal(String(v), col);
      return parseDecimal(String(v), col);
    default:
      throw new TdError(CODE.ADAPTER, `unsupported type ${col.type}`);
  }
}
