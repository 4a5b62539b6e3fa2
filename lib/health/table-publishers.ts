// Which nodes publish which table of which Perspective host. Two publishers of one name would write into the
// same table (duplicates, one node's clear wiping the other's rows): the nodes use this to detect it and say so.
// Each publisher also gives the table's health for config.json. Node-RED-free; entries leave on node close.
import { computeTableHealth, type TableHealth } from "./table-health";

export interface TablePublisher {
  /** Node id and display name (name, else id). */
  id: string;
  name: string;
  /** The table's health as this publisher sees it (without the duplicate problem, added here). */
  health(): TableHealth;
}

type Listener = () => void;

const byTable = new Map<string, Map<string, TablePublisher>>();
const listeners = new Map<string, Set<Listener>>();

const keyOf = (hostKey: string, table: string): string => JSON.stringify([hostKey, table]);

function notify(key: string): void {
  for (const l of [...(listeners.get(key) ?? [])]) {
    try {
      l();
    } catch {
      // one listener's failure must not stop the others
    }
  }
}

/**
 * Registers `p` as a publisher of `table` on host `hostKey`; `onChange` hears when another publisher of the
 * same table comes or goes. Returns the function that unregisters (call it on close).
 */
export function registerTablePublisher(hostKey: string, table: string, p: TablePublisher, onChange: Listener): () => void {
  const key = keyOf(hostKey, table);
  let set = byTable.get(key);
  if (!set) byTable.set(key, (set = new Map()));
  set.set(p.id, p);
  let ls = listeners.get(key);
  if (!ls) listeners.set(key, (ls = new Set()));
  ls.add(onChange);
  notify(key);
  return () => {
    const s = byTable.get(key);
    if (s?.get(p.id) === p) s.delete(p.id);
    if (s && s.size === 0) byTable.delete(key);
    const l = listeners.get(key);
    l?.delete(onChange);
    if (l && l.size === 0) listeners.delete(key);
    notify(key);
  };
}

/** The other publishers of the same table (empty when `id` is the only one). */
export function otherPublishers(hostKey: string, table: string, id: string): TablePublisher[] {
  return [...(byTable.get(keyOf(hostKey, table))?.values() ?? [])].filter((p) => p.id !== id);
}

/** Text naming every publisher of a table, for warnings and statuses. */
export function duplicateProblem(table: string, publishers: TablePublisher[]): string {
  // Copies of a flow keep the node names: the ids tell them apart (the editor's search finds a node by id).
  const named = publishers.map((p) => `${JSON.stringify(p.name)}${p.name !== p.id ? ` (id ${p.id})` : ""}`);
  return `table "${table}" is published by ${publishers.length} nodes (${named.join(", ")}): their rows mix in one table`;
}

/** The health of one table: the first publisher's view, merged with the others' sources, plus duplicates. */
export function tableHealth(hostKey: string, table: string, now = Date.now()): TableHealth | undefined {
  const pubs = [...(byTable.get(keyOf(hostKey, table))?.values() ?? [])];
  if (pubs.length === 0) return undefined;
  let health: TableHealth;
  try {
    health = pubs[0].health();
  } catch {
    health = computeTableHealth({ sources: [] }, now);
  }
  if (pubs.length === 1) return health;
  const sources = [...(health.sources ?? [])];
  for (const p of pubs.slice(1)) {
    try {
      for (const s of p.health().sources ?? []) if (!sources.some((x) => x.id === s.id)) sources.push(s);
    } catch {
      // ignore a failing publisher
    }
  }
  const problem = duplicateProblem(table, pubs);
  return {
    ...health,
    state: health.state === "error" ? "error" : "warn",
    summary: health.state === "error" && health.summary ? `${health.summary}; ${problem}` : problem,
    ...(sources.length > 0 ? { sources } : {}),
  };
}

/**
 * config.json with each table's health merged in (tables without a publisher are left as they are), plus
 * `waiting`: the tables that nodes publish but that do not exist yet (no first message yet, e.g. because the
 * database is unreachable), with their health, so that the page can say why it has nothing to show. They are
 * kept out of `tables`, whose entries all have an engine table (`entity`) the page can open.
 */
export function withTableHealth<T extends { tables: Array<{ name: string }> }>(
  hostKey: string,
  description: T,
  now = Date.now(),
): T & { waiting?: Array<{ name: string; health: TableHealth }> } {
  const existing = new Set(description.tables.map((t) => t.name));
  const waiting: Array<{ name: string; health: TableHealth }> = [];
  for (const key of byTable.keys()) {
    const [host, table] = JSON.parse(key) as [string, string];
    if (host !== hostKey || existing.has(table)) continue;
    const health = tableHealth(hostKey, table, now);
    if (health) waiting.push({ name: table, health });
  }
  waiting.sort((a, b) => a.name.localeCompare(b.name));
  return {
    ...description,
    tables: description.tables.map((t) => {
      const health = tableHealth(hostKey, t.name, now);
      return health ? { ...t, health } : t;
    }),
    ...(waiting.length > 0 ? { waiting } : {}),
  };
}
