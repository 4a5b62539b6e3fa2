// Raw block encoder (protocol §2.6): the columnar block taosAdapter relays in fetch_raw_block replies.
// Little-endian header and lengths, MSB-first null bitmaps for fixed types, i32 offsets (-1 = NULL) plus
// u16-prefixed values for variable types, NCHAR as UCS-4 LE, timestamps as i64 in the result precision.
import type { ResultColumn, ResultSet } from "./result.js";
import { writeFixed } from "./store/column.js";
import { fixedSize, isDecimal, isVarType, T, type Value } from "./types.js";

/** Rows per block, so clients exercise their fetch loop on large results. */
export const BLOCK_ROWS = 4096;

const HEADER = 28;

/** The per-column "bytes" field of the block schema (internal width, including the var-length prefix). */
export function blockColumnBytes(c: ResultColumn): number {
  if (isDecimal(c.type)) {
    // packed: byte0 = scale, byte1 = precision, byte3 = storage bytes
    return ((c.decScale ?? 0) & 0xff) | (((c.decPrecision ?? 0) & 0xff) << 8) | (fixedSize(c.type) << 24);
  }
  switch (c.type) {
    case T.NCHAR:
      return c.length * 4 + 2;
    case T.VARCHAR:
    case T.VARBINARY:
    case T.GEOMETRY:
    case T.JSON:
      return c.length + 2;
    case T.BLOB:
      return c.length + 4;
    default:
      return fixedSize(c.type);
  }
}

function varBytes(type: number, v: Value): Buffer {
  if (type === T.NCHAR) {
    const s = v as string;
    const cps: number[] = [];
    for (const ch of s) cps.push(ch.codePointAt(0) as number);
    const b = Buffer.allocUnsafe(cps.length * 4);
    for (let i = 0; i < cps.length; i++) b.writeUInt32LE(cps[i], i * 4);
    return b;
  }
  if (typeof v === "string") return Buffer.from(v, "utf8");
  return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
}

function decimalBytes(type: number, v: bigint, out: Buffer, o: number): void {
  if (type === T.DECIMAL64) {
    out.writeBigInt64LE(v, o);
    return;
  }
  const lo = BigInt.asUintN(64, v);
  const hi = BigInt.asIntN(64, v >> 64n);
  out.writeBigUInt64LE(lo, o);
  out.writeBigInt64LE(hi, o + 8);
}

/** Encode rows [start, start+count) of a result as one raw block. */
export function encodeBlock(rs: ResultSet, start: number, count: number): Buffer {
  const ncol = rs.columns.length;
  const sections: Buffer[] = [];
  for (let c = 0; c < ncol; c++) sections.push(encodeColumn(rs, c, start, count));
  const colLenTotal = sections.reduce((a, s) => a + s.length, 0);
  const head = Buffer.alloc(HEADER + 9 * ncol);
  // data-area lengths (excluding bitmap / offsets) per column
  const dataLens = rs.columns.map((col, c) => {
    const s = sections[c];
    return isVarType(col.type) ? s.length - 4 * count : s.length - ((count + 7) >> 3);
  });
  const total = head.length + colLenTotal;
  head.writeInt32LE(1, 0);
  head.writeInt32LE(total, 4);
  head.writeInt32LE(count, 8);
  head.writeInt32LE(ncol, 12);
  head.writeUInt32LE(0x80000000, 16);
  head.writeBigUInt64LE(0n, 20);
  for (let c = 0; c < ncol; c++) {
    head.writeInt8(rs.columns[c].type, HEADER + 5 * c);
    head.writeInt32LE(blockColumnBytes(rs.columns[c]), HEADER + 5 * c + 1);
    head.writeInt32LE(dataLens[c], HEADER + 5 * ncol + 4 * c);
  }
  return Buffer.concat([head, ...sections], total);
}

function encodeColumn(rs: ResultSet, c: number, start: number, count: number): Buffer {
  const col = rs.columns[c];
  const type = col.type;
  if (isVarType(type)) {
    const offsets = Buffer.alloc(4 * count);
    const parts: Buffer[] = [];
    let off = 0;
    const wide = type === T.BLOB;
    for (let r = 0; r < count; r++) {
      const v = rs.value(c, start + r);
      if (v === null) {
        offsets.writeInt32LE(-1, 4 * r);
        continue;
      }
      offsets.writeInt32LE(off, 4 * r);
      const b = varBytes(type, v);
      const prefix = Buffer.allocUnsafe(wide ? 4 : 2);
      if (wide) prefix.writeUInt32LE(b.length, 0);
      else prefix.writeUInt16LE(b.length, 0);
      parts.push(prefix, b);
      off += prefix.length + b.length;
    }
    return Buffer.concat([offsets, ...parts], offsets.length + off);
  }
  const size = type === T.NULL ? 1 : fixedSize(type);
  const bm = (count + 7) >> 3;
  const out = Buffer.alloc(bm + size * count);
  const fx = rs.fixed(c);
  if (fx) {
    const { stores, src, row } = fx;
    for (let r = 0; r < count; r++) {
      const st = stores[src ? src[start + r] : 0];
      const p = row[start + r];
      if (st.nulls[p]) {
        out[r >> 3] |= 0x80 >> (r & 7);
        continue;
      }
      const so = p * size;
      const d = bm + r * size;
      const buf = st.buf;
      for (let k = 0; k < size; k++) out[d + k] = buf[so + k];
    }
    return out;
  }
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let r = 0; r < count; r++) {
    const v = rs.value(c, start + r);
    if (v === null || type === T.NULL) {
      out[r >> 3] |= 0x80 >> (r & 7);
      continue;
    }
    if (isDecimal(type)) decimalBytes(type, v as bigint, out, bm + r * size);
    else writeFixed(dv, bm + r * size, type, v);
  }
  return out;
}
