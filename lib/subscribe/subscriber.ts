// The consuming loop of a tdengine-subscribe node (no Node-RED imports): poll a message, hand it on, wait until
// it was delivered, commit as the commit mode says, repeat. Control operations (commit, seek) run between two
// polls, because taosAdapter serves one poll at a time per consumer and a commit covers everything polled so far:
// committing while a polled message is still undelivered could skip it.
// Delivery is at least once: only delivered messages are ever committed; what was polled but not delivered or
// not committed when the node stops, the connection drops or the server restarts is read again.
import type { TmqConsumer } from "../tdengine/tmq-consumer";
import type { TmqMessage, TmqSession, TopicVgroup } from "../tdengine/tmq";
import type { CommitMode } from "./settings";

export type SeekTarget =
  | { kind: "offset"; topic?: string; vgroupId: number; offset: number }
  | { kind: "earliest" | "latest"; topic?: string; vgroupId?: number }
  | { kind: "time"; ms: number; topic?: string };

export interface SubscriberOptions {
  consumer: Pick<TmqConsumer, "session" | "start" | "close" | "topics">;
  commit: CommitMode;
  commitIntervalMs: number;
  pollWaitMs: number;
  /** Hands a message on; resolves true once it was delivered (false: not delivered, e.g. the receiver stopped). */
  deliver(message: TmqMessage): Promise<boolean>;
  /** A failure (already retried as fitting); the caller decides how loudly to report it. */
  onError(err: Error): void;
  /** A poll that worked after failures. */
  onRecovered?(): void;
  /** How long to wait for the consumer's (re)connection per attempt (ms). */
  connectWaitMs?: number;
  now?: () => number;
}

/** How often the vgroups assigned to this consumer are counted (they change when group members come and go). */
const ASSIGNMENT_EVERY_MS = 5000;
/** Pause after a failure that was not a lost connection (a server error), so it does not spin. */
const ERROR_PAUSE_MS = 1000;

interface Op {
  run(session: TmqSession): Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

export class Subscriber {
  private stopped = false;
  private paused = false;
  private loop: Promise<void> | undefined;
  private readonly ops: Op[] = [];
  private wakeUp: (() => void) | undefined;
  private session: TmqSession | undefined;
  private assignmentAt = 0;
  private failing = false;
  /** Everything polled so far was delivered: a commit now covers delivered messages only. */
  private allDelivered = true;
  /** Messages delivered since the last commit. */
  private uncommitted = 0;
  private lastCommitAt: number;
  /** After a seek to a time: rows older than it are dropped until the vgroup reaches where its WAL ended then. */
  private readonly timeFilters = new Map<string, { ms: number; until: number }>();
  private readonly now: () => number;
  /** Vgroups assigned to this consumer over all its topics, as last counted. */
  vgroups: number | undefined;

  constructor(private readonly opts: SubscriberOptions) {
    this.now = opts.now ?? Date.now;
    this.lastCommitAt = this.now();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  start(): void {
    if (this.loop) return;
    this.opts.consumer.start();
    this.loop = this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** Commits what has been delivered (between two polls). */
  commit(): Promise<void> {
    return this.enqueue(async (s) => {
      if (!this.allDelivered) throw new Error("not committed: a message was not delivered");
      await this.commitNow(s);
    });
  }

  /** Moves the read position (between two polls); see SeekTarget. */
  seek(target: SeekTarget): Promise<void> {
    return this.enqueue((s) => this.seekNow(s, target));
  }

  /** Stops the loop, commits what was delivered (interval mode), unsubscribes and closes the consumer. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wake();
    for (const op of this.ops.splice(0)) op.reject(new Error("the node is closing"));
    const loop = this.loop ?? Promise.resolve();
    // A poll in flight ends within its wait; the consumer's close below ends it at once otherwise.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loop, new Promise<void>((r) => (timer = setTimeout(r, this.opts.pollWaitMs + 1000)))]);
    clearTimeout(timer);
    const s = this.session;
    if (this.opts.commit === "interval" && s && !s.closed && this.allDelivered && this.uncommitted > 0) {
      await s.commit().catch(() => undefined);
    }
    await this.opts.consumer.close();
    await loop;
  }

  private enqueue(run: (s: TmqSession) => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the node is closing"));
    return new Promise((resolve, reject) => {
      this.ops.push({ run, resolve, reject });
      this.wake();
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let session: TmqSession;
      try {
        session = await this.opts.consumer.session(this.opts.connectWaitMs ?? 5000);
      } catch (err) {
        if (this.stopped) break;
        this.fail(err);
        await this.sleep(ERROR_PAUSE_MS);
        continue;
      }
      if (session !== this.session) {
        // A new subscription reads from the committed offsets: what was delivered but not committed comes again.
        this.session = session;
        this.assignmentAt = 0;
        this.allDelivered = true;
        this.uncommitted = 0;
      }
      try {
        await this.step(session);
        if (this.failing) {
          this.failing = false;
          this.opts.onRecovered?.();
        }
      } catch (err) {
        if (this.stopped) break;
        this.fail(err);
        // A lost connection is waited for in session(); anything else pauses a little.
        if (!session.closed) await this.sleep(ERROR_PAUSE_MS);
      }
    }
  }

  private fail(err: unknown): void {
    this.failing = true;
    this.opts.onError(err instanceof Error ? err : new Error(String(err)));
  }

  private async step(session: TmqSession): Promise<void> {
    while (this.ops.length > 0) {
      const op = this.ops.shift()!;
      try {
        await op.run(session);
        op.resolve();
      } catch (err) {
        op.reject(err instanceof Error ? err : new Error(String(err)));
        if (session.closed) throw err;
      }
    }
    if (this.paused) {
      await this.sleep(60_000);
      return;
    }
    if (this.now() - this.assignmentAt >= ASSIGNMENT_EVERY_MS) await this.countVgroups(session);
    const message = await session.poll(this.opts.pollWaitMs);
    if (this.stopped) {
      if (message) this.allDelivered = false;
      return;
    }
    if (message && message.rows > 0) {
      this.applyTimeFilter(message);
      if (message.rows > 0) {
        const delivered = await this.opts.deliver(message);
        if (!delivered) {
          // Not received by a running node (a deploy is stopping it, or it never arrived): nothing is committed
          // any more on this subscription. Unless the node is closing, a new subscription reads it again.
          this.allDelivered = false;
          if (!this.stopped) await session.close();
          return;
        }
      }
      this.uncommitted++;
      if (this.opts.commit === "sent") await this.commitNow(session);
    }
    if (this.opts.commit === "interval" && this.uncommitted > 0 && this.now() - this.lastCommitAt >= this.opts.commitIntervalMs) {
      await this.commitNow(session);
    }
  }

  private async commitNow(session: TmqSession): Promise<void> {
    await session.commit();
    this.uncommitted = 0;
    this.lastCommitAt = this.now();
  }

  private async countVgroups(session: TmqSession): Promise<void> {
    let n = 0;
    for (const topic of this.opts.consumer.topics) n += (await session.assignment(topic)).length;
    this.vgroups = n;
    this.assignmentAt = this.now();
  }

  private async seekNow(session: TmqSession, target: SeekTarget): Promise<void> {
    const topics = target.topic ? [target.topic] : [...this.opts.consumer.topics];
    if (target.kind === "offset") {
      await session.seek({ topic: topics[0], vgroupId: target.vgroupId }, target.offset);
      return;
    }
    let matched = 0;
    for (const topic of topics) {
      for (const a of await session.assignment(topic)) {
        if (target.kind !== "time" && target.vgroupId !== undefined && a.vgroupId !== target.vgroupId) continue;
        matched++;
        const tv: TopicVgroup = { topic, vgroupId: a.vgroupId };
        if (target.kind === "latest") {
          await session.seek(tv, a.end);
        } else {
          // TMQ cannot seek by time: read the vgroup from its start and drop the older rows up to where it ends now.
          await session.seek(tv, a.begin);
          if (target.kind === "time") this.timeFilters.set(`${topic}/${a.vgroupId}`, { ms: target.ms, until: a.end });
        }
      }
    }
    if (matched === 0) throw new Error(`seek: no vgroup ${target.kind !== "time" && target.vgroupId !== undefined ? target.vgroupId + " " : ""}is assigned to this consumer`);
  }

  private applyTimeFilter(message: TmqMessage): void {
    const key = `${message.topic}/${message.vgroupId}`;
    const f = this.timeFilters.get(key);
    if (!f) return;
    if (message.offset >= f.until) {
      this.timeFilters.delete(key);
      return;
    }
    let rows = 0;
    for (const b of message.blocks) {
      const ts = b.columns.findIndex((c) => c.type === 9);
      if (ts < 0) continue;
      const per = b.precision === "ms" ? 1 : b.precision === "us" ? 1000 : 1_000_000;
      b.rows = b.rows.filter((r) => Number(r[ts]) / per >= f.ms);
      rows += b.rows.length;
    }
    message.rows = rows;
  }
}
