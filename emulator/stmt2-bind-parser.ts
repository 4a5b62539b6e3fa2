// Parser of the stmt2 bind payload (protocol §3.2): per table an optional name, tag blocks (1 row each) and
// column blocks (N rows each). Fixed-width values stay as views on the message bytes (copied once into the store).
import { CODE, TdError } from "./errors.js";
import { fixedSize, isDecimal, isStringType, isVarType, readFixed, T, type Value } from "./types.js";

export interface BoundColumn {
  type: number;
  rows: number;
  /** 1 = NULL per row. */
  isNull: Uint8Array;
  /** Fixed-width values, rows*size LE bytes (NULL slots zero). */
  fixed: Uint8Array | null;
  /** Variable-width values (strings for VARCHAR/NCHAR/JSON/DECIMAL text, bytes otherwise). */
  values: Value[] | null;
}

export interface BoundTable {
  name: string | null;
  tags: BoundColumn[];
  columns: BoundColumn[];
}

function bad(msg: string): TdError {
  return new TdError(CODE.INVALID_PARAMS, `stmt2 bind payload: ${msg}`);
}

export function parseStmt2Bind(buf: Uint8Array): BoundTable[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 28) throw bad("too short");
  const total = dv.getUint32(0, true);
  if (total > buf.length) throw bad("length mismatch");
  const count = dv.getUint32(4, true);
  const tagCount = dv.getUint32(8, true);
  const colCount = dv.getUint32(12, true);
  const nameOff = dv.getUint32(16, true);
  const tagOff = dv.getUint32(20, true);
  const colOff = dv.getUint32(24, true);
  const tables: BoundTable[] = [];
  for (let i = 0; i < count; i++) tables.push({ name: null, tags: [], columns: [] });
  if (nameOff) {
    let p = nameOff + 2 * count;
    for (let i = 0; i < count; i++) {
      const len = dv.getUint16(nameOff + 2 * i, true);
      if (p + len > total) throw bad("table name out of range");
      // length includes the terminating NUL
      tables[i].name = Buffer.from(buf.buffer, buf.byteOffset + p, Math.max(0, len - 1)).toString("utf8");
      p += len;
    }
  }
  const section = (off: number, per: number, assign: (t: BoundTable, cols: BoundColumn[]) => void): void => {
    if (!off || per === 0) return;
    let p = off + 4 * count;
    for (let i = 0; i < count; i++) {
      const len = dv.getUint32(off + 4 * i, true);
      const end = p + len;
      const cols: BoundColumn[] = [];
      let q = p;
      for (let k = 0; k < per; k++) {
        const [col, next] = parseColumn(buf, dv, q);
        cols.push(col);
        q = next;
      }
      if (q > end) throw bad("column data exceeds table length");
      assign(tables[i], cols);
      p = end;
    }
  };
  section(tagOff, tagCount, (t, cols) => (t.tags = cols));
  section(colOff, colCount, (t, cols) => (t.columns = cols));
  return tables;
}

function parseColumn(buf: Uint8Array, dv: DataView, p: number): [BoundColumn, number] {
  const totalLen = dv.getUint32(p, true);
  const type = dv.getUint32(p + 4, true);
  const rows = dv.getUint32(p + 8, true);
  let q = p + 12;
  const isNull = buf.subarray(q, q + rows);
  q += rows;
  const hasLengths = buf[q] === 1;
  q += 1;
  let lengths: Int32Array | null = null;
  if (hasLengths) {
    lengths = new Int32Array(rows);
    for (let i = 0; i < rows; i++) lengths[i] = dv.getInt32(q + 4 * i, true);
    q += 4 * rows;
  }
  const bufLen = dv.getUint32(q, true);
  q += 4;
  const data = buf.subarray(q, q + bufLen);
  const end = p + totalLen;
  if (q + bufLen > end || end > buf.length) throw bad("bind data length error");
  const col: BoundColumn = { type, rows, isNull, fixed: null, values: null };
  if (isVarType(type) || isDecimal(type) || hasLengths) {
    if (!lengths) throw bad("variable-length column without lengths");
    const values: Value[] = new Array(rows);
    let o = 0;
    const str = isStringType(type) || isDecimal(type);
    for (let i = 0; i < rows; i++) {
      if (isNull[i]) {
        values[i] = null;
        continue;
      }
      const l = lengths[i];
      const slice = data.subarray(o, o + l);
      values[i] = str ? Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).toString("utf8") : Uint8Array.from(slice);
      o += l;
    }
    col.values = values;
  } else {
    const size = fixedSize(type);
    if (!size || type === T.NULL) throw bad(`unsupported type ${type}`);
    // Connectors send an empty buffer for a column whose rows are all NULL (driver-go generateBindColData).
    if (bufLen === 0 && isNull.every((n) => n === 1)) col.fixed = new Uint8Array(rows * size);
    else if (bufLen < rows * size) throw bad("fixed column buffer too short");
    else col.fixed = data.subarray(0, rows * size);
  }
  return [col, end];
}

/** JS value of row r of a bound column (used for tags, query parameters and type conversions). */
export function boundValue(c: BoundColumn, r: number): Value {
  if (c.isNull[r]) return null;
  if (c.values) return c.values[r];
  const f = c.fixed as Uint8Array;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return readFixed(dv, c.type, r * fixedSize(c.type));
}
