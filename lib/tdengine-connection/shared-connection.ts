// One TDengine connection shared by several users (the nodes of one tdengine-config node): opened when the first
// user acquires it, closed when the last releases it, reopened with exponential backoff + jitter whenever it
// fails or drops. Listeners hear about state changes only (never about individual retries), so a long outage
// gives one "disconnected" event and one "connected" event, not one per attempt.
// With several endpoints (the taosAdapters of a cluster) a failed or lost endpoint is followed at once by the next
// one in the list (a failover: state "connecting", failingOver); only when a whole round over the list failed is
// the connection "disconnected" (an outage) and the backoff delay applies.
import type { TdengineClientApi } from "../tdengine/api";
import { TdengineError } from "../tdengine/errors";
import { backoffDelay, type BackoffOptions } from "./backoff";

export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export interface ConnectionStatus {
  state: ConnectionState;
  /** The error that caused "disconnected" (the opener must keep secrets out of its messages). */
  error?: Error;
  /** The endpoint in use (connected) or being tried; absent with a single unnamed endpoint. */
  endpoint?: string;
  /** Endpoints whose last attempt failed or whose connection was lost, oldest first. */
  down?: string[];
  /**
   * "connecting" after an endpoint failed or was lost while others of this round are left to try: a failover,
   * not (yet) an outage. An outage is "disconnected": every endpoint failed in a round.
   */
  failingOver?: boolean;
}

/** What the shared connection needs of a client: its state, close, and a "close" event when it drops. */
export interface Reconnectable {
  readonly closed: boolean;
  close(): Promise<void>;
  once(event: "close", listener: (err?: Error) => void): unknown;
}

export interface SharedConnectionOptions<C extends Reconnectable = TdengineClientApi> {
  /** Opens one client (connect + authenticate) to the given endpoint; rejects when that fails. */
  open: (endpoint: string) => Promise<C>;
  /** The endpoints to rotate over (default: one, passed to open() as ""). */
  endpoints?: string[];
  /** Index of the endpoint tried first (e.g. a hash of the owner's id, to spread owners over a cluster). */
  startIndex?: number;
  backoff?: BackoffOptions;
  /** Default wait of getClient() when no timeout is given (ms). */
  defaultWaitMs?: number;
  random?: () => number;
}

/** Rejection of getClient(): a TdengineError of a transport kind ("closed" or "timeout"), retryable. */
function notConnected(kind: "closed" | "timeout", message: string, cause?: unknown): TdengineError {
  return new TdengineError(kind, message, undefined, { cause, retryable: true });
}

interface Waiter<C> {
  resolve: (c: C) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SharedConnection<C extends Reconnectable = TdengineClientApi> {
  private readonly opts: SharedConnectionOptions<C>;
  private current: ConnectionStatus = { state: "closed" };
  private client: C | undefined;
  private readonly users = new Set<unknown>();
  private readonly listeners = new Set<(s: ConnectionStatus) => void>();
  private readonly waiters = new Set<Waiter<C>>();
  private readonly idleWaiters = new Set<() => void>();
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  /** Bumped by start() and close(); callbacks of an older generation do nothing. */
  private generation = 0;
  private running = false;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> = Promise.resolve();
  private readonly endpoints: string[];
  /** The endpoint being tried or in use. */
  private index: number;
  /** Endpoints tried without success since the last connection or the last backoff pause. */
  private failedInRound = 0;
  private readonly down = new Map<string, Error>();

  constructor(opts: SharedConnectionOptions<C>) {
    this.opts = opts;
    this.endpoints = opts.endpoints && opts.endpoints.length > 0 ? [...opts.endpoints] : [""];
    const start = Math.trunc(opts.startIndex ?? 0);
    this.index = ((start % this.endpoints.length) + this.endpoints.length) % this.endpoints.length;
  }

  /** The endpoint a new connection goes to first, or the one in use. */
  get endpoint(): string {
    return this.endpoints[this.index];
  }

  /** Every endpoint and the error of its last failure, when it is down. */
  get endpointHealth(): { endpoint: string; inUse: boolean; error?: Error }[] {
    return this.endpoints.map((endpoint, i) => {
      const error = this.down.get(endpoint);
      const inUse = i === this.index && this.current.state === "connected";
      return error ? { endpoint, inUse, error } : { endpoint, inUse };
    });
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Adds a user; the first one starts the connection. */
  acquire(user: unknown): void {
    this.users.add(user);
    if (!this.running) this.start();
  }

  /** Removes a user; when it was the last, closes the connection and resolves when the socket is closed. */
  async release(user: unknown): Promise<void> {
    this.users.delete(user);
    if (this.users.size === 0) {
      for (const w of this.idleWaiters) w();
      this.idleWaiters.clear();
      await this.close();
    }
  }

  /** Resolves when no user is left or after timeoutMs, whichever first (for the owner's own close). */
  whenUnused(timeoutMs: number): Promise<void> {
    if (this.users.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  onState(listener: (s: ConnectionStatus) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The live client, waiting up to timeoutMs for a (re)connection. */
  getClient(timeoutMs?: number): Promise<C> {
    const c = this.client;
    if (c && !c.closed) return Promise.resolve(c);
    if (!this.running) return Promise.reject(notConnected("closed", "the TDengine connection is closed"));
    const wait = timeoutMs ?? this.opts.defaultWaitMs ?? 10000;
    return new Promise((resolve, reject) => {
      const w: Waiter<C> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          const last = this.current.error;
          const why = last ? `: ${last.message}` : "";
          reject(notConnected("timeout", `not connected to TDengine after ${wait} ms${why}`, last));
        }, wait),
      };
      this.waiters.add(w);
    });
  }

  /** Starts connecting (idempotent while running). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.attempt = 0;
    this.failedInRound = 0;
    this.setStatus({ state: "connecting" });
    // A restart right after a close waits for the old socket to be gone first.
    const gen = this.generation;
    void this.closing.then(() => {
      if (gen === this.generation) this.connect(gen);
    });
  }

  /** Stops reconnecting, rejects waiters and closes the client (also one being opened right now). */
  close(): Promise<void> {
    if (!this.running) return this.closing;
    this.running = false;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(notConnected("closed", "the TDengine connection was closed"));
    }
    this.waiters.clear();
    const client = this.client;
    this.client = undefined;
    const opening = this.opening;
    this.setStatus({ state: "closed" });
    this.closing = (async () => {
      // An open in flight finishes (its connect timeout bounds it) and its client is closed by connect().
      if (opening) await opening;
      if (client && !client.closed) await client.close().catch(() => undefined);
    })();
    return this.closing;
  }

  private connect(gen: number): void {
    this.opening = (async () => {
      let client: C;
      const endpoint = this.endpoint;
      try {
        client = await this.opts.open(endpoint);
      } catch (err) {
        if (gen !== this.generation) return;
        this.failed(gen, endpoint, asError(err));
        return;
      }
      if (gen !== this.generation) {
        await client.close().catch(() => undefined);
        return;
      }
      this.client = client;
      this.attempt = 0;
      this.failedInRound = 0;
      this.down.delete(endpoint);
      client.once("close", (err?: Error) => this.onDropped(gen, client, err));
      this.setStatus({ state: "connected" });
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.resolve(client);
      }
      this.waiters.clear();
    })().finally(() => {
      if (gen === this.generation) this.opening = undefined;
    });
  }

  private onDropped(gen: number, client: C, err?: Error): void {
    if (gen !== this.generation || this.client !== client) return;
    this.client = undefined;
    this.failed(gen, this.endpoint, err ?? new Error("connection closed by the server"));
  }

  /**
   * After a failure: the next endpoint at once while this round has endpoints left (a failover, "connecting";
   * in an outage already, it stays "disconnected"), or, when every endpoint failed in this round, "disconnected"
   * and a backoff pause.
   */
  private failed(gen: number, endpoint: string, error: Error): void {
    this.markDown(endpoint, error);
    this.failedInRound++;
    this.index = (this.index + 1) % this.endpoints.length;
    if (this.failedInRound < this.endpoints.length) {
      if (this.current.state === "disconnected") this.setStatus({ state: "disconnected", error });
      else this.setStatus({ state: "connecting", error, failingOver: true });
      // A timer, not a direct call: the failed open's own bookkeeping (this.opening) finishes first.
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (gen === this.generation) this.connect(gen);
      }, 0);
      return;
    }
    this.failedInRound = 0;
    this.setStatus({ state: "disconnected", error });
    this.scheduleRetry(gen);
  }

  private markDown(endpoint: string, error: Error): void {
    // Re-inserted so the map's order is "oldest failure first".
    this.down.delete(endpoint);
    this.down.set(endpoint, error);
  }

  private scheduleRetry(gen: number): void {
    const delay = backoffDelay(this.attempt++, this.opts.backoff, this.opts.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (gen === this.generation) this.connect(gen);
    }, delay);
  }

  private setStatus(status: ConnectionStatus): void {
    const s: ConnectionStatus = { ...status };
    if (this.endpoints.length > 1 || this.endpoints[0] !== "") {
      s.endpoint = this.endpoint;
      if (this.down.size > 0) s.down = [...this.down.keys()];
    }
    const changed = s.state !== this.current.state || (s.state === "connected" && s.endpoint !== this.current.endpoint);
    this.current = s;
    // Retries keep the state "disconnected": no event per attempt, only per change of state.
    if (!changed) return;
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        // A listener's failure must not break the connection or the other listeners.
      }
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
