// Rows per second over a sliding window, for the node status.
export class RateMeter {
  private readonly samples: Array<{ at: number; n: number }> = [];
  /** Sum of samples[].n, kept up to date so that reading the rate is O(1) at thousands of batches/s. */
  private total = 0;

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  add(n: number): void {
    this.samples.push({ at: this.now(), n });
    this.total += n;
    this.trim();
  }

  perSecond(): number {
    this.trim();
    return (this.total * 1000) / this.windowMs;
  }

  private trim(): void {
    const cut = this.now() - this.windowMs;
    while (this.samples.length > 0 && this.samples[0].at < cut) this.total -= this.samples.shift()!.n;
  }
}
