// The keys (timestamp + subtable) of rows already emitted whose timestamp may still come back in a query:
// the rows at the watermark (a `ts >= watermark` query returns them again) and, with a lookback, every row
// of the lookback window. A key is remembered until its timestamp falls below the query's lower bound.
//
// Memory bound: at most `maxKeys` keys are kept, except that the newest timestamp's group is never evicted
// (it is what makes `ts >= watermark` safe). When the bound is hit the oldest timestamp groups are evicted
// whole, and the caller raises the query's lower bound above the evicted timestamps, so an evicted row can
// never be read (and emitted) again: the bound shortens the lookback, it never causes a duplicate.

export class RecentKeys {
  private readonly groups = new Map<bigint, Set<string>>();
  /** Timestamps of the groups, ascending; entries before `head` are already removed. */
  private order: bigint[] = [];
  private head = 0;
  private count = 0;

  constructor(readonly maxKeys: number) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
  }

  get size(): number {
    return this.count;
  }

  /** The newest remembered timestamp, if any. */
  get newest(): bigint | undefined {
    return this.order.length > this.head ? this.order[this.order.length - 1] : undefined;
  }

  has(ts: bigint, key: string): boolean {
    return this.groups.get(ts)?.has(key) ?? false;
  }

  add(ts: bigint, key: string): void {
    let group = this.groups.get(ts);
    if (!group) {
      group = new Set();
      this.groups.set(ts, group);
      this.insertOrdered(ts);
    }
    if (!group.has(key)) {
      group.add(key);
      this.count++;
    }
  }

  /** Number of keys remembered at or after `ts`. */
  countFrom(ts: bigint): number {
    let below = 0;
    for (let i = this.head; i < this.order.length && this.order[i] < ts; i++) below += this.groups.get(this.order[i])?.size ?? 0;
    return this.count - below;
  }

  /** Number of keys remembered in [lo, hi]. */
  countBetween(lo: bigint, hi: bigint): number {
    // First remembered timestamp >= lo (the order is ascending from head).
    let a = this.head;
    let b = this.order.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.order[m] < lo) a = m + 1;
      else b = m;
    }
    let n = 0;
    for (let i = a; i < this.order.length && this.order[i] <= hi; i++) n += this.groups.get(this.order[i])?.size ?? 0;
    return n;
  }

  keysAt(ts: bigint): string[] {
    return [...(this.groups.get(ts) ?? [])];
  }

  /** Forgets every group older than `floor` (the query can no longer return them). */
  pruneBelow(floor: bigint): void {
    while (this.head < this.order.length && this.order[this.head] < floor) this.dropHead();
    this.compact();
  }

  /**
   * Evicts the oldest groups while over the bound, never the newest one. Returns the newest evicted timestamp
   * (the caller must keep its lower bound above it), or undefined when nothing was evicted.
   */
  enforceBound(): bigint | undefined {
    let evicted: bigint | undefined;
    while (this.count > this.maxKeys && this.order.length - this.head > 1) evicted = this.dropHead();
    this.compact();
    return evicted;
  }

  clear(): void {
    this.groups.clear();
    this.order = [];
    this.head = 0;
    this.count = 0;
  }

  private dropHead(): bigint {
    const ts = this.order[this.head++];
    this.count -= this.groups.get(ts)?.size ?? 0;
    this.groups.delete(ts);
    return ts;
  }

  private insertOrdered(ts: bigint): void {
    // Rows arrive in timestamp order, so this is almost always an append; late rows use a binary search.
    const n = this.order.length;
    if (n === this.head || this.order[n - 1] < ts) {
      this.order.push(ts);
      return;
    }
    let lo = this.head;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, ts);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
