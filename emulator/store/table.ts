// A table's rows: columnar storage with the first column (TIMESTAMP) as a sorted, unique primary key.
// Inserting an existing timestamp replaces that row, as TDengine does. Rows live in physical slots
// [head, used); dropping the oldest rows (row cap) just advances head, with occasional compaction.
import { ColumnStore, type ColumnBatch } from "./column.js";
import type { ColumnDef, Value } from "../types.js";
import type { Vgroup } from "./vgroups.js";

export interface SuperTable {
  name: string;
  columns: ColumnDef[];
  tags: ColumnDef[];
  children: Map<string, TableData>;
  createdAt: number;
}

export class TableData {
  cols: ColumnStore[];
  head = 0;
  used = 0;
  capacity: number;
  /** Rows not kept in timestamp order (system tables, materialized subqueries): no binary search, no merge. */
  unordered = false;
  /** TTL in ttlUnits (days by default); 0 = never expires. Set through Catalog.ttl, which expires the table. */
  ttl = 0;
  /** Rows written whose timestamp was new to the table (write counters for tests and the stats endpoint). */
  inserted = 0;
  /** Rows written whose (table, ts) already existed, including repeats within one batch: a duplicate write. */
  overwritten = 0;
  /** The vgroup the table is hashed to (null for virtual tables). */
  vgroup: Vgroup | null = null;

  constructor(
    readonly name: string,
    readonly columns: ColumnDef[],
    readonly stable: SuperTable | null,
    public tags: Value[],
    readonly createdAt: number,
    private readonly maxRows: number,
  ) {
    this.capacity = 16;
    this.cols = columns.map((c) => new ColumnStore(c, this.capacity));
  }

  get rowCount(): number {
    return this.used - this.head;
  }

  /** Timestamp (bigint) at logical row i. */
  ts(i: number): bigint {
    return (this.cols[0].i64 as BigInt64Array)[this.head + i];
  }

  get(col: number, i: number): Value {
    return this.cols[col].get(this.head + i);
  }

  private ensure(extra: number): void {
    const need = this.used + extra;
    if (need <= this.capacity) return;
    if (this.head > 0 && this.head >= this.rowCount) {
      this.compact();
      if (this.used + extra <= this.capacity) return;
    }
    let cap = this.capacity;
    while (cap < this.used + extra) cap *= 2;
    for (const c of this.cols) c.grow(cap, this.used);
    this.capacity = cap;
  }

  private compact(): void {
    for (const c of this.cols) c.compact(this.head, this.used);
    this.used -= this.head;
    this.head = 0;
  }

  /**
   * Insert n rows given column-wise (batch[c] for table column c; undefined = NULL). tsList holds the rows'
   * timestamps. Returns the number of rows written (duplicates within the batch count once each, as TDengine's
   * affected rows do).
   */
  insert(batch: (ColumnBatch | undefined)[], tsList: ArrayLike<bigint>, n: number): number {
    if (n === 0) return 0;
    let ordered = true;
    const last = this.rowCount > 0 ? this.ts(this.rowCount - 1) : null;
    if (last !== null && !(tsList[0] > last)) ordered = false;
    for (let i = 1; ordered && i < n; i++) if (!(tsList[i] > tsList[i - 1])) ordered = false;
    if (ordered) {
      this.ensure(n);
      const p = this.used;
      for (let c = 0; c < this.cols.length; c++) this.cols[c].appendBatch(p, batch[c], n);
      this.used += n;
      this.inserted += n;
    } else {
      this.mergeInsert(batch, tsList, n);
    }
    this.applyCap();
    return n;
  }

  /** Slow path: out-of-order or duplicate timestamps. Later rows of the batch win over earlier ones. */
  private mergeInsert(batch: (ColumnBatch | undefined)[], tsList: ArrayLike<bigint>, n: number): void {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (tsList[a] < tsList[b] ? -1 : tsList[a] > tsList[b] ? 1 : a - b));
    // keep the last occurrence of each timestamp
    const uniq: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k];
      if (uniq.length && tsList[uniq[uniq.length - 1]] === tsList[i]) uniq[uniq.length - 1] = i;
      else uniq.push(i);
    }
    this.overwritten += n - uniq.length;
    for (const i of uniq) {
      const t = tsList[i];
      const pos = this.lowerBound(t);
      if (pos < this.rowCount && this.ts(pos) === t) {
        for (let c = 0; c < this.cols.length; c++) this.cols[c].setFromBatch(this.head + pos, batch[c], i);
        this.overwritten++;
        continue;
      }
      this.ensure(1);
      const p = this.head + pos;
      for (const col of this.cols) {
        if (col.size) {
          col.buf.copyWithin((p + 1) * col.size, p * col.size, this.used * col.size);
          col.nulls.copyWithin(p + 1, p, this.used);
        } else {
          col.vals.splice(p, 0, null);
        }
      }
      this.used++;
      this.inserted++;
      for (let c = 0; c < this.cols.length; c++) this.cols[c].setFromBatch(p, batch[c], i);
    }
  }

  private applyCap(): void {
    if (this.maxRows > 0 && this.rowCount > this.maxRows) {
      const drop = this.rowCount - this.maxRows;
      for (const c of this.cols) if (!c.size) for (let p = this.head; p < this.head + drop; p++) c.vals[p] = null;
      this.head += drop;
      if (this.head > 4096 && this.head >= this.rowCount) this.compact();
    }
  }

  /** A column added after creation (schemaless schema growth): existing rows read as NULL. */
  addColumnStore(def: ColumnDef): void {
    const c = new ColumnStore(def, this.capacity);
    if (c.size) c.nulls.fill(1, 0, this.used);
    else for (let p = 0; p < this.used; p++) c.vals[p] = null;
    this.cols.push(c);
  }

  /** Append one row without timestamp ordering (virtual system tables only). */
  appendRaw(values: Value[]): void {
    this.ensure(1);
    for (let c = 0; c < this.cols.length; c++) this.cols[c].set(this.used, values[c] ?? null);
    this.used++;
  }

  /** First logical row whose ts >= t. */
  lowerBound(t: bigint): number {
    let lo = 0;
    let hi = this.rowCount;
    const a = this.cols[0].i64 as BigInt64Array;
    const h = this.head;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[h + mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
