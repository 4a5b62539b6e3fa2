// What each TDengine node (tdengine-poll, tdengine-write) currently knows about its source, keyed by node id,
// so that a dashboard can say why a table is empty or stale. Node-RED-free: the nodes publish into it, the
// Perspective hosting reads it when it answers config.json. Bounded (a node removes its entry on close; past
// MAX_ENTRIES the oldest entry goes) so a flow that churns nodes cannot grow it.

export type SourceState = "connected" | "connecting" | "disconnected" | "error" | "unknown";

export interface SourceHealth {
  id: string;
  name: string;
  type: string;
  state: SourceState;
  /** The last error and when it happened (epoch ms on this process's clock). */
  lastError?: { message: string; at: number };
}

const MAX_ENTRIES = 10000;
const MAX_MESSAGE = 300;
const entries = new Map<string, SourceHealth>();

/** Sets (replaces) the entry of a node. */
export function publishSourceHealth(h: SourceHealth): void {
  const entry: SourceHealth = {
    id: h.id,
    name: h.name,
    type: h.type,
    state: h.state,
    ...(h.lastError ? { lastError: { message: h.lastError.message.slice(0, MAX_MESSAGE), at: h.lastError.at } } : {}),
  };
  // Delete first so that insertion order is recency order, which the bound relies on.
  entries.delete(h.id);
  entries.set(h.id, entry);
  while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
}

export function sourceHealth(id: string): SourceHealth | undefined {
  return entries.get(id);
}

/** Forgets a node (call it from its close handler). */
export function clearSourceHealth(id: string): void {
  entries.delete(id);
}

/** Number of entries (for tests of the bound and the cleanup). */
export function sourceHealthCount(): number {
  return entries.size;
}
