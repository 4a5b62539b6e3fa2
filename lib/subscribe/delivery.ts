// Whether the messages a subscribe node sent really reached running destinations. Node-RED delivers
// asynchronously and gives the sender no acknowledgement; during a deploy a message sent just before the stop
// can be handed to a node that is already stopped. Offsets are committed only for messages every destination
// received while running, so such a message is read again after the restart (at least once, none lost).

/** A message not received within this time counts as not delivered. */
const GIVE_UP_MS = 10_000;

interface Pending {
  left: number;
  lost: boolean;
  settle(ok: boolean): void;
}

export class DeliveryTracker {
  private readonly pending = new Map<string, Pending>();

  /** Number of message ids still awaited. */
  get size(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * Resolves true once each id was received by `destinations` running nodes; false as soon as one was received
   * by a stopped node, when cancelled, or after GIVE_UP_MS. No destinations: true at once.
   */
  expect(ids: readonly string[], destinations: number): Promise<boolean> {
    if (destinations <= 0 || ids.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let open = ids.length;
      let done = false;
      const timer = setTimeout(() => finish(false), GIVE_UP_MS);
      const finish = (ok: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const id of ids) this.pending.delete(id);
        resolve(ok);
      };
      for (const id of ids) {
        this.pending.set(id, {
          left: destinations,
          lost: false,
          settle: (ok) => {
            if (!ok) return finish(false);
            if (--open === 0) finish(true);
          },
        });
      }
    });
  }

  /** A destination received message `id`; `running` is false when it had already been stopped. */
  received(id: string, running: boolean): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (!running) {
      p.settle(false);
      return;
    }
    if (--p.left === 0) {
      this.pending.delete(id);
      p.settle(true);
    }
  }

  /** Every awaited message counts as not delivered (the node is closing). */
  cancel(): void {
    for (const p of [...this.pending.values()]) p.settle(false);
    this.pending.clear();
  }
}
