// When polls run: on a fixed interval, on demand, and soon after a local write landed (wake), never two at once.
// A tick that finds a poll still running is skipped and counted (no queue builds up behind a slow database).
// After a failure the next interval polls wait for an exponential back-off; a successful poll ends it.
// A woken poll may skip the interval's extra work (the task is told), but only while a full poll started
// within the interval: woken polls can take every tick's turn, and the interval's work must still happen.

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
  /**
   * How long a wake that says "more rows of this write follow at once" may wait for the write's last batch
   * (default 100 ms): a long message written as several batches is then read in one poll, not batch by batch.
   */
  settleMaxMs?: number;
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
  private readonly settleMaxMs: number;
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
  /** When the last woken poll started (epoch ms, the scheduler's clock). */
  private lastWokenStart = -Infinity;
  /** When the last full poll (not allowed to skip the interval's work) started. */
  private lastFullStart = -Infinity;
  /** Since when wakes have said "more rows follow" without the write's last batch landing; its fallback timer. */
  private settleSince?: number;
  private settleTimer?: NodeJS.Timeout;
  private settleWaiters: (() => void)[] = [];
  private stats: SchedulerStats = { running: false, paused: false, skippedTicks: 0, runs: 0, consecutiveFailures: 0, retryAt: 0 };

  constructor(
    /**
     * The poll. `woken` says a wake (a local write) started it, and a full poll started less than an interval
     * ago, so it may skip the interval's extra work (e.g. looking for late rows).
     */
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
    this.settleMaxMs = opts.settleMaxMs ?? 100;
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
    // A write is landing batch by batch and its last batch wakes a poll (within settleMaxMs): polling now
    // would read it half-written. The woken poll does the interval's work if none was done for an interval.
    if (this.settling) return;
    this.run();
  }

  /** Whether a write is landing batch by batch (a wake said more rows follow, within settleMaxMs). */
  get settling(): boolean {
    return this.settleSince !== undefined && this.now() - this.settleSince < this.settleMaxMs;
  }

  /**
   * Resolves when the write that is landing has landed (its last batch woke the scheduler), or settleMaxMs after
   * it began, or on stop; at once when none is landing. A poll that read part of it can then read the rest.
   */
  settled(): Promise<void> {
    if (this.settleSince === undefined) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
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
   * Polls soon because rows just landed (a local write): at once when no poll runs and the last woken poll
   * started at least `floorMs` ago, else as soon as both hold; many wakes in a row make one woken poll per
   * `floorMs` at most. Interval polls do not count: one that read a write half-landed is followed at once.
   * Ignored while paused or backing off after a failure (the interval and retryNow() handle those). The poll
   * is told it was woken (the task's argument), so it may skip work that only the interval needs.
   * `more`: the writer writes more rows of the same write next; the poll waits for the wake of its last batch,
   * at most `settleMaxMs` after the first such wake (a writer that stalls or stays busy still gets read).
   */
  wake(floorMs: number, more = false): void {
    if (this.stopped || this.stats.paused) return this.endSettle();
    if (more) {
      const now = this.now();
      this.settleSince ??= now;
      const left = this.settleSince + this.settleMaxMs - now;
      if (left > 0) {
        // The settle ends before the wake: a wake refused (paused, stopped) must not leave ticks deferred.
        this.settleTimer ??= setTimeout(() => {
          this.endSettle();
          this.wake(floorMs);
        }, left);
        return;
      }
    }
    this.endSettle();
    if (this.wakeTimer) return;
    this.wakeFloorMs = floorMs;
    if (this.current) {
      this.wokenDuringRun = true;
      return;
    }
    if (this.stats.retryAt > this.now()) return;
    const wait = Math.max(0, this.lastWokenStart + floorMs - this.now());
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
    this.endSettle();
    this.wakeTimer = undefined;
    this.timer = undefined;
    this.immediate = undefined;
    const pending = this.waiters.splice(0);
    for (const w of pending) w.reject(new Error("the poller is stopped"));
    await this.current;
  }

  /**
   * For the running poll (call it from the task): whether rows landed while it ran, i.e. a wake came, once a write
   * still landing batch by batch has settled. True hands that wake to the caller, which reads those rows at once
   * into the same message, so no second poll follows for them (one message per write, not its halves).
   */
  async landedDuringRun(): Promise<boolean> {
    await this.settled();
    const landed = this.wokenDuringRun && !this.stopped;
    this.wokenDuringRun = false;
    return landed;
  }

  private endSettle(): void {
    this.settleSince = undefined;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    for (const resolve of this.settleWaiters.splice(0)) resolve();
  }

  private run(woken = false): void {
    const waiters = this.waiters.splice(0);
    this.triggered = false;
    // Any poll that starts now reads what landed before it: a pending wake is served by it.
    if (this.wakeTimer) {
      clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
    }
    const now = this.now();
    if (woken) this.lastWokenStart = now;
    if (woken && this.intervalMs > 0 && now - this.lastFullStart >= this.intervalMs) woken = false;
    if (!woken) this.lastFullStart = now;
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
