// Rows per second over a sliding window, for the node status.
export class RateMeter {
  private readonly samples: Array<{ at: number; n: number }> = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  add(n: number): void {
    this.samples.push({ at: this.now(), n });
    this.trim();
  }

  perSecond(): number {
    this.trim();
    let total = 0;
    for (const s of this.samples) total += s.n;
    return (total * 1000) / this.windowMs;
  }

  private trim(): void {
    const cut = this.now() - this.windowMs;
    while (this.samples.length > 0 && this.samples[0].at < cut) this.samples.shift();
  }
}
