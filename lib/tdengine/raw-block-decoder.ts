// Decoder of TDengine raw blocks as taosAdapter delivers them over the WebSocket (all little-endian):
//   0 i32 version | 4 i32 total length | 8 i32 rows R | 12 i32 columns C | 16 i32 flag | 20 u64 group id |
//   28 C x (i8 type, i32 bytes) | 28+5C C x i32 column data length | 28+9C column sections in order.
// Fixed types: ceil(R/8) null bitmap (MSB first) + R x size values. Variable types: R x i32 offsets (-1 = NULL) +
// data area of u16-prefixed values (u32 for BLOB). NCHAR payloads are UCS-4 LE. Sections are walked by the length
// array, so trailing bytes after the last column are ignored. Every read is bounds-checked: corrupt input throws a
// TdengineError of kind "protocol" and never allocates more than the input can justify.
import { TYPE, fixedSize, isVarType } from "./constants";
import { TdengineError } from "./errors";

export interface DecodeOptions {
  /** How BIGINT/BIGINT UNSIGNED values beyond 2^53 come back (see api.ts). */
  bigint?: "string" | "bigint";
  /** Per-column DECIMAL scale (overrides the scale byte of the block header when given). */
  scales?: ReadonlyArray<number | undefined>;
}

export interface BlockColumn {
  type: number;
  /** The i32 "bytes" of the column entry. */
  bytes: number;
  /** For DECIMAL types: scale and precision packed into the entry (bytes +1 and +2 of the entry). */
  scale: number;
  precision: number;
}

export interface DecodedBlock {
  columns: BlockColumn[];
  rows: unknown[][];
}

const HEADER = 28;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fail(msg: string): never {
  throw TdengineError.protocol(`raw block: ${msg}`);
}

/** Reads the column entries without decoding values. */
export function readBlockColumns(block: Uint8Array): BlockColumn[] {
  if (block.byteLength < HEADER) fail(`${block.byteLength} bytes is shorter than the 28-byte header`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const cols = view.getInt32(12, true);
  if (cols < 0 || HEADER + cols * 9 > block.byteLength) fail(`column count ${cols} does not fit in ${block.byteLength} bytes`);
  const out: BlockColumn[] = [];
  for (let c = 0; c < cols; c++) {
    const e = HEADER + c * 5;
    out.push({ type: view.getInt8(e), bytes: view.getInt32(e + 1, true), scale: view.getUint8(e + 1), precision: view.getUint8(e + 2) });
  }
  return out;
}

export function decodeRawBlock(block: Uint8Array, opts: DecodeOptions = {}): DecodedBlock {
  const columns = readBlockColumns(block);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const declared = view.getInt32(4, true);
  if (declared < HEADER || declared > block.byteLength) fail(`declared length ${declared} but ${block.byteLength} bytes available`);
  const end = declared;
  const R = view.getInt32(8, true);
  const C = columns.length;
  if (R < 0) fail(`negative row count ${R}`);
  if (C === 0 && R > 0) fail(`${R} rows but no columns`);
  // Every row costs at least one bit in a fixed column or 4 offset bytes in a variable one: a row count the block
  // cannot hold is rejected before anything is allocated.
  if (R > 0 && Math.ceil(R / 8) * C > end) fail(`row count ${R} does not fit in ${end} bytes`);
  const rows: unknown[][] = new Array(R);
  for (let r = 0; r < R; r++) rows[r] = new Array(C);
  const bigintMode = opts.bigint ?? "string";
  let p = HEADER + 9 * C;
  for (let c = 0; c < C; c++) {
    const { type } = columns[c];
    const len = view.getInt32(HEADER + 5 * C + 4 * c, true);
    if (len < 0) fail(`column ${c}: negative data length ${len}`);
    if (isVarType(type)) {
      const offStart = p;
      const dataStart = p + 4 * R;
      if (dataStart + len > end) fail(`column ${c}: ${R} offsets + ${len} data bytes exceed the block`);
      const prefix = type === TYPE.BLOB ? 4 : 2;
      const strings = isStringType(type) ? new StringCache(block) : undefined;
      for (let r = 0; r < R; r++) {
        const off = view.getInt32(offStart + 4 * r, true);
        const row = rows[r];
        if (off === -1) {
          row[c] = null;
          continue;
        }
        if (off < 0 || off + prefix > len) fail(`column ${c} row ${r}: offset ${off} outside ${len} data bytes`);
        const at = dataStart + off;
        const n = prefix === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
        const s = at + prefix;
        if (off + prefix + n > len) fail(`column ${c} row ${r}: value of ${n} bytes overruns the column`);
        const slot = strings ? strings.slotFor(s, n) : -1;
        if (slot >= 0) {
          const cached = strings!.get(slot, s, n);
          if (cached !== undefined) {
            row[c] = cached;
            continue;
          }
        }
        const v = varValue(type, buf, s, s + n, c, r);
        row[c] = v;
        if (slot >= 0) strings!.put(slot, s, n, v as string);
      }
      p = dataStart + len;
    } else {
      const size = fixedSize(type);
      if (size === 0) fail(`column ${c}: unsupported type code ${type}`);
      const bitmap = p;
      const dataStart = p + ((R + 7) >> 3);
      if (len < R * size) fail(`column ${c}: data length ${len} < ${R} rows x ${size} bytes`);
      if (dataStart + len > end) fail(`column ${c}: data exceeds the block`);
      const scale = opts.scales?.[c] ?? columns[c].scale;
      for (let r = 0; r < R; r++) {
        const row = rows[r];
        if (block[bitmap + (r >> 3)] & (0x80 >> (r & 7))) {
          row[c] = null;
          continue;
        }
        row[c] = fixedValue(type, view, dataStart + r * size, bigintMode, scale);
      }
      p = dataStart + len;
    }
  }
  return { columns, rows };
}

function isStringType(type: number): boolean {
  return type === TYPE.VARCHAR || type === TYPE.JSON || type === TYPE.NCHAR;
}

/** Values up to this many bytes are looked up in the column's StringCache. */
const CACHED_MAX_BYTES = 32;
const CACHE_SLOTS = 64;
/** A column whose values keep missing stops being cached (mostly distinct texts). */
const CACHE_GIVE_UP_MISSES = 256;

/**
 * The strings of one string column of one block, by their bytes: a super table's tags and tbname repeat in
 * every row of a subtable, and handing out the string decoded before spares the decode and, above all, keeps
 * one string per distinct value alive instead of one per row (what a reader holding many rows pays for in
 * garbage collection). Direct-mapped on a hash of the bytes; a hit is checked byte by byte. Strings are values,
 * so sharing one is not observable; binary values (Uint8Array) are never cached.
 */
class StringCache {
  private readonly start = new Int32Array(CACHE_SLOTS).fill(-1);
  private readonly len = new Int32Array(CACHE_SLOTS);
  private readonly str: string[] = new Array<string>(CACHE_SLOTS);
  private misses = 0;
  private hits = 0;

  constructor(private readonly block: Uint8Array) {}

  /** The slot of the n bytes at s, or -1 when such a value is not cached. */
  slotFor(s: number, n: number): number {
    if (n > CACHED_MAX_BYTES || this.misses > CACHE_GIVE_UP_MISSES + this.hits) return -1;
    const b = this.block;
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[s + i], 0x01000193);
    return (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
  }

  /** The string of the n bytes at s, if the slot holds a value with the same bytes. */
  get(slot: number, s: number, n: number): string | undefined {
    const at = this.start[slot];
    if (at >= 0 && this.len[slot] === n && this.same(at, s, n)) {
      this.hits++;
      return this.str[slot];
    }
    this.misses++;
    return undefined;
  }

  put(slot: number, s: number, n: number, v: string): void {
    this.start[slot] = s;
    this.len[slot] = n;
    this.str[slot] = v;
  }

  private same(a: number, s: number, n: number): boolean {
    const b = this.block;
    for (let i = 0; i < n; i++) if (b[a + i] !== b[s + i]) return false;
    return true;
  }
}

function varValue(type: number, buf: Buffer, s: number, e: number, c: number, r: number): unknown {
  switch (type) {
    case TYPE.VARCHAR:
    case TYPE.JSON:
      return buf.toString("utf8", s, e);
    case TYPE.NCHAR:
      return ucs4(buf, s, e, c, r);
    default:
      // VARBINARY, GEOMETRY, BLOB: a copy, so the (possibly large) frame can be collected.
      return new Uint8Array(buf.subarray(s, e));
  }
}

function ucs4(buf: Buffer, s: number, e: number, c: number, r: number): string {
  if ((e - s) % 4 !== 0) fail(`column ${c} row ${r}: NCHAR value of ${e - s} bytes is not UCS-4`);
  let out = "";
  const points: number[] = [];
  for (let i = s; i < e; i += 4) {
    const cp = buf.readUInt32LE(i);
    if (cp > 0x10ffff) fail(`column ${c} row ${r}: invalid code point 0x${cp.toString(16)}`);
    points.push(cp);
    if (points.length === 4096) {
      out += String.fromCodePoint(...points);
      points.length = 0;
    }
  }
  return out + String.fromCodePoint(...points);
}

function big(v: bigint, mode: "string" | "bigint"): number | string | bigint {
  if (mode === "bigint") return v;
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
}

function fixedValue(type: number, view: DataView, at: number, mode: "string" | "bigint", scale: number): unknown {
  switch (type) {
    case TYPE.NULL:
      return null;
    case TYPE.BOOL:
      return view.getInt8(at) !== 0;
    case TYPE.TINYINT:
      return view.getInt8(at);
    case TYPE.SMALLINT:
      return view.getInt16(at, true);
    case TYPE.INT:
      return view.getInt32(at, true);
    case TYPE.BIGINT:
      return big(view.getBigInt64(at, true), mode);
    case TYPE.FLOAT:
      return view.getFloat32(at, true);
    case TYPE.DOUBLE:
      return view.getFloat64(at, true);
    case TYPE.TIMESTAMP: {
      // Precision-preserving: a number when exact (ms/us), a bigint otherwise (typical for ns).
      const v = view.getBigInt64(at, true);
      return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
    }
    case TYPE.UTINYINT:
      return view.getUint8(at);
    case TYPE.USMALLINT:
      return view.getUint16(at, true);
    case TYPE.UINT:
      return view.getUint32(at, true);
    case TYPE.UBIGINT:
      return big(view.getBigUint64(at, true), mode);
    case TYPE.DECIMAL64:
      return formatDecimal(view.getBigInt64(at, true), scale);
    case TYPE.DECIMAL: {
      const lo = view.getBigUint64(at, true);
      const hi = view.getBigInt64(at + 8, true);
      return formatDecimal((hi << 64n) | lo, scale);
    }
    default:
      return fail(`unsupported type code ${type}`);
  }
}

/** Unscaled integer + scale -> "12.3400" / "-0.05". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return neg ? `-${digits}` : digits;
}
