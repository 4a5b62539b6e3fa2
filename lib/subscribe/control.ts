// Control messages of the tdengine-subscribe node -> operations of the Subscriber (no Node-RED imports).
//   {pause: true} | {resume: true} | {commit: true}          (or msg.topic "pause" / "resume" / "commit")
//   {seek: "earliest" | "latest"}                           every assigned vgroup to the start / end of its WAL
//   {seek: <Date | epoch ms | ISO text>} or {seek: {time}}   rows from that time on (see Subscriber)
//   {seek: {vgroup, offset, topic?}} or an array of them     one vgroup to an offset
import type { SeekTarget } from "./subscriber";

export type Control = { kind: "pause" | "resume" | "commit" } | { kind: "seek"; targets: SeekTarget[] };

/** More seek entries than any topic has vgroups: bounds what one message makes the node do. */
const MAX_SEEKS = 1024;

function timeOf(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

function topicOf(e: Record<string, unknown>, topics: readonly string[]): string | undefined {
  if (e.topic === undefined) return undefined;
  if (typeof e.topic !== "string" || !topics.includes(e.topic)) throw new Error(`seek: topic ${JSON.stringify(e.topic)} is not one this node subscribes to`);
  return e.topic;
}

function seekEntry(e: unknown, topics: readonly string[]): SeekTarget {
  if (e === "earliest" || e === "latest") return { kind: e };
  const t = timeOf(e);
  if (t !== undefined) return { kind: "time", ms: t };
  if (typeof e !== "object" || e === null) throw new Error(`seek: expected "earliest", "latest", a time or {vgroup, offset}, got ${JSON.stringify(e)?.slice(0, 80)}`);
  const o = e as Record<string, unknown>;
  const topic = topicOf(o, topics);
  if (o.time !== undefined) {
    const ms = timeOf(o.time);
    if (ms === undefined) throw new Error("seek: time must be a Date, epoch milliseconds or an ISO date");
    return topic ? { kind: "time", ms, topic } : { kind: "time", ms };
  }
  if (!Number.isSafeInteger(o.vgroup)) throw new Error("seek: vgroup must be an integer");
  const vgroupId = o.vgroup as number;
  if (o.offset === "earliest" || o.offset === "latest") return topic ? { kind: o.offset, vgroupId, topic } : { kind: o.offset, vgroupId };
  if (!Number.isSafeInteger(o.offset)) throw new Error('seek: offset must be an integer, "earliest" or "latest"');
  const offset = o.offset as number;
  return topic ? { kind: "offset", vgroupId, offset, topic } : { kind: "offset", vgroupId, offset };
}

/** The control in a message, undefined when it has none; throws on a malformed seek. */
export function parseControl(msg: Record<string, unknown>, topics: readonly string[]): Control | undefined {
  if (msg.pause === true || msg.topic === "pause") return { kind: "pause" };
  if (msg.resume === true || msg.topic === "resume") return { kind: "resume" };
  if (msg.commit === true || msg.topic === "commit") return { kind: "commit" };
  if (msg.seek !== undefined) {
    const list = Array.isArray(msg.seek) ? msg.seek : [msg.seek];
    if (list.length === 0 || list.length > MAX_SEEKS) throw new Error(`seek: give 1 to ${MAX_SEEKS} entries`);
    return { kind: "seek", targets: list.map((e) => seekEntry(e, topics)) };
  }
  return undefined;
}
