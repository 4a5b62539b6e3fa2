// How old the newest row of each applied delta is when it reaches the page's local table: a bounded ring of
// samples (milliseconds) with percentiles. Read by the tests and the fan-out benchmark as
// `window.dashboardMetrics.freshness`; measuring in the page is what a user sees, not what the server sent.

export class Freshness {
  constructor(capacity = 2048) {
    this.capacity = capacity;
    this.ring = [];
    this.next = 0;
    /** Samples ever added (the ring keeps the last `capacity`). */
    this.count = 0;
  }
  add(ms) {
    if (!Number.isFinite(ms)) return;
    if (this.ring.length < this.capacity) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
  }
  /** The p-th percentile (0-100, nearest rank) of the kept samples, or undefined without samples. */
  percentile(p) {
    if (this.ring.length === 0) return undefined;
    const sorted = [...this.ring].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
  p50() {
    return this.percentile(50);
  }
  p99() {
    return this.percentile(99);
  }
  /** Forgets the samples (a benchmark run starts clean). */
  reset() {
    this.ring = [];
    this.next = 0;
    this.count = 0;
  }
  summary() {
    return { count: this.count, kept: this.ring.length, p50: this.p50(), p99: this.p99() };
  }
}
