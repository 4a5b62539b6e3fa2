// Offsets of the session's consumer (tmq.go commit, commit_offset, committed, position, seek, assignment). A
// topic the consumer does not subscribe to or a vgroup it is not assigned gets taosc's TMQ errors (0x4009, 0x4008);
// committed/position of a vgroup with no offset is OffsetInvalid (-2147467247).
import { TdError } from "../errors.js";
import { OFFSET_INVALID, TMQ_CODE } from "./constants.js";
import type { Assigned } from "./groups.js";
import type { TmqRequest, TmqSession } from "./session.js";
import { tmqError } from "./topics.js";

export const OFFSET_ACTIONS = new Set(["commit", "commit_offset", "committed", "position", "seek", "assignment"]);

function str(v: unknown): string | null {
  return v === undefined || v === null ? "" : typeof v === "string" ? v : null;
}

function int(v: unknown): number | null {
  return v === undefined || v === null ? 0 : typeof v === "number" && Number.isSafeInteger(v) ? v : null;
}

function badArgs(r: TmqRequest): TdError {
  return new TdError(0xffff, `unmarshal ${r.action} args error`);
}

/** The consumer's assignment of (topic, vgroup), or the TMQ error taosc gives. */
function assigned(s: TmqSession, topic: string, vgroupId: number): Assigned {
  const c = s.consumer;
  if (!c || s.unsubscribed || !c.topics.some((t) => t.name === topic)) throw tmqError(TMQ_CODE.INVALID_TOPIC);
  const a = c.find(topic, vgroupId);
  if (!a) throw tmqError(TMQ_CODE.INVALID_VGID);
  return a;
}

function topicVgroups(r: TmqRequest): { topic: string; vgroupId: number }[] {
  const list = r.args.topic_vgroup_ids ?? [];
  if (list !== null && !Array.isArray(list)) throw badArgs(r);
  return ((list ?? []) as unknown[]).map((x) => {
    const o = (x && typeof x === "object" ? x : {}) as Record<string, unknown>;
    const topic = str(o.topic);
    const vgroupId = int(o.vgroup_id);
    if (topic === null || vgroupId === null) throw badArgs(r);
    return { topic, vgroupId };
  });
}

export function offsetAction(s: TmqSession, r: TmqRequest): void {
  const c = s.consumer;
  if (!c) return s.reply(r.action, r.reqId, r.started, {}, 0xffff, "tmq not init");
  switch (r.action) {
    case "commit": {
      s.commitAll();
      const mid = int(r.args.message_id);
      return s.reply(r.action, r.reqId, r.started, { message_id: mid ?? 0 });
    }
    case "commit_offset": {
      const topic = str(r.args.topic);
      const vgroupId = int(r.args.vgroup_id);
      const offset = int(r.args.offset);
      if (topic === null || vgroupId === null || offset === null) throw badArgs(r);
      assigned(s, topic, vgroupId);
      if (offset < 0) throw tmqError(TMQ_CODE.TMQ_INVALID_MSG);
      c.group.commit(topic, vgroupId, offset);
      return s.reply(r.action, r.reqId, r.started, { topic, vgroup_id: vgroupId, offset });
    }
    case "committed": {
      const out = topicVgroups(r).map(({ topic, vgroupId }) => {
        assigned(s, topic, vgroupId);
        return c.group.committed.get(`${topic}\u0000${vgroupId}`) ?? OFFSET_INVALID;
      });
      return s.reply(r.action, r.reqId, r.started, { committed: out });
    }
    case "position": {
      const out = topicVgroups(r).map(({ topic, vgroupId }) => {
        const p = assigned(s, topic, vgroupId).position;
        return p >= 0 ? p : OFFSET_INVALID;
      });
      return s.reply(r.action, r.reqId, r.started, { position: out });
    }
    case "seek": {
      const topic = str(r.args.topic);
      const vgroupId = int(r.args.vgroup_id);
      const offset = int(r.args.offset);
      if (topic === null || vgroupId === null || offset === null) throw badArgs(r);
      const a = assigned(s, topic, vgroupId);
      if (offset < a.vgroup.first || offset > a.vgroup.next) throw tmqError(TMQ_CODE.VERSION_OUT_OF_RANGE);
      a.position = offset;
      return s.reply(r.action, r.reqId, r.started);
    }
    default: {
      const topic = str(r.args.topic);
      if (topic === null) throw badArgs(r);
      if (s.unsubscribed || !c.topics.some((t) => t.name === topic)) throw tmqError(TMQ_CODE.INVALID_TOPIC);
      const assignment = c.assignedFor(topic).map((a) => ({ vgroup_id: a.vgroup.id, offset: a.position >= 0 ? a.position : OFFSET_INVALID, begin: a.vgroup.first, end: a.vgroup.next }));
      return s.reply(r.action, r.reqId, r.started, { assignment });
    }
  }
}
