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
import { endianness } from "node:os";

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


/** A column's values: an array, or a typed array (NULL rows then marked in a separate mask). */
type Column = ArrayLike<unknown>;

// Typed arrays whose elements are laid out exactly as stmt2 wants the type's values (on a little-endian host):
// such a column is copied into the payload as it is, without a look at each value.
const LITTLE_ENDIAN = endianness() === "LE";
const NATIVE: Record<number, unknown> = {
  [TYPE.TINYINT]: Int8Array,
  [TYPE.SMALLINT]: Int16Array,
  [TYPE.INT]: Int32Array,
  [TYPE.BIGINT]: BigInt64Array,
  [TYPE.UTINYINT]: Uint8Array,
  [TYPE.USMALLINT]: Uint16Array,
  [TYPE.UINT]: Uint32Array,
  [TYPE.UBIGINT]: BigUint64Array,
  [TYPE.FLOAT]: Float32Array,
  [TYPE.DOUBLE]: Float64Array,
  [TYPE.TIMESTAMP]: BigInt64Array,
};

/** One column block, sized before anything is written (the payload is then allocated once). */
interface Block {
  t: Target;
  values: Column;
  nulls: Uint8Array | undefined;
  n: number;
  withLengths: boolean;
  allNull: boolean;
  /** Bytes of the value buffer. */
  bufLen: number;
  /** Variable types: each non-NULL value as a string (written as UTF-8) or bytes, and its byte length. */
  items?: (string | Uint8Array | undefined)[];
  lens?: Int32Array;
  where: string;
}

/** A typed array (not a DataView, whose indexes read as undefined, i.e. NULL). */
function isTyped(values: Column): boolean {
  return ArrayBuffer.isView(values) && !(values instanceof DataView);
}

function isNull(values: Column, nulls: Uint8Array | undefined, i: number): boolean {
  if (nulls !== undefined && nulls[i] === 1) return true;
  const v = values[i];
  return v === null || v === undefined;
}

/** The value of a variable-type cell as text or bytes, checked against the type. */
function varValue(t: Target, where: string, v: unknown): string | Uint8Array {
  switch (t.type) {
    case TYPE.VARCHAR:
    case TYPE.NCHAR:
      if (typeof v === "string") return v;
      if (v instanceof Uint8Array && t.type === TYPE.VARCHAR) return v;
      return bad(t, where, v, "a string");
    case TYPE.JSON:
      if (typeof v === "string") return v;
      if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) return JSON.stringify(v);
      return bad(t, where, v, "a JSON string or object");
    case TYPE.DECIMAL:
    case TYPE.DECIMAL64: {
      const s = typeof v === "string" ? v.trim() : typeof v === "bigint" ? v.toString() : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
      if (s === undefined || !DECIMAL_TEXT.test(s)) return bad(t, where, v, "a decimal number or string");
      return s;
    }
    default:
      // VARBINARY, GEOMETRY (WKB), BLOB
      if (v instanceof Uint8Array) return v;
      return bad(t, where, v, "a Uint8Array");
  }
}

function planBlock(t: Target, values: Column, nulls: Uint8Array | undefined, where: string): Block {
  const n = values.length;
  if (nulls !== undefined && nulls.length !== n) throw TdengineError.invalid(`${where}: ${t.name} has ${n} values but a NULL mask of ${nulls.length}`);
  const withLengths = needsLengths(t.type);
  let allNull = true;
  for (let i = 0; i < n; i++) {
    if (!isNull(values, nulls, i)) {
      allNull = false;
      break;
    }
  }
  const size = fixedSize(t.type);
  if (!withLengths && size === 0) throw TdengineError.invalid(`${where}: ${t.name} has type code ${t.type}, which stmt2 cannot bind`);
  const block: Block = { t, values, nulls, n, withLengths, allNull, bufLen: 0, where };
  if (allNull) return block;
  if (!withLengths) {
    block.bufLen = n * size;
    return block;
  }
  const items = new Array<string | Uint8Array | undefined>(n);
  const lens = new Int32Array(n);
  let bufLen = 0;
  for (let i = 0; i < n; i++) {
    if (isNull(values, nulls, i)) continue;
    const v = varValue(t, `${where} row ${i}`, values[i]);
    const len = typeof v === "string" ? Buffer.byteLength(v, "utf8") : v.byteLength;
    items[i] = v;
    lens[i] = len;
    bufLen += len;
  }
  block.items = items;
  block.lens = lens;
  block.bufLen = bufLen;
  return block;
}

function blockSize(b: Block): number {
  return 17 + b.n + (b.withLengths ? 4 * b.n : 0) + b.bufLen;
}

/** Writes a planned block at `p` (every byte of it); returns the position after it. */
function writeBlock(out: Buffer, view: DataView, p: number, b: Block): number {
  const { n, values, nulls } = b;
  const headerLen = 17 + n + (b.withLengths ? 4 * n : 0);
  view.setUint32(p, headerLen + b.bufLen, true);
  view.setUint32(p + 4, b.t.type, true);
  view.setUint32(p + 8, n, true);
  const marks = p + 12;
  if (isTyped(values)) {
    // A typed array holds no null: only the mask marks NULLs (no look at the values).
    if (nulls === undefined) out.fill(0, marks, marks + n);
    else for (let i = 0; i < n; i++) out[marks + i] = nulls[i] === 1 ? 1 : 0;
  } else for (let i = 0; i < n; i++) out[marks + i] = isNull(values, nulls, i) ? 1 : 0;
  out[p + 12 + n] = b.withLengths ? 1 : 0;
  view.setUint32(p + headerLen - 4, b.bufLen, true);
  const base = p + headerLen;
  if (b.withLengths) {
    const { items, lens } = b;
    let q = base;
    for (let i = 0; i < n; i++) {
      const item = items?.[i];
      const len = item === undefined ? 0 : lens![i];
      view.setInt32(p + 13 + n + 4 * i, len, true);
      if (item === undefined) continue;
      if (typeof item === "string") out.write(item, q, len, "utf8");
      else out.set(item, q);
      q += len;
    }
  } else if (!b.allNull) {
    writeFixed(b, out, view, base);
  }
  return base + b.bufLen;
}

/** One column block for `values` of one placeholder. */
export function encodeColumnBlock(t: Target, values: Column, where: string, nulls?: Uint8Array): Buffer {
  const b = planBlock(t, values, nulls, where);
  const out = Buffer.allocUnsafe(blockSize(b));
  writeBlock(out, new DataView(out.buffer, out.byteOffset, out.byteLength), 0, b);
  return out;
}

/** What a number must be to be written as a wire type without a look at it in the value-by-value path. */
const NUMBER_RANGE: Record<number, { lo: number; hi: number; integer: boolean }> = {
  [TYPE.TINYINT]: { lo: -128, hi: 127, integer: true },
  [TYPE.SMALLINT]: { lo: -32768, hi: 32767, integer: true },
  [TYPE.INT]: { lo: -2147483648, hi: 2147483647, integer: true },
  [TYPE.UTINYINT]: { lo: 0, hi: 255, integer: true },
  [TYPE.USMALLINT]: { lo: 0, hi: 65535, integer: true },
  [TYPE.UINT]: { lo: 0, hi: 4294967295, integer: true },
  [TYPE.BIGINT]: { lo: -Number.MAX_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER, integer: true },
  [TYPE.UBIGINT]: { lo: 0, hi: Number.MAX_SAFE_INTEGER, integer: true },
  [TYPE.TIMESTAMP]: { lo: -Number.MAX_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER, integer: true },
  // Any number, NaN included (rounded to 32 bits for FLOAT, as setFloat32 does).
  [TYPE.FLOAT]: { lo: -Infinity, hi: Infinity, integer: false },
  [TYPE.DOUBLE]: { lo: -Infinity, hi: Infinity, integer: false },
};

/** True when every non-NULL number fits the range (and is an integer when it must be; NaN only where allowed). */
function numbersFit(values: Float64Array, nulls: Uint8Array | undefined, lo: number, hi: number, integer: boolean): boolean {
  for (let i = 0; i < values.length; i++) {
    if (nulls !== undefined && nulls[i] === 1) continue;
    const v = values[i];
    if (!(v >= lo && v <= hi && (!integer || Math.floor(v) === v)) && (integer || v === v)) return false;
  }
  return true;
}

/**
 * The numbers of a Float64Array (how tdengine-write holds them) written as the wire type, NULL slots zeroed; false
 * (nothing written) when some value does not fit, which the value-by-value path then reports with its row. The
 * values are checked first, then written in one loop per wire type (no type switch per value).
 */
function writeNumbers(view: DataView, base: number, values: Float64Array, nulls: Uint8Array | undefined, type: number): boolean {
  const range = NUMBER_RANGE[type];
  if (range === undefined || !numbersFit(values, nulls, range.lo, range.hi, range.integer)) return false;
  const n = values.length;
  const at = (i: number): number => (nulls !== undefined && nulls[i] === 1 ? 0 : values[i]);
  switch (type) {
    case TYPE.TINYINT:
      for (let i = 0; i < n; i++) view.setInt8(base + i, at(i));
      break;
    case TYPE.UTINYINT:
      for (let i = 0; i < n; i++) view.setUint8(base + i, at(i));
      break;
    case TYPE.SMALLINT:
      for (let i = 0; i < n; i++) view.setInt16(base + 2 * i, at(i), true);
      break;
    case TYPE.USMALLINT:
      for (let i = 0; i < n; i++) view.setUint16(base + 2 * i, at(i), true);
      break;
    case TYPE.INT:
      for (let i = 0; i < n; i++) view.setInt32(base + 4 * i, at(i), true);
      break;
    case TYPE.UINT:
      for (let i = 0; i < n; i++) view.setUint32(base + 4 * i, at(i), true);
      break;
    case TYPE.FLOAT:
      for (let i = 0; i < n; i++) view.setFloat32(base + 4 * i, at(i), true);
      break;
    case TYPE.DOUBLE:
      for (let i = 0; i < n; i++) view.setFloat64(base + 8 * i, at(i), true);
      break;
    default:
      // BIGINT, UBIGINT, TIMESTAMP: safe integers (checked above).
      for (let i = 0; i < n; i++) setSafeInt64(view, base + 8 * i, at(i));
  }
  return true;
}

/** An integer within ±2^53 as a little-endian i64, without a BigInt. */
function setSafeInt64(view: DataView, at: number, v: number): void {
  const low = v >>> 0; // v modulo 2^32
  view.setUint32(at, low, true);
  view.setInt32(at + 4, (v - low) / 4294967296, true);
}

function writeFixed(b: Block, out: Buffer, view: DataView, base: number): void {
  const { t, values, nulls, n, where } = b;
  const size = fixedSize(t.type);
  if (values instanceof Float64Array && t.type !== TYPE.DOUBLE && writeNumbers(view, base, values, nulls, t.type)) return;
  const native = ArrayBuffer.isView(values) && values.constructor === NATIVE[t.type];
  if (LITTLE_ENDIAN && native) {
    const src = values as unknown as Uint8Array;
    out.set(new Uint8Array(src.buffer, src.byteOffset, n * size), base);
    if (nulls !== undefined) {
      for (let i = 0; i < n; i++) if (nulls[i] === 1) out.fill(0, base + i * size, base + (i + 1) * size);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if ((nulls !== undefined && nulls[i] === 1) || v === null || v === undefined) {
      out.fill(0, base + i * size, base + (i + 1) * size);
      continue;
    }
    switch (t.type) {
      case TYPE.BOOL:
        if (typeof v === "boolean") view.setUint8(base + i, v ? 1 : 0);
        else view.setUint8(base + i, intValue(t, `${where} row ${i}`, v, 0, 1));
        break;
      case TYPE.TINYINT:
        view.setInt8(base + i, intValue(t, `${where} row ${i}`, v, -128, 127));
        break;
      case TYPE.UTINYINT:
        view.setUint8(base + i, intValue(t, `${where} row ${i}`, v, 0, 255));
        break;
      case TYPE.SMALLINT:
        view.setInt16(base + 2 * i, intValue(t, `${where} row ${i}`, v, -32768, 32767), true);
        break;
      case TYPE.USMALLINT:
        view.setUint16(base + 2 * i, intValue(t, `${where} row ${i}`, v, 0, 65535), true);
        break;
      case TYPE.INT:
        if (typeof v === "number" && (v | 0) === v) view.setInt32(base + 4 * i, v, true);
        else view.setInt32(base + 4 * i, intValue(t, `${where} row ${i}`, v, -2147483648, 2147483647), true);
        break;
      case TYPE.UINT:
        view.setUint32(base + 4 * i, intValue(t, `${where} row ${i}`, v, 0, 4294967295), true);
        break;
      case TYPE.BIGINT:
        if (typeof v === "number" && Number.isSafeInteger(v)) setSafeInt64(view, base + 8 * i, v);
        else view.setBigInt64(base + 8 * i, bigValue(t, `${where} row ${i}`, v, I64_MIN, I64_MAX), true);
        break;
      case TYPE.UBIGINT:
        if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) setSafeInt64(view, base + 8 * i, v);
        else view.setBigUint64(base + 8 * i, bigValue(t, `${where} row ${i}`, v, 0n, U64_MAX), true);
        break;
      case TYPE.FLOAT:
        if (typeof v !== "number") bad(t, `${where} row ${i}`, v, "a number");
        view.setFloat32(base + 4 * i, v, true);
        break;
      case TYPE.DOUBLE:
        if (typeof v !== "number") bad(t, `${where} row ${i}`, v, "a number");
        view.setFloat64(base + 8 * i, v, true);
        break;
      case TYPE.TIMESTAMP:
        if (typeof v === "number" && Number.isSafeInteger(v)) setSafeInt64(view, base + 8 * i, v);
        else view.setBigInt64(base + 8 * i, timestampValue(t, `${where} row ${i}`, v), true);
        break;
      default:
        throw TdengineError.invalid(`${where} row ${i}: ${t.name} has type code ${t.type}, which stmt2 cannot bind`);
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
  const names: string[] = [];
  const nameLens: number[] = [];
  const tagBlocks: Block[][] = [];
  const colBlocks: Block[][] = [];
  for (let ti = 0; ti < T; ti++) {
    const tb = tables[ti];
    const where = `table ${ti}${tb.table ? ` (${tb.table})` : ""}`;
    if (withNames) {
      if (typeof tb.table !== "string" || tb.table.length === 0) throw TdengineError.invalid(`stmt2 bind: ${where} has no table name`);
      const len = Buffer.byteLength(tb.table, "utf8");
      if (tb.table.includes("\0") || len > 0xfffe) throw TdengineError.invalid(`stmt2 bind: ${where} has an invalid table name`);
      names.push(tb.table);
      nameLens.push(len);
    } else if (tb.table !== undefined) {
      throw TdengineError.invalid(`stmt2 bind: ${where} names a table but the statement has no tbname placeholder`);
    }
    const tags = tb.tags ?? [];
    if (tags.length !== tagFields.length) throw TdengineError.invalid(`stmt2 bind: ${where} has ${tags.length} tags, the statement ${tagFields.length}`);
    tagBlocks.push(tagFields.map((f, i) => planBlock(f, [tags[i]], undefined, `${where} tag ${i}`)));
    const cols = tb.columns ?? [];
    if (cols.length !== colFields.length) throw TdengineError.invalid(`stmt2 bind: ${where} has ${cols.length} columns, the statement ${colFields.length}`);
    if (colFields.length > 0) {
      const rows = cols[0].length;
      if (rows === 0) throw TdengineError.invalid(`stmt2 bind: ${where} has no rows`);
      for (let c = 1; c < cols.length; c++) {
        if (cols[c].length !== rows) throw TdengineError.invalid(`stmt2 bind: ${where} column ${c} has ${cols[c].length} values, column 0 has ${rows}`);
      }
    }
    colBlocks.push(colFields.map((f, i) => planBlock(f, cols[i], tb.nulls?.[i], `${where} column ${i}`)));
  }
  if (!withNames && tagFields.length === 0 && colFields.length === 0) throw TdengineError.invalid("stmt2 bind: the statement has no placeholders");
  return assemble(T, withNames ? { names, lens: nameLens } : undefined, tagFields.length, tagBlocks, colFields.length, colBlocks);
}

/** The whole payload in one buffer, sized first; every byte is written (hence allocUnsafe). */
function assemble(T: number, names: { names: string[]; lens: number[] } | undefined, tagCount: number, tagBlocks: Block[][], colCount: number, colBlocks: Block[][]): Buffer {
  const sum = (bs: Block[]): number => bs.reduce((a, b) => a + blockSize(b), 0);
  const namesLen = names ? 2 * T + names.lens.reduce((a, b) => a + b + 1, 0) : 0;
  const tagLens = tagCount > 0 ? tagBlocks.map(sum) : [];
  const colLens = colCount > 0 ? colBlocks.map(sum) : [];
  const tagsLen = tagCount > 0 ? 4 * T + tagLens.reduce((a, b) => a + b, 0) : 0;
  const colsLen = colCount > 0 ? 4 * T + colLens.reduce((a, b) => a + b, 0) : 0;
  const total = 28 + namesLen + tagsLen + colsLen;
  const out = Buffer.allocUnsafe(total);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, total, true);
  view.setUint32(4, T, true);
  view.setUint32(8, tagCount, true);
  view.setUint32(12, colCount, true);
  view.setUint32(16, names ? 28 : 0, true);
  view.setUint32(20, 0, true);
  view.setUint32(24, 0, true);
  let p = 28;
  if (names) {
    for (let i = 0; i < T; i++) view.setUint16(p + 2 * i, names.lens[i] + 1, true);
    p += 2 * T;
    for (let i = 0; i < T; i++) {
      out.write(names.names[i], p, names.lens[i], "utf8");
      p += names.lens[i];
      out[p++] = 0; // NUL terminator
    }
  }
  if (tagCount > 0) {
    view.setUint32(20, p, true);
    for (let i = 0; i < T; i++) view.setUint32(p + 4 * i, tagLens[i], true);
    p += 4 * T;
    for (const blocks of tagBlocks) for (const b of blocks) p = writeBlock(out, view, p, b);
  }
  if (colCount > 0) {
    view.setUint32(24, p, true);
    for (let i = 0; i < T; i++) view.setUint32(p + 4 * i, colLens[i], true);
    p += 4 * T;
    for (const blocks of colBlocks) for (const b of blocks) p = writeBlock(out, view, p, b);
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
    return planBlock(target, [value], undefined, target.name);
  });
  return assemble(1, undefined, 0, [[]], params.length, [blocks]);
}
