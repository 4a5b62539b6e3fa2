// An in-process signal "rows just landed in database.table", from the nodes that write (tdengine-write, on each
// acknowledged batch) to the nodes that poll the same table on the same TDengine (tdengine-poll), so a poller
// reads a local write at once instead of at its next interval tick. Rows written by other processes are not
// signalled: the interval still catches them. Names compare case-insensitively (TDengine folds unquoted names).
// `scope` tells TDengine servers apart (the connection's endpoints): the same table name on another server is
// another table. `more` says rows for that table are on their way (a batch was sent, or the writer writes
// another one next: a message larger than one batch), so a poller may wait for the last batch and read the
// whole write in one go instead of half of it.

type Listener = (more: boolean) => void;

export class LandedRows {
  private readonly listeners = new Map<string, Set<Listener>>();

  private static key(scope: string, database: string, table: string): string {
    return `${scope}\u0000${database.toLowerCase()}\u0000${table.toLowerCase()}`;
  }

  /** Tells the listeners of scope/database.table that rows landed there. A failing listener does not stop the others. */
  notify(scope: string, database: string, table: string, more = false): void {
    const set = this.listeners.get(LandedRows.key(scope, database, table));
    if (!set) return;
    for (const l of [...set]) {
      try {
        l(more);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Calls `listener` whenever rows land in scope/database.table; returns the unsubscribe function. */
  listen(scope: string, database: string, table: string, listener: Listener): () => void {
    const key = LandedRows.key(scope, database, table);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** Tables with listeners (for tests: nothing is left behind after the listeners unsubscribe). */
  get size(): number {
    return this.listeners.size;
  }
}
