// tdengine-query's editor settings -> validated options (defaults documented in the node's help).
import type { BigValues, TimestampValues } from "./rows";

export type OutputMode = "all" | "block" | "row";

export interface QueryNodeSettings {
  sql?: string;
  allowTopic?: boolean;
  output?: string;
  maxRows?: number | string;
  bigint?: string;
  timestamps?: string;
  concurrency?: number | string;
  timeout?: number | string;
}

export interface QueryNodeOptions {
  sql: string;
  allowTopic: boolean;
  output: OutputMode;
  maxRows: number;
  bigint: BigValues;
  timestamps: TimestampValues;
  concurrency: number;
  /** Overall deadline of one query (query + every fetch), ms. */
  deadlineMs: number;
}

export const QUERY_DEFAULTS = { maxRows: 10_000, concurrency: 1, timeoutSeconds: 60 } as const;
/** Messages waiting for a free query slot, per node. */
export const MAX_QUEUED = 100;

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T, what: string): T {
  if (v === undefined || v === "") return fallback;
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  throw new Error(`${what} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
}

function integer(v: unknown, fallback: number, min: number, max: number, what: string): number {
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseQueryNodeSettings(s: QueryNodeSettings): QueryNodeOptions {
  const timeout = s.timeout === undefined || s.timeout === "" ? QUERY_DEFAULTS.timeoutSeconds : Number(s.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86_400) throw new Error(`timeout must be 0 < seconds <= 86400, got ${JSON.stringify(s.timeout)}`);
  return {
    sql: typeof s.sql === "string" ? s.sql.trim() : "",
    allowTopic: s.allowTopic === true,
    output: oneOf(s.output, ["all", "block", "row"] as const, "all", "output"),
    maxRows: integer(s.maxRows, QUERY_DEFAULTS.maxRows, 1, 10_000_000, "row cap"),
    bigint: oneOf(s.bigint, ["string", "bigint"] as const, "string", "big integers"),
    timestamps: oneOf(s.timestamps, ["date", "ms", "epoch"] as const, "date", "timestamps"),
    concurrency: integer(s.concurrency, QUERY_DEFAULTS.concurrency, 1, 16, "concurrent queries"),
    deadlineMs: Math.round(timeout * 1000),
  };
}

/** The SQL a message runs: the node's own, else msg.topic when the node allows it. */
export function statementText(opts: QueryNodeOptions, topic: unknown): string {
  if (opts.sql) return opts.sql;
  if (opts.allowTopic && typeof topic === "string" && topic.trim() !== "") return topic.trim();
  throw new Error(
    opts.allowTopic
      ? "no SQL: set it in the node or send it in msg.topic"
      : "no SQL: set it in the node (msg.topic is used only when 'SQL from msg.topic' is checked)",
  );
}

/** The error of a one-message result that passed the row cap (plain English: it reaches Catch nodes and logs). */
export function rowCapError(max: number): Error {
  return new Error(`the result has more than ${max} rows (the row cap): narrow the query, raise the cap or send per block or per row`);
}
