// The tdengine-poll node's editor settings -> validated poller and scheduler options. Kept apart from the
// Node-RED adapter so every rule is unit-tested; errors name the setting.
import { hasOwnKey } from "../own-property";
import type { PollerOptions, StartPosition } from "./poller";
import { POLLER_DEFAULTS } from "./poller";
import type { TimestampOutput } from "./rows";

/** The node's properties as saved in flows.json (strings and numbers as the editor writes them). */
export interface PollNodeSettings {
  mode?: string;
  database?: string;
  table?: string;
  columns?: string;
  tags?: string;
  includeTbname?: boolean;
  tsColumn?: string;
  sql?: string;
  interval?: number | string;
  start?: string;
  startWindow?: number | string;
  startWindowUnit?: string;
  lookback?: number | string;
  pageSize?: number | string;
  maxRowsPerPoll?: number | string;
  maxRememberedKeys?: number | string;
  timestamps?: string;
  emitEmpty?: boolean;
  contextStore?: string;
  topic?: string;
}

export interface PollNodeOptions {
  poller: PollerOptions;
  intervalMs: number;
  emitEmpty: boolean;
  /** Context store for the watermark ("" = the default store). */
  contextStore: string;
  topic: string;
}

export const DEFAULT_INTERVAL_MS = 250;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function num(v: unknown, what: string, dflt: number, min: number): number {
  if (v === undefined || v === null || v === "") return dflt;
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || n < min) throw new Error(`${what} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function int(v: unknown, what: string, dflt: number, min: number): number {
  const n = num(v, what, dflt, min);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** "a, b ,c" -> ["a","b","c"] (empty entries dropped). */
export function splitList(v: unknown): string[] {
  return typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : [];
}

export function parsePollNodeSettings(s: PollNodeSettings, connectionDatabase: string, requestTimeoutMs?: number): PollNodeOptions {
  const mode = s.mode || "table";
  if (mode !== "table" && mode !== "sql") throw new Error(`mode must be "table" or "sql", got ${JSON.stringify(s.mode)}`);
  const tsColumn = (s.tsColumn ?? "").trim() || "ts";
  let source: PollerOptions["source"];
  if (mode === "table") {
    const database = (s.database ?? "").trim() || connectionDatabase;
    if (!database) throw new Error("no database: set one on the node or on the connection");
    const table = (s.table ?? "").trim();
    if (!table) throw new Error("the table (or super table) to poll is required");
    source = {
      mode: "table",
      table: { database, table, tsColumn, columns: splitList(s.columns), tags: splitList(s.tags) },
      includeTbname: s.includeTbname !== false,
    };
  } else {
    if (!(s.sql ?? "").trim()) throw new Error("the SQL query is required in SQL mode");
    source = { mode: "sql", sql: s.sql!, tsColumn };
  }

  let start: StartPosition;
  switch (s.start || "now") {
    case "now":
      start = { kind: "now" };
      break;
    case "everything":
      start = { kind: "everything" };
      break;
    case "lookback": {
      const unit = s.startWindowUnit || "h";
      if (!hasOwnKey(UNIT_MS, unit)) throw new Error(`start window unit must be one of ${Object.keys(UNIT_MS).join(", ")}`);
      start = { kind: "lookback", ms: num(s.startWindow, "start window", 12, 0) * UNIT_MS[unit] };
      break;
    }
    default:
      throw new Error(`start must be "now", "lookback" or "everything", got ${JSON.stringify(s.start)}`);
  }

  const timestamps = (s.timestamps || "date") as TimestampOutput;
  if (timestamps !== "date" && timestamps !== "ms") throw new Error(`timestamps must be "date" or "ms", got ${JSON.stringify(s.timestamps)}`);

  return {
    poller: {
      source,
      start,
      pageSize: int(s.pageSize, "page size", POLLER_DEFAULTS.pageSize, 1),
      maxRowsPerPoll: int(s.maxRowsPerPoll, "max rows per message", POLLER_DEFAULTS.maxRowsPerPoll, 1),
      lookbackMs: num(s.lookback, "late-row lookback", POLLER_DEFAULTS.lookbackMs, 0),
      maxRecentKeys: int(s.maxRememberedKeys, "remembered keys", POLLER_DEFAULTS.maxRecentKeys, 1),
      timestamps,
      requestTimeoutMs,
    },
    intervalMs: num(s.interval, "interval", DEFAULT_INTERVAL_MS, 0),
    emitEmpty: s.emitEmpty === true,
    contextStore: (s.contextStore ?? "").trim(),
    topic: s.topic ?? "",
  };
}
