// TDengine data subscription (TMQ) over taosAdapter's /rest/tmq WebSocket endpoint (controller/ws/tmq/tmq.go).
// A TmqSession is one socket with one subscribed consumer: `subscribe` carries the credentials (there is no
// `conn` on this endpoint), then poll -> fetch_raw_data (binary reply, action 8, decoded by tmq-raw-data.ts) for
// each data message, commit / commit_offset / committed / position / seek / assignment / list_topics /
// unsubscribe. Closing the socket makes taosAdapter close the consumer, so the group forgets it at once instead
// of after the session timeout; close() still unsubscribes first when it can.
// taosAdapter queues one poll per connection and a newer poll replaces an unstarted one without a reply, so a
// session refuses a second poll while one is pending instead of losing a reply.
// TmqConsumer (tmq-consumer.ts) adds reconnection: a new session, subscribed again, after every drop.
import { EventEmitter } from "node:events";
import type { ColumnMeta, Precision } from "./api";
import { Connection, tmqUrl, type JsonReply } from "./connection";
import { TMQ_MESSAGE_TYPE, TMQ_OFFSET_INVALID } from "./constants";
import { TdengineError } from "./errors";
import { nextReqId } from "./req-id";
import { decodeTmqRawData, parseRawDataReply, type TmqBlock } from "./tmq-raw-data";

export type { TmqBlock } from "./tmq-raw-data";

export type OffsetReset = "earliest" | "latest" | "none";

export interface TmqOptions {
  /** ws:// or wss:// URL of taosAdapter; the path becomes /rest/tmq (see tmqUrl). */
  url: string;
  user?: string;
  password?: string;
  token?: string;
  /** Connect timeout and per-request timeout in ms (default 30000); a poll waits its blocking time on top. */
  timeoutMs?: number;
  maxFrameBytes?: number;
  bigint?: "string" | "bigint";
  tls?: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean; servername?: string };
  /** group.id: consumers of one group share the vgroups of a topic and its committed offsets. */
  groupId: string;
  /** client.id (free text, shown in SHOW CONSUMERS). */
  clientId?: string;
  /** auto.offset.reset: where a group without a committed offset starts (default "latest", as TDengine). */
  offsetReset?: OffsetReset;
  /** enable.auto.commit: taosAdapter commits during poll every autoCommitIntervalMs (default false here). */
  autoCommit?: boolean;
  /** auto.commit.interval.ms (default 5000). */
  autoCommitIntervalMs?: number;
  /** msg.with.table.name: each block names its subtable (default true). */
  withTableName?: boolean;
  /** session.timeout.ms: how long the group waits for a silent consumer before rebalancing. */
  sessionTimeoutMs?: number;
  /** max.poll.interval.ms. */
  maxPollIntervalMs?: number;
  /** Free text sent as `connector`. */
  connector?: string;
}

export interface TopicVgroup {
  topic: string;
  vgroupId: number;
}

export interface VgroupAssignment extends TopicVgroup {
  /** Current position; TMQ_OFFSET_INVALID when none yet. */
  offset: number;
  /** First and last offset the vgroup's WAL still holds. */
  begin: number;
  end: number;
}

/** One polled TMQ message with its decoded data. */
export interface TmqMessage {
  topic: string;
  database: string;
  vgroupId: number;
  /** The vgroup offset reported with the message. */
  offset: number;
  messageId: number;
  /** 1 data, 2 table meta, 3 meta + data, 4 raw. */
  messageType: number;
  /** Data blocks (none for a table-meta message). */
  blocks: TmqBlock[];
  /** Rows over all blocks. */
  rows: number;
  /** Columns and precision of the first block (what most topics have for all). */
  columns: ColumnMeta[];
  precision: Precision;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECTOR = "node-red-tdengine-perspective";
/** An unsubscribe on close that gets no answer must not hold a redeploy up. */
const CLOSE_UNSUBSCRIBE_MS = 2000;

export { TMQ_OFFSET_INVALID };

function int(v: unknown, field: string, action: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw TdengineError.protocol(`${action} reply: ${field} is not an integer`);
  return v;
}

function str(v: unknown, field: string, action: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw TdengineError.protocol(`${action} reply: ${field} is not a string`);
  return v;
}

function intArray(v: unknown, field: string, action: string, length: number): number[] {
  if (!Array.isArray(v) || v.length !== length) throw TdengineError.protocol(`${action} reply: ${field} is not an array of ${length} offsets`);
  return v.map((x) => int(x, field, action));
}

function checkTopicVgroups(tvs: readonly TopicVgroup[], action: string): void {
  if (!Array.isArray(tvs) || tvs.length === 0) throw TdengineError.invalid(`${action}: give at least one {topic, vgroupId}`);
  for (const tv of tvs) checkTopicVgroup(tv, action);
}

function checkTopicVgroup(tv: TopicVgroup, action: string): void {
  if (!tv || typeof tv.topic !== "string" || tv.topic === "" || !Number.isInteger(tv.vgroupId)) {
    throw TdengineError.invalid(`${action}: {topic, vgroupId} expected, got ${JSON.stringify(tv)?.slice(0, 80)}`);
  }
}

function checkOffset(offset: number, action: string): void {
  if (!Number.isSafeInteger(offset)) throw TdengineError.invalid(`${action}: offset must be an integer, got ${String(offset)}`);
}

/** The subscribe args as taosAdapter reads them (TMQSubscribeReq): booleans and numbers travel as strings. */
export function subscribeArgs(opts: TmqOptions, topics: readonly string[]): Record<string, unknown> {
  const args: Record<string, unknown> = {
    user: opts.user ?? "root",
    password: opts.password ?? "taosdata",
    db: "",
    group_id: opts.groupId,
    client_id: opts.clientId ?? "",
    offset_rest: opts.offsetReset ?? "latest",
    topics: [...topics],
    auto_commit: String(opts.autoCommit ?? false),
    auto_commit_interval_ms: String(opts.autoCommitIntervalMs ?? 5000),
    with_table_name: String(opts.withTableName ?? true),
    connector: opts.connector ?? CONNECTOR,
  };
  if (opts.sessionTimeoutMs !== undefined) args.session_timeout_ms = String(opts.sessionTimeoutMs);
  if (opts.maxPollIntervalMs !== undefined) args.max_poll_interval_ms = String(opts.maxPollIntervalMs);
  return args;
}

export function validateTmqOptions(opts: TmqOptions, topics: readonly string[]): void {
  if (!opts || typeof opts.url !== "string") throw TdengineError.invalid("TMQ needs a url");
  if (typeof opts.groupId !== "string" || opts.groupId === "" || opts.groupId.length > 192) throw TdengineError.invalid("TMQ needs a group id of 1 to 192 characters");
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === "string" && t !== "")) {
    throw TdengineError.invalid("TMQ needs at least one topic name");
  }
  if (opts.offsetReset !== undefined && !["earliest", "latest", "none"].includes(opts.offsetReset)) {
    throw TdengineError.invalid(`auto.offset.reset must be earliest, latest or none, got ${String(opts.offsetReset)}`);
  }
  const interval = opts.autoCommitIntervalMs;
  if (interval !== undefined && !(Number.isSafeInteger(interval) && interval > 0)) throw TdengineError.invalid("auto.commit.interval.ms must be a positive integer");
}

export class TmqSession extends EventEmitter {
  serverVersion = "";
  private lastMessageId: number | undefined;
  private polling = false;
  private unsubscribed = false;
  private readonly timeoutMs: number;

  private constructor(
    private readonly conn: Connection,
    private readonly opts: TmqOptions,
    readonly topics: readonly string[],
  ) {
    super();
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    conn.once("close", (err: Error) => this.emit("close", err));
  }

  /** Connects to /rest/tmq and subscribes; one deadline (timeoutMs) for both. */
  static async open(opts: TmqOptions, topics: readonly string[]): Promise<TmqSession> {
    validateTmqOptions(opts, topics);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const conn = await Connection.open(tmqUrl(opts.url, opts.token), { timeoutMs, tls: opts.tls, maxFrameBytes: opts.maxFrameBytes });
    const session = new TmqSession(conn, opts, topics);
    try {
      const r = await session.json("subscribe", subscribeArgs(opts, topics), Math.max(1, deadline - Date.now()));
      session.serverVersion = str(r.version, "version", "subscribe");
    } catch (err) {
      conn.terminate();
      throw err;
    }
    return session;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  private json(action: string, args: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<JsonReply> {
    return this.conn.requestJson(action, { req_id: nextReqId(), ...args }, timeoutMs);
  }

  /**
   * Waits up to blockingMs for a message; resolves undefined when none came. A data message is fetched
   * (fetch_raw_data) and decoded before this resolves.
   */
  async poll(blockingMs: number): Promise<TmqMessage | undefined> {
    if (!(Number.isSafeInteger(blockingMs) && blockingMs >= 0)) throw TdengineError.invalid(`poll: blocking time must be a non-negative integer, got ${blockingMs}`);
    if (this.polling) throw TdengineError.invalid("poll: a poll is already pending on this consumer");
    this.polling = true;
    try {
      const args: Record<string, unknown> = { blocking_time: blockingMs };
      if (this.lastMessageId !== undefined) args.message_id = this.lastMessageId;
      const r = await this.json("poll", args, blockingMs + this.timeoutMs);
      if (r.have_message !== true) return undefined;
      const messageId = int(r.message_id, "message_id", "poll");
      this.lastMessageId = messageId;
      const messageType = int(r.message_type, "message_type", "poll");
      const message: TmqMessage = {
        topic: str(r.topic, "topic", "poll"),
        database: str(r.database, "database", "poll"),
        vgroupId: int(r.vgroup_id, "vgroup_id", "poll"),
        offset: int(r.offset ?? 0, "offset", "poll"),
        messageId,
        messageType,
        blocks: [],
        rows: 0,
        columns: [],
        precision: "ms",
      };
      if (messageType === TMQ_MESSAGE_TYPE.DATA || messageType === TMQ_MESSAGE_TYPE.METADATA) {
        message.blocks = await this.fetchRawData(messageId);
        message.rows = message.blocks.reduce((n, b) => n + b.rows.length, 0);
        if (message.blocks.length > 0) {
          message.columns = message.blocks[0].columns;
          message.precision = message.blocks[0].precision;
        }
      }
      return message;
    } finally {
      this.polling = false;
    }
  }

  private async fetchRawData(messageId: number): Promise<TmqBlock[]> {
    const reply = await this.conn.requestJsonOrBinary("fetch_raw_data", { req_id: nextReqId(), message_id: messageId }, this.timeoutMs);
    if (!(reply instanceof Uint8Array)) throw TdengineError.protocol("fetch_raw_data answered with a JSON frame");
    const r = parseRawDataReply(reply);
    if (r.code !== 0) throw TdengineError.server(r.code, r.message, "fetch_raw_data");
    if (BigInt(messageId) !== r.messageId) throw TdengineError.protocol(`fetch_raw_data reply for message ${r.messageId}, asked for ${messageId}`);
    return decodeTmqRawData(r.data, { bigint: this.opts.bigint });
  }

  /** Commits the consumer's current position on every assigned vgroup (what has been polled so far). */
  async commit(): Promise<void> {
    await this.json("commit", { message_id: this.lastMessageId ?? 0 });
  }

  /** Commits an explicit offset for one vgroup. */
  async commitOffset(tv: TopicVgroup, offset: number): Promise<void> {
    checkTopicVgroup(tv, "commit_offset");
    checkOffset(offset, "commit_offset");
    await this.json("commit_offset", { topic: tv.topic, vgroup_id: tv.vgroupId, offset });
  }

  /** Committed offsets of the group, one per entry (TMQ_OFFSET_INVALID where none). */
  async committed(tvs: readonly TopicVgroup[]): Promise<number[]> {
    checkTopicVgroups(tvs, "committed");
    const r = await this.json("committed", { topic_vgroup_ids: tvs.map((tv) => ({ topic: tv.topic, vgroup_id: tv.vgroupId })) });
    return intArray(r.committed, "committed", "committed", tvs.length);
  }

  /** Current positions of this consumer, one per entry (TMQ_OFFSET_INVALID where none). */
  async position(tvs: readonly TopicVgroup[]): Promise<number[]> {
    checkTopicVgroups(tvs, "position");
    const r = await this.json("position", { topic_vgroup_ids: tvs.map((tv) => ({ topic: tv.topic, vgroup_id: tv.vgroupId })) });
    return intArray(r.position, "position", "position", tvs.length);
  }

  /** Moves this consumer's position on one of its vgroups (the next poll reads from there). */
  async seek(tv: TopicVgroup, offset: number): Promise<void> {
    checkTopicVgroup(tv, "seek");
    checkOffset(offset, "seek");
    await this.json("seek", { topic: tv.topic, vgroup_id: tv.vgroupId, offset });
  }

  /** The vgroups of a topic assigned to this consumer, with position and WAL range. */
  async assignment(topic: string): Promise<VgroupAssignment[]> {
    if (typeof topic !== "string" || topic === "") throw TdengineError.invalid("assignment: give a topic name");
    const r = await this.json("assignment", { topic });
    const list = r.assignment ?? [];
    if (!Array.isArray(list)) throw TdengineError.protocol("assignment reply: assignment is not an array");
    return list.map((a: unknown) => {
      if (typeof a !== "object" || a === null) throw TdengineError.protocol("assignment reply: an entry is not an object");
      const e = a as Record<string, unknown>;
      return {
        topic,
        vgroupId: int(e.vgroup_id, "vgroup_id", "assignment"),
        offset: int(e.offset, "offset", "assignment"),
        begin: int(e.begin, "begin", "assignment"),
        end: int(e.end, "end", "assignment"),
      };
    });
  }

  /** The topics this consumer is subscribed to (list_topics). */
  async listTopics(): Promise<string[]> {
    const r = await this.json("list_topics", {});
    const t = r.topics ?? [];
    if (!Array.isArray(t) || !t.every((x) => typeof x === "string")) throw TdengineError.protocol("list_topics reply: topics is not an array of strings");
    return t;
  }

  async unsubscribe(): Promise<void> {
    await this.json("unsubscribe", {});
    this.unsubscribed = true;
  }

  /** Unsubscribes (bounded wait) and closes the socket; taosAdapter closes the consumer with the socket. */
  async close(): Promise<void> {
    if (this.conn.closed) return;
    if (!this.unsubscribed && !this.polling) {
      await this.json("unsubscribe", {}, Math.min(this.timeoutMs, CLOSE_UNSUBSCRIBE_MS)).catch(() => undefined);
    }
    await this.conn.close();
  }
}
