// Rows per second over a sliding window, for the node status.
export class RateMeter {
  private readonly samples: { at: number; n: number }[] = [];

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
    if (this.samples.length === 0) return 0;
    const total = this.samples.reduce((s, x) => s + x.n, 0);
    return (total * 1000) / this.windowMs;
  }

  private trim(): void {
    const cut = this.now() - this.windowMs;
    while (this.samples.length > 0 && this.samples[0].at < cut) this.samples.shift();
  }
}
