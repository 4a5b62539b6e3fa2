// The health of one dashboard table, as served to the page in config.json (tables[].health): is its data
// source reachable, how old are its newest row and its last update, what went wrong last. Ages are computed
// on this process's clock at the moment of the answer, so the page needs no clock of its own.
import type { SourceHealth, SourceState } from "./source-health";

export type HealthState = "ok" | "warn" | "error" | "unknown";

/** The contract the page codes against (keep in step with viewer/*). */
export interface TableHealth {
  state: HealthState;
  summary?: string;
  sources?: Array<{ id: string; name: string; type: string; state: SourceState; lastError?: { message: string; ageMs: number } }>;
  newestRowAgeMs?: number;
  lastRowsAgeMs?: number;
}

export interface TableHealthInput {
  sources: SourceHealth[];
  /** Epoch ms of the newest row timestamp sent to the table. */
  newestRowMs?: number;
  /** Epoch ms when rows were last applied to the table. */
  lastRowsAt?: number;
}

const RANK: Record<HealthState, number> = { ok: 0, unknown: 1, warn: 2, error: 3 };

function stateOfSource(s: SourceState): HealthState {
  if (s === "connected") return "ok";
  if (s === "error" || s === "disconnected") return "error";
  return "warn";
}

export function computeTableHealth(input: TableHealthInput, now = Date.now()): TableHealth {
  const sources = input.sources.map((s) => ({
    id: s.id,
    name: s.name,
    type: s.type,
    state: s.state,
    ...(s.lastError ? { lastError: { message: s.lastError.message, ageMs: Math.max(0, now - s.lastError.at) } } : {}),
  }));
  let state: HealthState = sources.length > 0 ? "ok" : input.lastRowsAt !== undefined ? "ok" : "unknown";
  let summary: string | undefined;
  for (const s of sources) {
    const st = stateOfSource(s.state);
    if (RANK[st] > RANK[state]) {
      state = st;
      summary = `${s.name}: ${s.state}${s.lastError && s.state !== "connecting" ? ` (${s.lastError.message})` : ""}`;
    }
  }
  if (state === "ok" && input.lastRowsAt === undefined) summary = "connected; no rows yet";
  const out: TableHealth = { state };
  if (summary) out.summary = summary.slice(0, 300);
  if (sources.length > 0) out.sources = sources;
  if (input.newestRowMs !== undefined) out.newestRowAgeMs = Math.max(0, now - input.newestRowMs);
  if (input.lastRowsAt !== undefined) out.lastRowsAgeMs = Math.max(0, now - input.lastRowsAt);
  return out;
}

/** The newest epoch-ms value of `column` in columnar chunks (as perspective-out sends them), if any. */
export function newestTimestamp(chunks: ReadonlyArray<Record<string, unknown[]>>, column: string | undefined): number | undefined {
  if (!column) return undefined;
  let newest: number | undefined;
  for (const c of chunks) {
    const values = c[column];
    if (!values) continue;
    for (const v of values) if (typeof v === "number" && Number.isFinite(v) && (newest === undefined || v > newest)) newest = v;
  }
  return newest;
}
