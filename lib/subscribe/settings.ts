// The tdengine-subscribe node's editor settings -> validated options (no Node-RED imports). Errors name the setting.
import { quoteIdentifier, validateIdentifier } from "../tdengine/identifiers";
import type { OffsetReset } from "../tdengine/tmq";
import { splitList } from "../poll/node-config";
import type { TimestampOutput } from "../poll/rows";

/** The node's properties as saved in flows.json. */
export interface SubscribeNodeSettings {
  /** "topics": subscribe to existing topics; "select": create a topic from `sql` on deploy. */
  mode?: string;
  topics?: string;
  /** Name of the topic created from `sql` (mode "select"). */
  topicName?: string;
  sql?: string;
  groupId?: string;
  clientId?: string;
  offsetReset?: string;
  /** "sent" (after each message was received downstream), "interval", "manual". */
  commit?: string;
  commitInterval?: number | string;
  /** "block" (one message per TMQ message) or "row". */
  output?: string;
  timestamps?: string;
  includeTbname?: boolean;
  /** How long one poll waits on the server for data (ms). */
  pollWait?: number | string;
  /** Name of a field added to each row with its key "tbname|ts" ("" = none), for an indexed Perspective table. */
  keyField?: string;
}

export type CommitMode = "sent" | "interval" | "manual";

export interface SubscribeOptions {
  topics: string[];
  /** CREATE TOPIC statement to run on deploy (mode "select"). */
  createTopic?: string;
  groupId: string;
  clientId: string;
  offsetReset: OffsetReset;
  commit: CommitMode;
  commitIntervalMs: number;
  output: "block" | "row";
  timestamps: TimestampOutput;
  includeTbname: boolean;
  pollWaitMs: number;
  /** Field that gets each row's key (subtable and timestamp), or undefined. */
  keyField?: string;
}

export const DEFAULT_POLL_WAIT_MS = 500;
export const DEFAULT_COMMIT_INTERVAL_MS = 1000;

/** The default group id: derived from the node id, so a redeploy (same id) resumes the group's offsets. */
export function defaultGroupId(nodeId: string): string {
  return `nr_${nodeId.replace(/[^A-Za-z0-9_]/g, "_")}`.slice(0, 192);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T, what: string): T {
  if (v === undefined || v === null || v === "") return dflt;
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  throw new Error(`${what} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
}

function int(v: unknown, what: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null || v === "") return dflt;
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Group and client ids go to the server as values, not SQL; they are still kept to printable, bounded text. */
function idText(v: unknown, what: string, dflt: string): string {
  const s = typeof v === "string" ? v.trim() : "";
  if (s === "") return dflt;
  if (s.length > 192 || !/^[\x21-\x7e]+$/.test(s)) throw new Error(`${what} must be 1 to 192 visible ASCII characters without spaces`);
  return s;
}

/**
 * CREATE TOPIC IF NOT EXISTS `name` AS <select>: the name validated and quoted; the query must be one SELECT
 * statement (TDengine parses it; a second statement after a semicolon is refused here).
 */
export function createTopicSql(name: string, select: string): string {
  const q = quoteIdentifier(name, "topic");
  const sql = select.trim().replace(/;\s*$/, "");
  if (!/^select\s/i.test(sql)) throw new Error("the topic's query must be a SELECT");
  if (sql.includes(";")) throw new Error("the topic's query must be a single SELECT statement (no ';')");
  return `CREATE TOPIC IF NOT EXISTS ${q} AS ${sql}`;
}

export function parseSubscribeSettings(s: SubscribeNodeSettings, nodeId: string): SubscribeOptions {
  const mode = oneOf(s.mode, ["topics", "select"] as const, "topics", "Subscribe to");
  let topics: string[];
  let createTopic: string | undefined;
  if (mode === "select") {
    const name = (s.topicName ?? "").trim();
    createTopic = createTopicSql(name, String(s.sql ?? ""));
    topics = [name];
  } else {
    topics = splitList(s.topics);
    if (topics.length === 0) throw new Error("Topics: give at least one topic name");
    for (const t of topics) validateIdentifier(t, "topic");
  }
  const keyField = (s.keyField ?? "").trim();
  if (keyField) validateIdentifier(keyField, "row key field");
  return {
    topics,
    ...(createTopic ? { createTopic } : {}),
    groupId: idText(s.groupId, "Group id", defaultGroupId(nodeId)),
    clientId: idText(s.clientId, "Client id", `node-red-${nodeId}`.slice(0, 192)),
    offsetReset: oneOf(s.offsetReset, ["earliest", "latest", "none"] as const, "latest", "Start (offset reset)"),
    commit: oneOf(s.commit, ["sent", "interval", "manual"] as const, "sent", "Commit"),
    commitIntervalMs: int(s.commitInterval, "Commit interval", DEFAULT_COMMIT_INTERVAL_MS, 10, 3_600_000),
    output: oneOf(s.output, ["block", "row"] as const, "block", "Output"),
    timestamps: oneOf(s.timestamps, ["date", "ms"] as const, "date", "Timestamps"),
    includeTbname: s.includeTbname !== false,
    pollWaitMs: int(s.pollWait, "Poll wait", DEFAULT_POLL_WAIT_MS, 0, 60_000),
    ...(keyField ? { keyField } : {}),
  };
}
