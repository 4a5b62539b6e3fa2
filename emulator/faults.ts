// Fault-injection state shared by the HTTP and WebSocket sides.
export class Faults {
  refuseUntil = 0;
  delayMs = 0;
  private fail: { n: number; code: number; message: string } | null = null;
  dropAll: () => void = () => {};

  /** Consume one injected failure, if any is pending. */
  takeFailure(): { code: number; message: string } | null {
    if (!this.fail || this.fail.n <= 0) return null;
    this.fail.n--;
    const f = { code: this.fail.code, message: this.fail.message };
    if (this.fail.n === 0) this.fail = null;
    return f;
  }

  failNext(n: number, code: number, message?: string): void {
    this.fail = n > 0 ? { n, code: code & 0xffff, message: message ?? `injected failure (code ${code})` } : null;
  }

  refusing(): boolean {
    return Date.now() < this.refuseUntil;
  }

  reset(): void {
    this.refuseUntil = 0;
    this.delayMs = 0;
    this.fail = null;
  }
}
