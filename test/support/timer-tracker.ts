// Counts the timers created while tracking is on that are still pending (neither fired nor cleared), so a test
// can assert that a node leaves none behind after a redeploy. Wraps the global timer functions; stop() restores them.
type AnyFn = (...args: unknown[]) => unknown;

export interface TimerTracker {
  /** Pending timers created since start, with where they were created. */
  live(): string[];
  stop(): void;
}

export function trackTimers(): TimerTracker {
  const g = globalThis as unknown as Record<string, AnyFn>;
  const orig = { setTimeout: g.setTimeout, setInterval: g.setInterval, clearTimeout: g.clearTimeout, clearInterval: g.clearInterval };
  const pending = new Map<unknown, string>();
  const where = (): string => (new Error().stack ?? "").split("\n").slice(3, 6).join(" <- ").replace(/\s+/g, " ");
  g.setTimeout = (fn: unknown, ...rest: unknown[]) => {
    const t = orig.setTimeout((...args: unknown[]) => {
      pending.delete(t);
      (fn as AnyFn)(...args);
    }, ...rest);
    pending.set(t, where());
    return t;
  };
  g.setInterval = (...args: unknown[]) => {
    const t = orig.setInterval(...args);
    pending.set(t, where());
    return t;
  };
  g.clearTimeout = (t: unknown) => {
    pending.delete(t);
    return orig.clearTimeout(t);
  };
  g.clearInterval = (t: unknown) => {
    pending.delete(t);
    return orig.clearInterval(t);
  };
  return {
    live: () => [...pending.values()],
    stop: () => Object.assign(g, orig),
  };
}
