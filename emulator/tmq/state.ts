// TMQ state shared by every /rest/tmq session of an emulator (and by SQL: topics, SHOW CONSUMERS): topics,
// consumer groups, waiting polls, and the timer that removes members whose session timed out or who stopped
// polling. It outlives endpoint restarts, like TDengine's mnode and vnodes outlive a taosAdapter restart.
import type { Catalog } from "../store/catalog.js";
import { MAX_BLOCKS_PER_MESSAGE, MIN_POLL_ROWS } from "./constants.js";
import { Consumer, ConsumerGroup, key, type Assigned, type ConsumerConfig } from "./groups.js";
import { TopicReader, type Topic, type TopicBlock } from "./topics.js";

export interface TmqDefaults {
  /** session.timeout.ms when the subscriber sets none (TDengine: 12000). */
  sessionTimeoutMs: number;
  /** max.poll.interval.ms when the subscriber sets none (TDengine: 300000). */
  maxPollIntervalMs: number;
}

/** A data message: one vgroup's blocks from log version `offset` up to (excluding) `end`. */
export interface PolledData {
  topic: Topic;
  vgroupId: number;
  offset: number;
  end: number;
  blocks: TopicBlock[];
  rows: number;
}

/** Log entries one poll scans at most before giving up the event loop (a long log is read over several polls). */
const SCAN_LIMIT = 100_000;
const SWEEP_MS = 50;

export class TmqState {
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, ConsumerGroup>();
  private readonly readers = new WeakMap<Topic, TopicReader>();
  private readonly waiters = new Set<() => void>();
  /** Every open consumer, members and lost ones (SHOW CONSUMERS lists both). */
  private readonly live = new Set<Consumer>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    readonly catalog: Catalog,
    readonly serverVersion: string,
    readonly defaults: TmqDefaults,
  ) {
    catalog.onWal(() => {
      if (!this.waiters.size) return;
      const ws = [...this.waiters];
      this.waiters.clear();
      for (const w of ws) w();
    });
  }

  /** Called once at the next write to any log (the waiter re-checks its own vgroups). */
  waitForWrite(w: () => void): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  group(name: string): ConsumerGroup {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = new ConsumerGroup(name)));
    return g;
  }

  join(config: ConsumerConfig, topics: Topic[], onTimeout: () => void): Consumer {
    const c = new Consumer(this.group(config.groupId), config, onTimeout);
    c.topics = topics;
    c.group.join(c);
    this.live.add(c);
    this.ensureSweeper();
    return c;
  }

  /** A member that lost its vgroups (no poll in time) polls again: it joins its group again. */
  rejoin(c: Consumer): void {
    if (this.live.has(c) && c.status === "lost") c.group.join(c);
  }

  /** subscribe again after unsubscribe: the same consumer joins with its new topics. */
  rejoinAfterUnsubscribe(c: Consumer): void {
    this.live.add(c);
    c.group.join(c);
    this.ensureSweeper();
  }

  /** Unsubscribe, close or socket drop: the member leaves and its vgroups go to the others at once. */
  remove(c: Consumer): void {
    this.live.delete(c);
    c.group.leave(c);
  }

  /** Open consumers (SHOW CONSUMERS, DROP TOPIC checks). */
  consumers(): Consumer[] {
    return [...this.live];
  }

  reader(topic: Topic): TopicReader {
    let r = this.readers.get(topic);
    if (!r) this.readers.set(topic, (r = new TopicReader(topic, this.serverVersion)));
    return r;
  }

  /** The next data message for a member, advancing its position; null when none of its vgroups has new rows. */
  poll(c: Consumer): PolledData | null {
    const list = [...c.assignment.values()];
    for (let k = 0; k < list.length; k++) {
      const a = list[(c.cursor + k) % list.length];
      const msg = this.read(c, a);
      if (msg) {
        c.cursor = (c.cursor + k + 1) % list.length;
        return msg;
      }
    }
    return null;
  }

  private read(c: Consumer, a: Assigned): PolledData | null {
    const vg = a.vgroup;
    if (a.position < 0) return null;
    if (a.position < vg.first) a.position = vg.first;
    const reader = this.reader(a.topic);
    const start = a.position;
    const blocks: TopicBlock[] = [];
    let rows = 0;
    let v = start;
    const stop = Math.min(vg.next, start + SCAN_LIMIT);
    for (; v < stop && rows < MIN_POLL_ROWS && blocks.length < MAX_BLOCKS_PER_MESSAGE; v++) {
      const e = vg.at(v);
      if (!e) continue;
      const b = reader.read(e);
      if (b) {
        blocks.push(b);
        rows += b.result.rowCount;
      }
    }
    a.position = v;
    if (!blocks.length) return null;
    const k = key(a.topic.name, vg.id);
    c.group.rows.set(k, (c.group.rows.get(k) ?? 0) + rows);
    return { topic: a.topic, vgroupId: vg.id, offset: start, end: v, blocks, rows };
  }

  private ensureSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Session timeout closes the member's socket; no poll within max.poll.interval.ms takes its vgroups away. */
  private sweep(): void {
    const now = Date.now();
    const all = this.consumers();
    for (const c of all) {
      if (now - c.lastSeen > c.config.sessionTimeoutMs) {
        this.remove(c);
        c.onTimeout();
      } else if (c.status === "ready" && now - c.lastPoll > c.config.maxPollIntervalMs) {
        c.status = "lost";
        c.group.leave(c);
      }
    }
    if (!all.length && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
