// Row deltas of a table sent to every browser that replicates it, serialised once. A browser's on_update
// subscription on a flat view of the whole table (all a replicating page asks for) is not passed to the
// engine: the engine keeps one flat view per watched table and posts each of its row deltas once; here the
// same bytes go to each subscriber inside its own Response envelope (its msg_id and view id). The frames are
// byte for byte what the engine's own session would have sent (measured against 3.8.0), so a page cannot tell.
// Without this, 1,000 pages cost the engine 1,000 serialisations and Node-RED's thread 1,000 messages per
// update.

export interface DeltaSubscriber {
  /** The delta of one update (undefined: an update without rows), and the port it came from. */
  deliver(delta: Uint8Array | undefined, port: number): void;
}

export class Fanout {
  private readonly byEntity = new Map<string, Set<DeltaSubscriber>>();

  constructor(
    private readonly watch: (entity: string) => void,
    private readonly unwatch: (entity: string) => void,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  add(entity: string, sub: DeltaSubscriber): void {
    let subs = this.byEntity.get(entity);
    if (!subs) {
      subs = new Set();
      this.byEntity.set(entity, subs);
      this.watch(entity);
    }
    subs.add(sub);
  }

  remove(entity: string, sub: DeltaSubscriber): void {
    const subs = this.byEntity.get(entity);
    if (!subs?.delete(sub) || subs.size > 0) return;
    this.byEntity.delete(entity);
    this.unwatch(entity);
  }

  deliver(entity: string, delta: Uint8Array | undefined, port: number): void {
    const subs = this.byEntity.get(entity);
    if (!subs) return;
    for (const sub of [...subs]) {
      try {
        sub.deliver(delta, port);
      } catch (err) {
        // One client's failure is its own.
        this.onError(err);
      }
    }
  }

  /** Subscribers of a table (tests and figures). */
  subscribers(entity: string): number {
    return this.byEntity.get(entity)?.size ?? 0;
  }

  /** The engine was replaced: its watches went with it (the sessions that subscribed are dropped too). */
  reset(): void {
    this.byEntity.clear();
  }
}
