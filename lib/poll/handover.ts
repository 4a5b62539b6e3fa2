// Which of the poller's sent messages really reached their destinations, so that a node that closes can keep
// the last state whose rows were all handed over. Node-RED delivers a message asynchronously and gives the
// sender no acknowledgement; during a deploy it hands a message sent just before the stop to a destination that
// is already stopping (or drops it), and the rows are lost while the saved watermark is past them. The adapter
// reports every receipt (by message id, and whether the receiving node was still running); on close the ledger
// says which state to keep: the one before the first message that was not received by a running node.

/** A message not received within this time is not waited for any more (its destinations dropped it). */
const FORGET_AFTER_MS = 10_000;

interface Entry<S> {
  id: string;
  at: number;
  /** Receipts needed: one per wire of the output. */
  expected: number;
  got: number;
  lost: boolean;
  /** The saved state before this message's rows were taken. */
  before: S;
}

export class HandoverLedger<S> {
  private entries: Entry<S>[] = [];
  private waiters: Array<() => void> = [];

  /** Messages sent and not yet received by every destination. */
  get pending(): number {
    return this.entries.filter((e) => !e.lost && e.got < e.expected).length;
  }

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A message was sent to `expected` destinations; `before` is the state to go back to if it never arrives.
   * Returns the ids of old messages it stopped tracking (so the caller's index stays bounded).
   */
  sent(id: string, expected: number, before: S): string[] {
    const now = this.now();
    let old = 0;
    while (old < this.entries.length && now - this.entries[old].at > FORGET_AFTER_MS) old++;
    const forgotten = this.entries.splice(0, old).map((e) => e.id);
    if (expected > 0) this.entries.push({ id, at: now, expected, got: 0, lost: false, before });
    return forgotten;
  }


  /** A destination received message `id`; `running` is false when it had already been stopped. */
  received(id: string, running: boolean): void {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return;
    const e = this.entries[i];
    e.got++;
    if (!running) e.lost = true;
    if (!e.lost && e.got >= e.expected) {
      // Delivered everywhere: nothing before it can need a rewind on its account.
      this.entries.splice(i, 1);
    }
    if (this.pending === 0) this.wake();
  }

  /** Whether the ledger still waits for receipts of message `id`. */
  has(id: string): boolean {
    return this.entries.some((e) => e.id === id && !e.lost && e.got < e.expected);
  }

  /** Ids of the messages tracked. */
  ids(): string[] {
    return this.entries.map((e) => e.id);
  }

  /**
   * Waits until every sent message was received (by running or stopped nodes) or `timeoutMs` passed, then returns
   * the state to keep: the state before the first message that was lost or never arrived, or undefined when
   * every message was delivered (keep the current state).
   */
  async settle(timeoutMs: number): Promise<{ rewindTo: S } | undefined> {
    if (this.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.waiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    const first = this.entries[0];
    return first ? { rewindTo: first.before } : undefined;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
