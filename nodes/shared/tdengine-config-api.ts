// What a tdengine-config node offers the nodes that use it (tdengine-write, tdengine-poll, tdengine-query).
// The config node owns one shared TDengine connection: opened when the first user registers, closed when
// the last deregisters, reconnected with exponential backoff and jitter in between.
import type { Node } from "node-red";
import type { TdengineClientApi } from "../../lib/tdengine/api";
import type { TmqConsumer, TmqConsumerOptions } from "../../lib/tdengine/tmq-consumer";

/** What a subscribing node chooses; the connection's endpoints, credentials and timeouts come from the config node. */
export type ConsumerSettings = Omit<TmqConsumerOptions, "endpoints" | "user" | "password" | "token" | "redact" | "timeoutMs" | "backoff">;

export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export interface ConnectionStatus {
  state: ConnectionState;
  /** The last error, when disconnected because of one (never contains the password). */
  error?: Error;
  /** With several taosAdapter endpoints: host:port of the one in use or being tried. */
  endpoint?: string;
  /** With several endpoints: host:port of those whose last attempt failed or whose connection was lost. */
  down?: string[];
  /** With several endpoints: which one is in use, "2/3" (short enough for a status line). */
  endpointNo?: string;
  /**
   * "connecting" because an endpoint failed or was lost and another is being tried: a failover, not an outage.
   * An outage is "disconnected" (every endpoint failed in a round); only that is reported as an error.
   */
  failingOver?: boolean;
}

export interface TdengineConfigNode extends Node {
  /** Default database of this connection ("" when none). */
  readonly database: string;
  readonly connectionStatus: ConnectionStatus;
  /** Registers a user node; the first registration opens the shared connection. */
  register(user: Node): void;
  /** Deregisters a user node; the last one closes the shared connection. */
  deregister(user: Node): Promise<void>;
  /**
   * The live client. Waits up to timeoutMs (default: the configured request timeout) for the connection;
   * rejects with a TdengineError of a transport kind when it is not connected by then.
   */
  getClient(timeoutMs?: number): Promise<TdengineClientApi>;
  /**
   * A TMQ consumer (its own socket to taosAdapter's /rest/tmq) with this connection's endpoints, credentials,
   * timeout and backoff; errors it reports are redacted. The caller starts and closes it.
   */
  createConsumer(settings: ConsumerSettings): TmqConsumer;
  /**
   * The error with this connection's secrets (password, token) masked as "***", as Test connection does: for
   * every server error text a node shows (status, Debug, done(err)), since a server may echo what it was sent.
   */
  redact(err: Error): Error;
  /** Subscribes to state changes; returns the unsubscribe function (call it in the user's close handler). */
  onState(listener: (status: ConnectionStatus) => void): () => void;
  /**
   * Says that rows were just written (acknowledged) into database.table (a super table or table) on this
   * connection's TDengine, so that the nodes polling it read them now (tdengine-write calls it per batch).
   * `more`: rows for that table are on their way or written next (the pollers wait for those, briefly);
   * tdengine-write says so when a batch leaves, and when a landed batch is followed by another at once.
   */
  rowsLanded?(database: string, table: string, more?: boolean): void;
  /**
   * Calls `listener` when this Node-RED writes rows into database.table on the same TDengine (the same
   * endpoints, whichever tdengine-config node they go through); returns the unsubscribe function.
   */
  onRowsLanded?(database: string, table: string, listener: (more: boolean) => void): () => void;
}
