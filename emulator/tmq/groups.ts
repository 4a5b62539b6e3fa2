// Consumer groups: members, the vgroups each member is assigned per topic, committed offsets per (group, topic,
// vgroup), and rebalancing when a member joins or leaves (unsubscribe, close, socket drop, session timeout, or no
// poll within max.poll.interval.ms). Vgroups of a topic are dealt round-robin to the group's members that
// subscribe to it, in join order; a vgroup that stays with its member keeps that member's position, a vgroup that
// moves starts from the group's committed offset (or auto.offset.reset when nothing was committed).
import type { Vgroup } from "../store/vgroups.js";
import type { Topic } from "./topics.js";

export type OffsetReset = "earliest" | "latest" | "none";

export interface ConsumerConfig {
  groupId: string;
  clientId: string;
  offsetReset: OffsetReset;
  withTableName: boolean;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
}

export interface Assigned {
  topic: Topic;
  vgroup: Vgroup;
  /** Next log version this member reads; -1 = nothing to read (auto.offset.reset none, nothing committed). */
  position: number;
}

export type ConsumerStatus = "ready" | "lost";

export class Consumer {
  /** Random 63-bit id, shown as 0x… in SHOW CONSUMERS / SUBSCRIPTIONS. */
  readonly id: bigint;
  topics: Topic[] = [];
  assignment = new Map<string, Assigned>();
  status: ConsumerStatus = "ready";
  readonly upTime = Date.now();
  subscribeTime = Date.now();
  rebalanceTime = Date.now();
  lastSeen = Date.now();
  lastPoll = Date.now();
  /** Round-robin cursor over the assignment, so one busy vgroup does not starve the others. */
  cursor = 0;
  joinSeq = 0;

  constructor(
    readonly group: ConsumerGroup,
    readonly config: ConsumerConfig,
    /** Called when the session timed out: the owner closes the socket. */
    readonly onTimeout: () => void,
  ) {
    this.id = BigInt.asUintN(63, BigInt(Math.floor(Math.random() * 2 ** 31)) * 2n ** 32n + BigInt(Math.floor(Math.random() * 2 ** 32)));
  }

  get hexId(): string {
    return `0x${this.id.toString(16)}`;
  }

  assignedFor(topic: string): Assigned[] {
    return [...this.assignment.values()].filter((a) => a.topic.name === topic).sort((a, b) => a.vgroup.id - b.vgroup.id);
  }

  find(topic: string, vgroupId: number): Assigned | undefined {
    return this.assignment.get(key(topic, vgroupId));
  }
}

export function key(topic: string, vgroupId: number): string {
  return `${topic}\u0000${vgroupId}`;
}

export class ConsumerGroup {
  readonly members: Consumer[] = [];
  readonly committed = new Map<string, number>();
  /** Rows delivered per (topic, vgroup), for SHOW SUBSCRIPTIONS. */
  readonly rows = new Map<string, number>();
  private seq = 0;

  constructor(readonly name: string) {}

  join(c: Consumer): void {
    c.joinSeq = ++this.seq;
    c.status = "ready";
    this.members.push(c);
    this.rebalance();
  }

  leave(c: Consumer): void {
    const i = this.members.indexOf(c);
    if (i < 0) return;
    this.members.splice(i, 1);
    c.assignment.clear();
    this.rebalance();
  }

  /** Start position of a vgroup given to a member: committed offset, else the reset policy. */
  startPosition(c: Consumer, topic: Topic, vg: Vgroup): number {
    const committed = this.committed.get(key(topic.name, vg.id));
    if (committed !== undefined) return Math.max(committed, vg.first);
    if (c.config.offsetReset === "earliest") return vg.first;
    if (c.config.offsetReset === "latest") return vg.next;
    return -1;
  }

  rebalance(): void {
    const topics = new Map<string, Topic>();
    for (const m of this.members) for (const t of m.topics) topics.set(t.name, t);
    const next = new Map<Consumer, Map<string, Assigned>>(this.members.map((m) => [m, new Map()]));
    for (const topic of topics.values()) {
      const subs = this.members.filter((m) => m.topics.some((t) => t.name === topic.name)).sort((a, b) => a.joinSeq - b.joinSeq);
      const vgs = [...topic.db.vgroups].sort((a, b) => a.id - b.id);
      vgs.forEach((vg, i) => {
        const owner = subs[i % subs.length];
        const k = key(topic.name, vg.id);
        const kept = owner.assignment.get(k);
        (next.get(owner) as Map<string, Assigned>).set(k, kept ?? { topic, vgroup: vg, position: this.startPosition(owner, topic, vg) });
      });
    }
    const now = Date.now();
    for (const m of this.members) {
      const a = next.get(m) as Map<string, Assigned>;
      const changed = a.size !== m.assignment.size || [...a.keys()].some((k) => !m.assignment.has(k));
      m.assignment = a;
      if (changed) m.rebalanceTime = now;
    }
  }

  commit(topic: string, vgroupId: number, offset: number): void {
    this.committed.set(key(topic, vgroupId), offset);
  }
}
