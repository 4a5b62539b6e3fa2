// Vgroups of a database: each table is hashed to one vgroup (TDengine hashes "db.table" with MurmurHash3 over
// equal hash ranges), and each vgroup keeps a write-ahead log whose versions (TMQ offsets) increase by one per
// write request. Topics read from these logs. A log entry keeps the written timestamps, not the values: readers
// look the rows up in the table, so a row overwritten later reads with its newest values (documented deviation).
import type { TableData } from "./table.js";

export interface WalEntry {
  version: number;
  table: TableData;
  ts: BigInt64Array;
}

/** Rows a vgroup log keeps before dropping its oldest entries (TDengine: WAL_RETENTION_PERIOD / _SIZE). */
export const WAL_MAX_ROWS = 2_000_000;

export class Vgroup {
  private entries: WalEntry[] = [];
  private head = 0;
  private rows = 0;
  /** Version the next write gets. */
  next = 0;

  constructor(readonly id: number) {}

  append(table: TableData, ts: ArrayLike<bigint>, n: number): void {
    const copy = new BigInt64Array(n);
    for (let i = 0; i < n; i++) copy[i] = ts[i];
    this.entries.push({ version: this.next++, table, ts: copy });
    this.rows += n;
    while (this.rows > WAL_MAX_ROWS && this.entries.length - this.head > 1) {
      this.rows -= this.entries[this.head].ts.length;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Version of the oldest kept entry (= next when the log is empty). */
  get first(): number {
    return this.head < this.entries.length ? this.entries[this.head].version : this.next;
  }

  /** The entry with this version, or undefined when it was trimmed or not written yet. */
  at(version: number): WalEntry | undefined {
    if (version < this.first || version >= this.next) return undefined;
    return this.entries[this.head + (version - this.first)];
  }
}

/** MurmurHash3 x86 32-bit (seed 0) of a UTF-8 string: the hash TDengine uses to place tables in vgroups. */
export function murmur3(text: string): number {
  const data = Buffer.from(text, "utf8");
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const blocks = data.length >> 2;
  for (let i = 0; i < blocks; i++) {
    let k = data.readUInt32LE(i * 4);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = data.length & 3;
  if (rest) {
    let k = 0;
    if (rest >= 3) k ^= data[tail + 2] << 16;
    if (rest >= 2) k ^= data[tail + 1] << 8;
    k ^= data[tail];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Index of the vgroup owning a table: the hash space split into equal ranges, one per vgroup. */
export function vgroupIndex(db: string, table: string, count: number): number {
  return Math.min(count - 1, Math.floor((murmur3(`${db}.${table}`) * count) / 0x1_0000_0000));
}
