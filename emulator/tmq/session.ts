// One WebSocket session on /rest/tmq: the consumer it owns, the one message it holds (taosAdapter keeps a single
// tmpMessage per connection, ids from 1), and the request flow of tmq.go: a poll runs while other requests wait
// for it when they need the consumer (taosAdapter's asyncLocker), only one poll is queued (a newer one replaces a
// queued one, which never gets a reply), and auto commit happens inside poll at the configured interval.
import type { WebSocket } from "ws";
import { textArg, type ConnectionInfo } from "../connections.js";
import type { EmulatorCore } from "../core.js";
import { TdError } from "../errors.js";
import { reqIdOf } from "../json-actions.js";
import { jsonReplyText } from "../json-reply.js";
import { ReplyChannel } from "../reply-channel.js";
import { TMQ_RES_DATA } from "./constants.js";
import { consumerConfig, readSubscribe } from "./config.js";
import { Consumer } from "./groups.js";
import { fetchAction, FETCH_ACTIONS } from "./fetch-actions.js";
import { offsetAction, OFFSET_ACTIONS } from "./offset-actions.js";
import type { PolledData, TmqState } from "./state.js";
import { tmqError } from "./topics.js";
import { TMQ_CODE } from "./constants.js";

export interface HeldMessage {
  index: bigint;
  data: PolledData;
  /** Blocks already returned by `fetch`. */
  fetched: number;
  /** What fetch_block sends: the last fetch / fetch_raw / fetch_raw_data reply buffer. */
  buffer: Buffer | null;
}

export interface TmqRequest {
  action: string;
  reqId: bigint;
  args: Record<string, unknown>;
  started: bigint;
}

/** Requests waiting for a running poll (taosAdapter's asyncLocker); a flood beyond this is refused. */
const MAX_WAITING = 1024;
/** Longest poll wait honoured (ms); a negative blocking_time waits until data or close, as taosc does. */
const MAX_BLOCK_MS = 2 ** 31 - 1;

/** Actions that need the consumer and so wait while a poll holds it. */
const LOCKED = new Set(["commit", "commit_offset", "committed", "position", "seek", "assignment", "unsubscribe", "fetch", "fetch_raw", "fetch_raw_data", "fetch_json_meta"]);

export class TmqSession {
  consumer: Consumer | null = null;
  unsubscribed = false;
  message: HeldMessage | null = null;
  private messageIndex = 0n;
  private autoCommit = false;
  private autoCommitMs = 5000;
  private nextCommit = 0;
  private polling = false;
  private queuedPoll: TmqRequest | null = null;
  private waiting: TmqRequest[] = [];
  private cancelWait: (() => void) | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private closed = false;
  private connection: ConnectionInfo | null = null;
  /** Client address for SHOW CONNECTIONS (set by the HTTP server at upgrade). */
  peer = "";
  readonly out: ReplyChannel;

  constructor(
    readonly ws: WebSocket,
    readonly core: EmulatorCore,
    readonly tmq: TmqState,
  ) {
    this.out = new ReplyChannel(ws, core.faults, core.reorderReplies);
    ws.on("message", (data, isBinary) => this.onFrame(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on("pong", () => this.touch());
    ws.on("close", () => this.close());
    ws.on("error", () => this.close());
  }

  private touch(): void {
    if (this.consumer) this.consumer.lastSeen = Date.now();
  }

  reply(action: string, reqId: bigint, started: bigint, extra: Record<string, unknown> = {}, code = 0, message = ""): void {
    this.out.send(jsonReplyText(action, reqId, Number(process.hrtime.bigint() - started), extra, code, message));
  }

  replyError(r: TmqRequest, err: unknown, extra: Record<string, unknown> = {}): void {
    const code = err instanceof TdError ? err.code & 0xffff : 0xffff;
    this.reply(r.action, r.reqId, r.started, extra, code, err instanceof Error ? err.message : String(err));
  }

  timing(started: bigint): bigint {
    return process.hrtime.bigint() - started;
  }

  private onFrame(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const started = process.hrtime.bigint();
    this.core.requests++;
    this.touch();
    if (this.closed || isBinary) return; // /rest/tmq has no binary requests; taosAdapter ignores binary frames
    const raw = (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString("utf8");
    // Malformed frames get an error reply (taosAdapter only logs them; a reply is kinder to a client and harmless).
    let msg: { action?: unknown; args?: unknown };
    try {
      msg = JSON.parse(raw);
    } catch {
      this.reply("", 0n, started, {}, 0xffff, "unmarshal ws request error");
      return;
    }
    if (!msg || typeof msg !== "object" || typeof msg.action !== "string") {
      this.reply("", 0n, started, {}, 0xffff, "request no action");
      return;
    }
    const action = msg.action;
    const args = (msg.args && typeof msg.args === "object" && !Array.isArray(msg.args) ? msg.args : {}) as Record<string, unknown>;
    const reqId = reqIdOf(raw, args);
    if (reqId === null) {
      this.reply(action, 0n, started, {}, 0xffff, `unmarshal ${action} args error`);
      return;
    }
    this.core.actions.set(`tmq:${action}`, (this.core.actions.get(`tmq:${action}`) ?? 0) + 1);
    const r: TmqRequest = { action, reqId, args, started };
    try {
      this.dispatch(r);
    } catch (err) {
      this.replyError(r, err);
    }
  }

  private dispatch(r: TmqRequest): void {
    if (r.action === "poll") return this.requestPoll(r);
    if (this.polling && LOCKED.has(r.action)) {
      if (this.waiting.length >= MAX_WAITING) return this.replyError(r, new TdError(0xffff, "too many requests waiting for poll"));
      this.waiting.push(r);
      return;
    }
    this.run(r);
  }

  private run(r: TmqRequest): void {
    try {
      switch (r.action) {
        case "version":
          return this.reply(r.action, r.reqId, r.started, { version: this.core.serverVersion });
        case "subscribe":
          return this.subscribe(r);
        case "unsubscribe":
          return this.unsubscribe(r);
        case "list_topics":
          if (!this.consumer) return this.reply(r.action, r.reqId, r.started, {}, 0xffff, "tmq not init");
          return this.reply(r.action, r.reqId, r.started, { topics: this.unsubscribed ? [] : this.consumer.topics.map((t) => t.name) });
        default:
          if (FETCH_ACTIONS.has(r.action)) return fetchAction(this, r);
          if (OFFSET_ACTIONS.has(r.action)) return offsetAction(this, r);
          return this.reply(r.action, r.reqId, r.started, {}, 0xffff, `unknown action ${r.action}`);
      }
    } catch (err) {
      this.replyError(r, err);
    }
  }

  private subscribe(r: TmqRequest): void {
    const req = readSubscribe(r.args);
    if (!req) return this.reply(r.action, r.reqId, r.started, {}, 0xffff, "unmarshal subscribe args error");
    if (this.consumer && !this.unsubscribed) return this.reply(r.action, r.reqId, r.started, {}, 0xffff, "tmq should have unsubscribed first");
    const topics = req.topics.map((name) => {
      const t = this.tmq.topics.get(name);
      if (!t) throw tmqError(TMQ_CODE.TOPIC_NOT_EXIST);
      return t;
    });
    if (this.consumer) {
      // Re-subscribe after unsubscribe: taosc keeps the consumer and its options; only the topics change.
      const c = this.consumer;
      c.topics = topics;
      c.assignment.clear();
      c.lastPoll = c.lastSeen = Date.now();
      c.subscribeTime = Date.now();
      this.tmq.rejoinAfterUnsubscribe(c);
    } else {
      const config = consumerConfig(req, this.tmq.defaults);
      if (req.user !== this.core.user || req.password !== this.core.password) throw new TdError(0xffff, "Authentication failure");
      if (!config.groupId) throw new TdError(0xffff, "Invalid parameters");
      this.autoCommit = config.autoCommit;
      this.autoCommitMs = config.autoCommitIntervalMs;
      this.nextCommit = 0;
      this.consumer = this.tmq.join(config, topics, () => this.ws.terminate());
      const a = r.args;
      this.connection = this.core.connections.add({ user: req.user, app: textArg(a.app), ip: textArg(a.ip), endPoint: this.peer, connector: textArg(a.connector) });
      this.startPinger(config.sessionTimeoutMs);
    }
    this.unsubscribed = false;
    this.reply(r.action, r.reqId, r.started, { version: this.core.serverVersion });
  }

  /** Pings at a third of the session timeout so a live but idle client keeps its membership through pongs. */
  private startPinger(sessionTimeoutMs: number): void {
    this.pinger = setInterval(() => {
      if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
    }, Math.max(50, Math.floor(sessionTimeoutMs / 3)));
    this.pinger.unref();
  }

  private unsubscribe(r: TmqRequest): void {
    if (!this.consumer) return this.reply(r.action, r.reqId, r.started, {}, 0xffff, "tmq not init");
    if (!this.unsubscribed) this.tmq.remove(this.consumer);
    this.message = null;
    this.unsubscribed = true;
    this.reply(r.action, r.reqId, r.started);
  }

  /** Commit every assigned vgroup's position (commit action and auto commit). */
  commitAll(): void {
    const c = this.consumer;
    if (!c || this.unsubscribed) return;
    for (const a of c.assignment.values()) if (a.position >= 0) c.group.commit(a.topic.name, a.vgroup.id, a.position);
  }

  private requestPoll(r: TmqRequest): void {
    if (this.polling) {
      this.queuedPoll = r; // replaces a queued poll, which is never answered (taosAdapter setPollRequest)
      return;
    }
    this.startPoll(r);
  }

  private startPoll(r: TmqRequest): void {
    this.polling = true;
    const c = this.consumer;
    if (!c) {
      this.reply(r.action, r.reqId, r.started, {}, 0xffff, "tmq not init");
      return this.endPoll();
    }
    const mid = r.args.message_id;
    if (mid !== undefined && mid !== null && this.message) {
      const asked = typeof mid === "number" || typeof mid === "string" ? BigInt(Math.trunc(Number(mid))) : -1n;
      if (asked !== this.message.index) {
        // The client missed the reply carrying the held message: send it again.
        this.replyPoll(r, this.message);
        return this.endPoll();
      }
    }
    const now = Date.now();
    if (this.autoCommit && now > this.nextCommit) {
      this.commitAll();
      this.nextCommit = now + this.autoCommitMs;
    }
    if (!this.unsubscribed) {
      this.tmq.rejoin(c);
      c.lastPoll = now;
    }
    const block = typeof r.args.blocking_time === "number" ? r.args.blocking_time : 0;
    const attempt = (): boolean => {
      const data = this.unsubscribed ? null : this.tmq.poll(c);
      if (!data) return false;
      this.message = { index: ++this.messageIndex, data, fetched: 0, buffer: null };
      this.replyPoll(r, this.message);
      return true;
    };
    if (attempt()) return this.endPoll();
    if (block === 0) {
      this.replyPoll(r, null);
      return this.endPoll();
    }
    let timer: NodeJS.Timeout | null = null;
    let unwait = (): void => {};
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      unwait();
      this.cancelWait = null;
    };
    const onWrite = (): void => {
      if (this.closed) return;
      if (attempt()) {
        finish();
        this.endPoll();
      } else unwait = this.tmq.waitForWrite(onWrite);
    };
    unwait = this.tmq.waitForWrite(onWrite);
    if (block > 0) {
      timer = setTimeout(() => {
        finish();
        if (this.closed) return;
        c.lastPoll = Date.now();
        this.replyPoll(r, null);
        this.endPoll();
      }, Math.min(block, MAX_BLOCK_MS));
    }
    this.cancelWait = finish;
  }

  private replyPoll(r: TmqRequest, m: HeldMessage | null): void {
    const d = m?.data;
    this.reply(r.action, r.reqId, r.started, {
      have_message: !!m,
      topic: d?.topic.name ?? "",
      database: d?.topic.db.name ?? "",
      vgroup_id: d?.vgroupId ?? 0,
      message_type: m ? TMQ_RES_DATA : 0,
      message_id: m ? Number(m.index) : 0,
      offset: d?.offset ?? 0,
    });
  }

  private endPoll(): void {
    this.polling = false;
    const ready = this.waiting;
    this.waiting = [];
    for (const w of ready) this.run(w);
    const q = this.queuedPoll;
    this.queuedPoll = null;
    if (q && !this.closed) this.startPoll(q);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelWait?.();
    this.core.connections.remove(this.connection);
    if (this.pinger) clearInterval(this.pinger);
    if (this.consumer && !this.unsubscribed) this.tmq.remove(this.consumer);
    this.message = null;
    this.waiting = [];
    this.queuedPoll = null;
    this.out.close();
  }
}
