// Runs a node's queries with a concurrency limit: at most `concurrency` at once, the rest wait in arrival order,
// at most `maxQueued` waiting (then run() rejects at once, so a flood of messages cannot grow memory without
// bound). Each job gets an AbortSignal; stopAll() aborts the running ones and drops the waiting ones (their
// run() rejects with QueueStoppedError), which is how a redeploy cancels queries in flight.

export class QueueStoppedError extends Error {
  constructor() {
    super("query cancelled: the node was stopped");
    this.name = "QueueStoppedError";
  }
}

export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`too many queries waiting (${limit}): this message was dropped`);
    this.name = "QueueFullError";
  }
}

interface Waiting {
  start(): void;
  cancel(): void;
}

export class QueryQueue {
  private readonly running = new Set<AbortController>();
  private readonly waiting: Waiting[] = [];
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  run(job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.reject(new QueueStoppedError());
    return new Promise<void>((resolve, reject) => {
      const start = (): void => {
        const ac = new AbortController();
        this.running.add(ac);
        job(ac.signal)
          .then(resolve, (err: unknown) => reject(ac.signal.aborted && this.stopped ? new QueueStoppedError() : err))
          .finally(() => {
            this.running.delete(ac);
            this.next();
          });
      };
      if (this.running.size < this.concurrency) start();
      else if (this.waiting.length >= this.maxQueued) reject(new QueueFullError(this.maxQueued));
      else this.waiting.push({ start, cancel: () => reject(new QueueStoppedError()) });
    });
  }

  /** Aborts the running jobs and drops the waiting ones; later run() calls reject. */
  stopAll(): void {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w.cancel();
    for (const ac of this.running) ac.abort();
    this.next();
  }

  /** Resolves once no job runs. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.length > 0) this.waiting.shift()?.start();
    if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
