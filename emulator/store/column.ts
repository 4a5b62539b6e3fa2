// One column of one table, stored columnar: fixed-width types as little-endian bytes in a growable Uint8Array
// (so stmt2 binds and raw blocks are plain memory copies), variable-width and DECIMAL types as a JS value array.
import { fixedSize, isDecimal, isVarType, readFixed, T, type ColumnDef, type Value } from "../types.js";

/** A batch of values for one column, as produced by the SQL INSERT path or the stmt2 bind parser. */
export type ColumnBatch =
  | { kind: "fixed"; bytes: Uint8Array; nulls: Uint8Array | null } // n*size LE bytes; nulls[i]=1 means NULL
  | { kind: "values"; values: Value[] };

export class ColumnStore {
  readonly size: number;
  /** Fixed-width storage (physical rows). */
  buf: Uint8Array;
  nulls: Uint8Array;
  dv: DataView;
  i64: BigInt64Array | null = null;
  /** Variable-width / DECIMAL storage (physical rows). */
  vals: Value[];

  constructor(
    readonly def: ColumnDef,
    capacity: number,
  ) {
    this.size = isVarType(def.type) || isDecimal(def.type) ? 0 : fixedSize(def.type);
    this.buf = new Uint8Array(this.size * capacity);
    this.nulls = new Uint8Array(this.size ? capacity : 0);
    this.dv = new DataView(this.buf.buffer);
    this.vals = [];
    this.refreshViews();
  }

  private refreshViews(): void {
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.i64 = this.size === 8 && this.def.type !== T.DOUBLE ? new BigInt64Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength / 8) : null;
  }

  grow(capacity: number, used: number): void {
    if (!this.size) return;
    const nb = new Uint8Array(capacity * this.size);
    nb.set(this.buf.subarray(0, used * this.size));
    const nn = new Uint8Array(capacity);
    nn.set(this.nulls.subarray(0, used));
    this.buf = nb;
    this.nulls = nn;
    this.refreshViews();
  }

  /** Move physical rows [from, to) to start at 0 (compaction after old rows were dropped). */
  compact(from: number, to: number): void {
    if (this.size) {
      this.buf.copyWithin(0, from * this.size, to * this.size);
      this.nulls.copyWithin(0, from, to);
    } else {
      this.vals = this.vals.slice(from, to);
    }
  }

  /** Value at physical row p. */
  get(p: number): Value {
    if (!this.size) return this.vals[p] ?? null;
    if (this.nulls[p]) return null;
    // Signed 64-bit values straight from their typed-array view: the scan hot path.
    if (this.i64 && this.def.type !== T.UBIGINT) return this.i64[p];
    return readFixed(this.dv, this.def.type, p * this.size);
  }

  /** Write value v (already converted to the column's JS convention) at physical row p. */
  set(p: number, v: Value): void {
    if (!this.size) {
      this.vals[p] = v;
      return;
    }
    const o = p * this.size;
    if (v === null) {
      this.nulls[p] = 1;
      this.buf.fill(0, o, o + this.size);
      return;
    }
    this.nulls[p] = 0;
    writeFixed(this.dv, o, this.def.type, v);
  }

  /** Copy row s of a batch into physical row p. */
  setFromBatch(p: number, b: ColumnBatch | undefined, s: number): void {
    if (!b) return this.set(p, null);
    if (b.kind === "values") return this.set(p, b.values[s] ?? null);
    if (!this.size) throw new Error("fixed batch for variable column");
    const size = this.size;
    this.buf.set(b.bytes.subarray(s * size, s * size + size), p * size);
    this.nulls[p] = b.nulls ? b.nulls[s] : 0;
  }

  /** Append n batch rows at physical row p (fast path: memory copies for fixed types). */
  appendBatch(p: number, b: ColumnBatch | undefined, n: number): void {
    if (!b) {
      if (this.size) {
        this.buf.fill(0, p * this.size, (p + n) * this.size);
        this.nulls.fill(1, p, p + n);
      } else {
        for (let i = 0; i < n; i++) this.vals[p + i] = null;
      }
      return;
    }
    if (b.kind === "fixed" && this.size) {
      this.buf.set(b.bytes.subarray(0, n * this.size), p * this.size);
      if (b.nulls) this.nulls.set(b.nulls.subarray(0, n), p);
      else this.nulls.fill(0, p, p + n);
      return;
    }
    for (let i = 0; i < n; i++) this.setFromBatch(p + i, b, i);
  }
}

export function writeFixed(dv: DataView, o: number, type: number, v: Value): void {
  switch (type) {
    case T.BOOL:
      dv.setUint8(o, v ? 1 : 0);
      return;
    case T.TINYINT:
      dv.setInt8(o, Number(v));
      return;
    case T.UTINYINT:
      dv.setUint8(o, Number(v));
      return;
    case T.SMALLINT:
      dv.setInt16(o, Number(v), true);
      return;
    case T.USMALLINT:
      dv.setUint16(o, Number(v), true);
      return;
    case T.INT:
      dv.setInt32(o, Number(v), true);
      return;
    case T.UINT:
      dv.setUint32(o, Number(v), true);
      return;
    case T.FLOAT:
      dv.setFloat32(o, Number(v), true);
      return;
    case T.DOUBLE:
      dv.setFloat64(o, Number(v), true);
      return;
    case T.UBIGINT:
      dv.setBigUint64(o, BigInt(v as bigint), true);
      return;
    case T.BIGINT:
    case T.TIMESTAMP:
      dv.setBigInt64(o, BigInt(v as bigint), true);
      return;
    default:
      throw new Error(`not a fixed type ${type}`);
  }
}
