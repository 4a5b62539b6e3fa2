// Encoder of the stmt2 bind payload (binary action 9, payload at byte 30), laid out as taosAdapter parses it
// (driver/wrapper/stmt2.go TaosStmt2BindBinary, adapter >= 3.3.3.0). All little-endian:
//   0 u32 total length | 4 u32 table count T | 8 u32 tags per table | 12 u32 columns per table |
//   16 u32 offset of table names (0 = none) | 20 u32 offset of tags | 24 u32 offset of columns | 28 sections
// names: T x u16 (name bytes + 1), then the T NUL-terminated names; tags / columns: T x u32 (bytes of that
// table's blocks), then per table its column blocks in placeholder order. A column block:
//   u32 block length | u32 type | u32 rows N | N x u8 is-null | u8 has-lengths | [N x i32 lengths] | u32 buffer
//   length | buffer (fixed types: N x size, NULL slots zeroed, nothing at all when every value is NULL;
//   variable types and DECIMAL: the non-NULL values' bytes back to back; strings are UTF-8, NCHAR included).
// For queries (stmt2 on a SELECT) the payload is one table without name or tags whose columns are the `?`
// parameters, each with exactly one row, typed by the JS value.
import type { Precision, Stmt2Field, TableBind } from "./api";
import { TYPE, fixedSize, isVarType } from "./constants";
import { TdengineError } from "./errors";

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;
const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

interface Target {
  type: number;
  precision: Precision;
  /** As shown in errors, e.g. column "ts". */
  name: string;
  /** The column or tag name, for TdengineError.field. */
  field?: string;
}

function bad(t: Target, where: string, v: unknown, expected: string): never {
  const shown = typeof v === "bigint" ? `${v}n` : typeof v === "string" ? JSON.stringify(v) : String(v);
  throw TdengineError.invalid(`${where}: ${t.name} expects ${expected}, got ${shown.slice(0, 60)}`, t.field);
}

function needsLengths(type: number): boolean {
  return isVarType(type) || type === TYPE.DECIMAL || type === TYPE.DECIMAL64;
}

function intValue(t: Target, where: string, v: unknown, lo: number, hi: number): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "bigint" && v >= BigInt(lo) && v <= BigInt(hi)) n = Number(v);
  else if (typeof v === "boolean") n = v ? 1 : 0;
  else return bad(t, where, v, "an integer");
  if (!Number.isInteger(n) || n < lo || n > hi) bad(t, where, v, `an integer in ${lo}..${hi}`);
  return n;
}

function bigValue(t: Target, where: string, v: unknown, lo: bigint, hi: bigint): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === "string" && /^[+-]?\d+$/.test(v.trim())) b = BigInt(v.trim());
  else return bad(t, where, v, "an integer (number, bigint or digit string)");
  if (b < lo || b > hi) bad(t, where, v, `an integer in ${lo}..${hi}`);
  return b;
}

function timestampValue(t: Target, where: string, v: unknown): bigint {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (!Number.isFinite(ms)) bad(t, where, v, "a valid Date");
    const mult = t.precision === "ns" ? 1_000_000n : t.precision === "us" ? 1000n : 1n;
    return BigInt(ms) * mult;
  }
  return bigValue(t, where, v, I64_MIN, I64_MAX);
}

function bytesValue(t: Target, where: string, v: unknown): Buffer {
  switch (t.type) {
    case TYPE.VARCHAR:
    case TYPE.NCHAR:
      if (typeof v === "string") return Buffer.from(v, "utf8");
      if (v instanceof Uint8Array && t.type === TYPE.VARCHAR) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      return bad(t, where, v, "a string");
    case TYPE.JSON:
      if (typeof v === "string") return Buffer.from(v, "utf8");
      if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) return Buffer.from(JSON.stringify(v), "utf8");
      return bad(t, where, v, "a JSON string or object");
    case TYPE.DECIMAL:
    case TYPE.DECIMAL64: {
      const s = typeof v === "string" ? v.trim() : typeof v === "bigint" ? v.toString() : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
      if (s === undefined || !DECIMAL_TEXT.test(s)) return bad(t, where, v, "a decimal number or string");
      return Buffer.from(s, "ascii");
    }
    default:
      // VARBINARY, GEOMETRY (WKB), BLOB
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      return bad(t, where, v, "a Uint8Array");
  }
}

/** One column block for `values` of one placeholder. */
export function encodeColumnBlock(t: Target, values: readonly unknown[], where: string): Buffer {
  const n = values.length;
  const withLengths = needsLengths(t.type);
  const headerLen = 17 + n + (withLengths ? 4 * n : 0);
  let allNull = true;
  for (let i = 0; i < n; i++) {
    if (values[i] !== null && values[i] !== undefined) {
      allNull = false;
      break;
    }
  }
  const size = fixedSize(t.type);
  if (!withLengths && size === 0) throw TdengineError.invalid(`${where}: ${t.name} has type code ${t.type}, which stmt2 cannot bind`);
  let parts: Buffer[] | undefined;
  let bufLen = 0;
  if (!allNull) {
    if (withLengths) {
      parts = new Array<Buffer>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        const b = bytesValue(t, `${where} row ${i}`, v);
        parts[i] = b;
        bufLen += b.byteLength;
      }
    } else {
      bufLen = n * size;
    }
  }
  const out = Buffer.alloc(headerLen + bufLen);
  out.writeUInt32LE(headerLen + bufLen, 0);
  out.writeUInt32LE(t.type, 4);
  out.writeUInt32LE(n, 8);
  if (withLengths) out[12 + n] = 1;
  out.writeUInt32LE(bufLen, headerLen - 4);
  if (allNull) {
    out.fill(1, 12, 12 + n);
    return out;
  }
  if (withLengths) {
    let p = headerLen;
    for (let i = 0; i < n; i++) {
      const b = parts![i];
      if (b === undefined) {
        out[12 + i] = 1;
        continue;
      }
      out.writeInt32LE(b.byteLength, 13 + n + 4 * i);
      out.set(b, p);
      p += b.byteLength;
    }
    return out;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  writeFixed(t, view, headerLen, values, out, where);
  return out;
}

function writeFixed(t: Target, view: DataView, base: number, values: readonly unknown[], out: Buffer, where: string): void {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      out[12 + i] = 1;
      continue;
    }
    const w = `${where} row ${i}`;
    switch (t.type) {
      case TYPE.BOOL:
        if (typeof v === "boolean") view.setUint8(base + i, v ? 1 : 0);
        else view.setUint8(base + i, intValue(t, w, v, 0, 1));
        break;
      case TYPE.TINYINT:
        view.setInt8(base + i, intValue(t, w, v, -128, 127));
        break;
      case TYPE.UTINYINT:
        view.setUint8(base + i, intValue(t, w, v, 0, 255));
        break;
      case TYPE.SMALLINT:
        view.setInt16(base + 2 * i, intValue(t, w, v, -32768, 32767), true);
        break;
      case TYPE.USMALLINT:
        view.setUint16(base + 2 * i, intValue(t, w, v, 0, 65535), true);
        break;
      case TYPE.INT:
        view.setInt32(base + 4 * i, intValue(t, w, v, -2147483648, 2147483647), true);
        break;
      case TYPE.UINT:
        view.setUint32(base + 4 * i, intValue(t, w, v, 0, 4294967295), true);
        break;
      case TYPE.BIGINT:
        view.setBigInt64(base + 8 * i, bigValue(t, w, v, I64_MIN, I64_MAX), true);
        break;
      case TYPE.UBIGINT:
        view.setBigUint64(base + 8 * i, bigValue(t, w, v, 0n, U64_MAX), true);
        break;
      case TYPE.FLOAT:
        if (typeof v !== "number") bad(t, w, v, "a number");
        view.setFloat32(base + 4 * i, v, true);
        break;
      case TYPE.DOUBLE:
        if (typeof v !== "number") bad(t, w, v, "a number");
        view.setFloat64(base + 8 * i, v, true);
        break;
      case TYPE.TIMESTAMP:
        if (typeof v === "number" && Number.isSafeInteger(v)) view.setBigInt64(base + 8 * i, BigInt(v), true);
        else view.setBigInt64(base + 8 * i, timestampValue(t, w, v), true);
        break;
      default:
        throw TdengineError.invalid(`${w}: ${t.name} has type code ${t.type}, which stmt2 cannot bind`);
    }
  }
}

function fieldTarget(f: Stmt2Field): Target {
  return { type: f.type, precision: f.precision, name: `${f.bindType} ${JSON.stringify(f.name)}`, field: f.name };
}

/** The payload for an INSERT statement: `fields` as stmt2_prepare reported them, one TableBind per subtable. */
export function encodeStmt2InsertBind(fields: readonly Stmt2Field[], tables: readonly TableBind[]): Buffer {
  if (tables.length === 0) throw TdengineError.invalid("stmt2 bind: no tables to bind");
  const tagFields = fields.filter((f) => f.bindType === "tag").map(fieldTarget);
  const colFields = fields.filter((f) => f.bindType === "column").map(fieldTarget);
  const withNames = fields.some((f) => f.bindType === "tbname");
  const T = tables.length;
  const names: Buffer[] = [];
  const tagBlocks: Buffer[][] = [];
  const colBlocks: Buffer[][] = [];
  for (let ti = 0; ti < T; ti++) {
    const tb = tables[ti];
    const where = `table ${ti}${tb.table ? ` (${tb.table})` : ""}`;
    if (withNames) {
      if (typeof tb.table !== "string" || tb.table.length === 0) throw TdengineError.invalid(`stmt2 bind: ${where} has no table name`);
      const name = Buffer.from(tb.table, "utf8");
      if (name.includes(0) || name.byteLength > 0xfffe) throw TdengineError.invalid(`stmt2 bind: ${where} has an invalid table name`);
      names.push(name);
    } else if (tb.table !== undefined) {
      throw TdengineError.invalid(`stmt2 bind: ${where} names a table but the statement has no tbname placeholder`);
    }
    const tags = tb.tags ?? [];
    if (tags.length !== tagFields.length) throw TdengineError.invalid(`stmt2 bind: ${where} has ${tags.length} tags, the statement ${tagFields.length}`);
    tagBlocks.push(tagFields.map((f, i) => encodeColumnBlock(f, [tags[i]], `${where} tag ${i}`)));
    const cols = tb.columns ?? [];
    if (cols.length !== colFields.length) throw TdengineError.invalid(`stmt2 bind: ${where} has ${cols.length} columns, the statement ${colFields.length}`);
    if (colFields.length > 0) {
      const rows = cols[0].length;
      if (rows === 0) throw TdengineError.invalid(`stmt2 bind: ${where} has no rows`);
      for (let c = 1; c < cols.length; c++) {
        if (cols[c].length !== rows) throw TdengineError.invalid(`stmt2 bind: ${where} column ${c} has ${cols[c].length} values, column 0 has ${rows}`);
      }
    }
    colBlocks.push(colFields.map((f, i) => encodeColumnBlock(f, cols[i], `${where} column ${i}`)));
  }
  if (!withNames && tagFields.length === 0 && colFields.length === 0) throw TdengineError.invalid("stmt2 bind: the statement has no placeholders");
  return assemble(T, withNames ? names : undefined, tagFields.length, tagBlocks, colFields.length, colBlocks);
}

function assemble(T: number, names: Buffer[] | undefined, tagCount: number, tagBlocks: Buffer[][], colCount: number, colBlocks: Buffer[][]): Buffer {
  const sum = (bs: Buffer[]): number => bs.reduce((a, b) => a + b.byteLength, 0);
  const namesLen = names ? 2 * T + names.reduce((a, b) => a + b.byteLength + 1, 0) : 0;
  const tagLens = tagCount > 0 ? tagBlocks.map(sum) : [];
  const colLens = colCount > 0 ? colBlocks.map(sum) : [];
  const tagsLen = tagCount > 0 ? 4 * T + tagLens.reduce((a, b) => a + b, 0) : 0;
  const colsLen = colCount > 0 ? 4 * T + colLens.reduce((a, b) => a + b, 0) : 0;
  const total = 28 + namesLen + tagsLen + colsLen;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(total, 0);
  out.writeUInt32LE(T, 4);
  out.writeUInt32LE(tagCount, 8);
  out.writeUInt32LE(colCount, 12);
  let p = 28;
  if (names) {
    out.writeUInt32LE(28, 16);
    for (let i = 0; i < T; i++) out.writeUInt16LE(names[i].byteLength + 1, p + 2 * i);
    p += 2 * T;
    for (const n of names) {
      out.set(n, p);
      p += n.byteLength + 1; // NUL terminator (already zero)
    }
  }
  if (tagCount > 0) {
    out.writeUInt32LE(p, 20);
    for (let i = 0; i < T; i++) out.writeUInt32LE(tagLens[i], p + 4 * i);
    p += 4 * T;
    for (const blocks of tagBlocks) {
      for (const b of blocks) {
        out.set(b, p);
        p += b.byteLength;
      }
    }
  }
  if (colCount > 0) {
    out.writeUInt32LE(p, 24);
    for (let i = 0; i < T; i++) out.writeUInt32LE(colLens[i], p + 4 * i);
    p += 4 * T;
    for (const blocks of colBlocks) {
      for (const b of blocks) {
        out.set(b, p);
        p += b.byteLength;
      }
    }
  }
  return out;
}

/** Type a query parameter by its JS value (as taosAdapter's own Go encoder does for queries). */
function queryParamTarget(v: unknown, i: number): { target: Target; value: unknown } {
  const name = `parameter ${i + 1}`;
  if (typeof v === "boolean") return { target: { type: TYPE.BOOL, precision: "ms", name }, value: v };
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return { target: { type: TYPE.BIGINT, precision: "ms", name }, value: v };
    return { target: { type: TYPE.DOUBLE, precision: "ms", name }, value: v };
  }
  if (typeof v === "bigint") {
    if (v >= I64_MIN && v <= I64_MAX) return { target: { type: TYPE.BIGINT, precision: "ms", name }, value: v };
    return { target: { type: TYPE.UBIGINT, precision: "ms", name }, value: v };
  }
  if (typeof v === "string" || v instanceof Uint8Array) return { target: { type: TYPE.VARCHAR, precision: "ms", name }, value: v };
  if (v instanceof Date) {
    if (!Number.isFinite(v.getTime())) throw TdengineError.invalid(`${name}: invalid Date`);
    // RFC 3339 text, which TDengine parses independently of the database precision.
    return { target: { type: TYPE.VARCHAR, precision: "ms", name }, value: v.toISOString() };
  }
  if (v === null || v === undefined) throw TdengineError.invalid(`${name}: NULL cannot be bound as a query parameter (write IS NULL in the SQL)`);
  throw TdengineError.invalid(`${name}: cannot bind a value of type ${typeof v}`);
}

/** The payload for a query: one table, no name, no tags, one one-row column per `?`. */
export function encodeStmt2QueryParams(params: readonly unknown[]): Buffer {
  if (params.length === 0) throw TdengineError.invalid("stmt2 query bind: no parameters");
  const blocks = params.map((v, i) => {
    const { target, value } = queryParamTarget(v, i);
    return encodeColumnBlock(target, [value], target.name);
  });
  return assemble(1, undefined, 0, [[]], params.length, [blocks]);
}
