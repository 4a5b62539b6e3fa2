// When polls run: on a fixed interval, on demand, and soon after a local write landed (wake), never two at once.
// A tick that finds a poll still running is skipped and counted (no queue builds up behind a slow database).
// After a failure the next interval polls wait for an exponential back-off; a successful poll ends it.

export interface TaskOutcome {
  /** True when the task did not catch up (a row cap cut it short): run again right away. */
  again?: boolean;
}

export interface SchedulerOptions {
  /** Interval between ticks in ms; 0 = no timer, polls only on trigger(). */
  intervalMs: number;
  /** First back-off delay after a failure (doubles per consecutive failure). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  now?: () => number;
}

export interface SchedulerStats {
  running: boolean;
  paused: boolean;
  /** Ticks that found the previous poll still running. */
  skippedTicks: number;
  runs: number;
  consecutiveFailures: number;
  /** Epoch ms before which interval ticks do not poll (back-off), or 0. */
  retryAt: number;
}

export class TickScheduler {
  private readonly intervalMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private current?: Promise<void>;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private triggered = false;
  private stopped = false;
  private wakeTimer?: NodeJS.Timeout;
  /** A wake came while a poll ran (which may have started before the rows landed): wake again after it. */
  private wokenDuringRun = false;
  private wakeFloorMs = 0;
  /** When the last poll started (epoch ms, the scheduler's clock). */
  private lastStart = -Infinity;
  private stats: SchedulerStats = { running: false, paused: false, skippedTicks: 0, runs: 0, consecutiveFailures: 0, retryAt: 0 };

  constructor(
    /** The poll; `woken` says a wake (a local write), not an interval tick or a trigger, started it. */
    private readonly task: (woken: boolean) => Promise<TaskOutcome>,
    opts: SchedulerOptions,
    /**
     * Called with every failure of the task (the scheduler itself never throws); `triggered` says whether a
     * trigger() caller is waiting for this poll and receives the error too.
     */
    private readonly onError: (err: Error, triggered: boolean) => void = () => undefined,
  ) {
    if (!Number.isFinite(opts.intervalMs) || opts.intervalMs < 0) throw new RangeError("interval must be >= 0 ms");
    this.intervalMs = opts.intervalMs;
    this.backoffBaseMs = opts.backoffBaseMs ?? 1000;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30000;
    this.now = opts.now ?? Date.now;
  }

  get state(): SchedulerStats {
    return { ...this.stats };
  }

  start(): void {
    if (this.stopped || this.timer || this.intervalMs === 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  pause(): void {
    this.stats.paused = true;
  }

  resume(): void {
    this.stats.paused = false;
  }

  /** One interval tick (also callable directly, e.g. by tests). */
  tick(): void {
    if (this.stopped || this.stats.paused) return;
    if (this.current) {
      this.stats.skippedTicks++;
      return;
    }
    if (this.stats.retryAt > this.now()) return;
    this.run();
  }

  /**
   * Ends the back-off and polls now (unless a poll runs or the scheduler is paused): for when the cause of the
   * failures is known to be gone, e.g. the connection is back, so recovery shows within a tick, not a back-off.
   */
  retryNow(): void {
    this.stats.retryAt = 0;
    this.tick();
  }

  /**
   * Polls soon because rows just landed (a local write): at once when no poll runs and the last one started at
   * least `floorMs` ago, else as soon as both hold; many wakes in a row make one poll per `floorMs` at most.
   * Ignored while paused or backing off after a failure (the interval and retryNow() handle those). The poll
   * is told it was woken (the task's argument), so it may skip work that only the interval needs.
   */
  wake(floorMs: number): void {
    if (this.stopped || this.stats.paused || this.wakeTimer) return;
    this.wakeFloorMs = floorMs;
    if (this.current) {
      this.wokenDuringRun = true;
      return;
    }
    if (this.stats.retryAt > this.now()) return;
    const wait = Math.max(0, this.lastStart + floorMs - this.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      if (this.stopped || this.stats.paused) return;
      if (this.current) this.wokenDuringRun = true;
      else this.run(true);
    }, wait);
  }

  /**
   * Polls now, or right after the running poll. Resolves when a poll that started after this call has
   * finished; rejects with that poll's error. Works while paused and during back-off (it is explicit).
   */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the poller is stopped"));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.current) this.triggered = true;
    else this.run();
    return p;
  }

  /** Resolves when no poll is running (at once when idle). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /** Stops the timer; resolves when the running poll (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.timer = undefined;
    this.immediate = undefined;
    const pending = this.waiters.splice(0);
    for (const w of pending) w.reject(new Error("the poller is stopped"));
    await this.current;
  }

  private run(woken = false): void {
    const waiters = this.waiters.splice(0);
    this.triggered = false;
    // Any poll that starts now reads what landed before it: a pending wake is served by it.
    if (this.wakeTimer) {
      clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
    }
    this.lastStart = this.now();
    this.stats.running = true;
    this.stats.runs++;
    this.current = (async () => {
      let again = false;
      let failure: Error | undefined;
      try {
        again = (await this.task(woken)).again === true;
        this.stats.consecutiveFailures = 0;
        this.stats.retryAt = 0;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        const n = ++this.stats.consecutiveFailures;
        this.stats.retryAt = this.now() + Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(n - 1, 20));
        again = false;
        try {
          this.onError(failure, waiters.length > 0);
        } catch {
          // a reporting failure must not stop the scheduler
        }
      }
      this.current = undefined;
      this.stats.running = false;
      for (const w of waiters) {
        if (failure) w.reject(failure);
        else w.resolve();
      }
      if (this.stopped) return;
      const wokenDuringRun = this.wokenDuringRun;
      this.wokenDuringRun = false;
      if (this.triggered) this.run();
      else if (again && !this.stats.paused) this.immediate = setImmediate(() => ((this.immediate = undefined), this.tick()));
      else if (wokenDuringRun) this.wake(this.wakeFloorMs);
    })();
  }
}
