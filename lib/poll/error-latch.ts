// "One error per state change": while a poller keeps failing the same way (database down, table missing) it
// reports that once, not on every retry; a different failure, or the same one after a recovery, is new.

/** What distinguishes one failure state from another: the TdengineError kind and code, else the message. */
export function errorSignature(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { kind?: unknown; code?: unknown; message?: unknown };
    if (typeof e.kind === "string") return `${e.kind}:${String(e.code ?? "")}`;
    if (typeof e.message === "string") return `message:${e.message}`;
  }
  return `value:${String(err)}`;
}

export class ErrorLatch {
  private current?: string;

  /** The failing state, if any. */
  get failing(): boolean {
    return this.current !== undefined;
  }

  /** Records a failure; true when it is a new state and should be reported. */
  fail(err: unknown): boolean {
    const sig = errorSignature(err);
    if (sig === this.current) return false;
    this.current = sig;
    return true;
  }

  /** Records a success; true when this ends a failing state (a recovery worth logging). */
  succeed(): boolean {
    const was = this.current !== undefined;
    this.current = undefined;
    return was;
  }
}
