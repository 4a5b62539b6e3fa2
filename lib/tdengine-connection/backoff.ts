// Exponential backoff with jitter, so many clients that lost the same server do not retry in lock-step.

export interface BackoffOptions {
  /** Delay before the first retry (ms). */
  initialMs?: number;
  /** Upper bound of any delay (ms). */
  maxMs?: number;
  /** Growth per failed attempt. */
  factor?: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = anywhere in [0, delay]). */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 250, maxMs: 30000, factor: 2, jitter: 0.5 };

/**
 * Delay before retry number `attempt` (0 = first retry): min(max, initial * factor^attempt), of which the
 * `jitter` fraction is drawn at random ("equal jitter"), so the delay stays within [(1-jitter)*d, d].
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const o = { ...DEFAULT_BACKOFF, ...opts };
  const base = Math.min(o.maxMs, o.initialMs * Math.pow(o.factor, Math.max(0, Math.min(attempt, 60))));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  return Math.round(base * (1 - jitter) + base * jitter * random());
}
