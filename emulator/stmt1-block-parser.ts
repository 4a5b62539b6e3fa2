// Parser of the raw block a stmt1 binary set_tags (action 1) / bind (action 2) frame carries after its 24-byte
// header (protocol §2.6 block layout, version 1): i32 version, u32 length, i32 rows, i32 columns, i32 flag, u64 group
// id, columns × (u8 type, i32 bytes), columns × i32 data lengths, then per column either rows × i32 offsets (−1 =
// NULL) and (u16 length + bytes) entries, or an MSB-first NULL bitmap and rows fixed-width LE values. NCHAR values
// are UCS-4 LE code points.
import { CODE, TdError } from "./errors.js";
import type { BoundColumn } from "./stmt2-bind-parser.js";
import { fixedSize, isVarType, T, type Value } from "./types.js";

/** Rows × columns a single stmt1 bind may carry: a hostile frame cannot make the emulator allocate more. */
const MAX_CELLS = 50_000_000;

function bad(msg: string): TdError {
  return new TdError(CODE.INVALID_PARAMS, `stmt bind block: ${msg}`);
}

export function parseStmt1Block(buf: Uint8Array): BoundColumn[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 28) throw bad("too short");
  // The length field counts the whole frame, the 24-byte header included (Node connector binaryBlockEncode):
  // bounds are checked against the bytes actually received.
  const length = buf.length;
  const rows = dv.getInt32(8, true);
  const cols = dv.getInt32(12, true);
  if (rows < 0 || cols < 0 || rows * cols > MAX_CELLS) throw bad("length, rows or columns out of range");
  let p = 28;
  if (p + cols * 9 > length) throw bad("schema out of range");
  const types: number[] = [];
  for (let c = 0; c < cols; c++) types.push(dv.getUint8(p + c * 5));
  p += cols * 5;
  const lens: number[] = [];
  for (let c = 0; c < cols; c++) lens.push(dv.getInt32(p + c * 4, true));
  p += cols * 4;
  const out: BoundColumn[] = [];
  for (let c = 0; c < cols; c++) {
    const type = types[c];
    const isNull = new Uint8Array(rows);
    if (isVarType(type) || type === T.NCHAR) {
      const offs = p;
      const data = p + rows * 4;
      if (data + Math.max(0, lens[c]) > length) throw bad("column data out of range");
      const values: Value[] = new Array(rows);
      for (let r = 0; r < rows; r++) {
        const o = dv.getInt32(offs + r * 4, true);
        if (o < 0) {
          isNull[r] = 1;
          values[r] = null;
          continue;
        }
        const at = data + o;
        if (at + 2 > length) throw bad("value out of range");
        const n = dv.getUint16(at, true);
        if (at + 2 + n > length) throw bad("value out of range");
        const bytes = buf.subarray(at + 2, at + 2 + n);
        values[r] = type === T.NCHAR ? ucs4(bytes) : type === T.VARCHAR || type === T.JSON ? Buffer.from(bytes).toString("utf8") : Uint8Array.from(bytes);
      }
      out.push({ type, rows, isNull, fixed: null, values });
      p = data + lens[c];
      continue;
    }
    const size = fixedSize(type);
    if (!size) throw bad(`unsupported type ${type}`);
    const bitmap = (rows + 7) >> 3;
    if (p + bitmap + rows * size > length) throw bad("column data out of range");
    for (let r = 0; r < rows; r++) if (buf[p + (r >> 3)] & (0x80 >> (r & 7))) isNull[r] = 1;
    out.push({ type, rows, isNull, fixed: buf.subarray(p + bitmap, p + bitmap + rows * size), values: null });
    p += bitmap + lens[c];
  }
  return out;
}

function ucs4(b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let s = "";
  for (let i = 0; i + 4 <= b.length; i += 4) s += String.fromCodePoint(dv.getUint32(i, true));
  return s;
}
