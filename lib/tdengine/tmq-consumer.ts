// A TMQ consumer that survives drops: a TmqSession (one socket, subscribed) held by the same reconnecting
// SharedConnection the query client uses (backoff with jitter, endpoint rotation, one event per state change).
// Every new session subscribes again with the same group id and client id, so the group hands this consumer its
// vgroups again and reading resumes from the group's committed offsets (at least once: what was polled but not
// committed before the drop is delivered again).
import { SharedConnection, type ConnectionStatus } from "../tdengine-connection/shared-connection";
import type { BackoffOptions } from "../tdengine-connection/backoff";
import { TdengineError } from "./errors";
import { TmqSession, validateTmqOptions, type TmqOptions } from "./tmq";

export interface TmqConsumerOptions extends Omit<TmqOptions, "url"> {
  /** taosAdapter URLs to rotate over (at least one). */
  endpoints: string[];
  topics: string[];
  backoff?: BackoffOptions;
  /** Turns an error into what may be shown (e.g. secrets removed) before anyone sees it. */
  redact?: (err: Error) => Error;
}

export class TmqConsumer {
  private readonly connection: SharedConnection<TmqSession>;
  private started = false;

  constructor(private readonly opts: TmqConsumerOptions) {
    if (!Array.isArray(opts.endpoints) || opts.endpoints.length === 0) throw TdengineError.invalid("TMQ needs at least one taosAdapter URL");
    validateTmqOptions({ ...opts, url: opts.endpoints[0] }, opts.topics);
    const redact = opts.redact ?? ((e: Error) => e);
    this.connection = new SharedConnection<TmqSession>({
      endpoints: opts.endpoints,
      open: async (endpoint) => {
        try {
          return await TmqSession.open({ ...opts, url: endpoint }, opts.topics);
        } catch (err) {
          throw redact(err as Error);
        }
      },
      backoff: opts.backoff,
      defaultWaitMs: opts.timeoutMs,
    });
  }

  get topics(): readonly string[] {
    return this.opts.topics;
  }

  get status(): ConnectionStatus {
    return this.connection.status;
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.connection.acquire(this);
  }

  /** The subscribed session, waiting up to waitMs for a (re)connection. */
  session(waitMs?: number): Promise<TmqSession> {
    return this.connection.getClient(waitMs);
  }

  /** State changes (connecting, connected, disconnected with the error, closed); returns the unsubscribe function. */
  onState(listener: (s: ConnectionStatus) => void): () => void {
    return this.connection.onState(listener);
  }

  /** Stops reconnecting, unsubscribes and closes the socket. */
  async close(): Promise<void> {
    this.started = false;
    await this.connection.release(this);
  }
}
