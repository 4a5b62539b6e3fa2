// Checks one value against its column or tag type and returns the value to bind, or a Problem: the reason
// the row is rejected. Types are strict on purpose: "12" is not an INT.
import type { FieldDef } from "./schema";
// TYPE straight from the client's constants: a plain object (a re-export would be a getter on every access).
import { TYPE } from "../tdengine/constants";
import { typeName } from "./types";

const INT_RANGE: Record<number, [number, number]> = {
  [TYPE.TINYINT]: [-128, 127],
  [TYPE.SMALLINT]: [-32768, 32767],
  [TYPE.INT]: [-2147483648, 2147483647],
  [TYPE.UTINYINT]: [0, 255],
  [TYPE.USMALLINT]: [0, 65535],
  [TYPE.UINT]: [0, 4294967295],
};
const FLOAT_MAX = 3.4028234663852886e38;
const BIG_RANGE: Record<number, [bigint, bigint]> = {
  [TYPE.BIGINT]: [-(2n ** 63n), 2n ** 63n - 1n],
  [TYPE.UBIGINT]: [0n, 2n ** 64n - 1n],
};

/** Returns the bindable value, or a Problem saying why not. `undefined` and `null` both mean NULL. */
export function checkValue(f: FieldDef, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  const t = f.type;
  switch (t) {
    case TYPE.BOOL:
      return typeof v === "boolean" ? v : bad(f, v, "a boolean");
    case TYPE.TINYINT:
    case TYPE.SMALLINT:
    case TYPE.INT:
    case TYPE.UTINYINT:
    case TYPE.USMALLINT:
    case TYPE.UINT: {
      if (typeof v !== "number") return bad(f, v, "an integer");
      if (!Number.isInteger(v)) return new Problem(`${v} is not an integer (${typeName(t)})`);
      const [lo, hi] = INT_RANGE[t];
      return v < lo || v > hi ? new Problem(`${v} is out of range for ${typeName(t)} (${lo}..${hi})`) : v;
    }
    case TYPE.BIGINT:
    case TYPE.UBIGINT: {
      if (typeof v === "number") {
        if (!Number.isSafeInteger(v)) return new Problem(`${v} is not a safe integer (use a bigint for ${typeName(t)})`);
        if (t === TYPE.UBIGINT && v < 0) return new Problem(`${v} is negative (${typeName(t)})`);
        return v;
      }
      if (typeof v === "bigint") {
        const [lo, hi] = BIG_RANGE[t];
        return v < lo || v > hi ? new Problem(`${v} is out of range for ${typeName(t)}`) : v;
      }
      return bad(f, v, "an integer or bigint");
    }
    case TYPE.FLOAT:
    case TYPE.DOUBLE: {
      if (typeof v !== "number") return bad(f, v, "a number");
      if (Number.isNaN(v)) return new Problem(`NaN is not allowed`);
      if (!Number.isFinite(v)) return new Problem(`${v} is not allowed`);
      if (t === TYPE.FLOAT && Math.abs(v) > FLOAT_MAX) return new Problem(`${v} is out of range for FLOAT`);
      return v;
    }
    case TYPE.VARCHAR: {
      if (typeof v !== "string") return bad(f, v, "a string");
      // UTF-8 needs at most 3 bytes per UTF-16 unit: short strings skip the byte count.
      if (v.length * 3 <= f.length) return v;
      const n = Buffer.byteLength(v, "utf8");
      return n > f.length ? new Problem(`string of ${n} bytes is longer than VARCHAR(${f.length})`) : v;
    }
    case TYPE.NCHAR: {
      if (typeof v !== "string") return bad(f, v, "a string");
      let n = 0;
      for (const _ of v) n++;
      return n > f.length ? new Problem(`string of ${n} characters is longer than NCHAR(${f.length})`) : v;
    }
    case TYPE.JSON: {
      if (typeof v === "string") return v;
      if (typeof v === "object") return JSON.stringify(v);
      return bad(f, v, "an object or a JSON string");
    }
    case TYPE.VARBINARY:
    case TYPE.GEOMETRY: {
      if (!(v instanceof Uint8Array)) return bad(f, v, "a Buffer");
      return v.length > f.length ? new Problem(`${v.length} bytes is longer than ${typeName(t)}(${f.length})`) : v;
    }
    default:
      return new Problem(`type ${typeName(t)} cannot be written by tdengine-write`);
  }
}

/** A rejection reason (a class, so a legitimate string value is never mistaken for a reason). */
export class Problem {
  constructor(readonly reason: string) {}
}

function bad(f: FieldDef, v: unknown, expected: string): Problem {
  const got = Array.isArray(v) ? "array" : typeof v === "number" && Number.isNaN(v) ? "NaN" : typeof v;
  return new Problem(`expected ${expected} for ${typeName(f.type)}, got ${got}`);
}
