// perspective-out's part in the dashboard's per-table health: which TDengine nodes feed this node (found
// from the flow's wiring, a few hops upstream, plus the tdengine-write nodes that write the table a feeding
// poll reads), their current state from the health registry, and the ages of the rows this node sent.
import type { NodeAPI } from "node-red";
import { sourceHealth, type SourceHealth } from "../../lib/health/source-health";
import { computeTableHealth, type TableHealth } from "../../lib/health/table-health";
import { upstreamOfType, type WiredNode } from "../../lib/health/upstream";

const SOURCE_TYPES = new Set(["tdengine-poll", "tdengine-write", "tdengine-subscribe"]);
/** The flow only changes on a deploy; the wiring walk is redone at most this often. */
const WIRING_TTL_MS = 5000;

interface FlowNode extends WiredNode {
  name?: string;
  server?: string;
  table?: string;
  stable?: string;
}

export class TableHealthTracker {
  newestRowMs: number | undefined;
  lastRowsAt: number | undefined;
  private sources: FlowNode[] = [];
  private sourcesAt = 0;

  constructor(
    private readonly RED: NodeAPI,
    private readonly nodeId: string,
  ) {}

  /** Records rows sent to the table: their newest timestamp (epoch ms) if known. */
  rowsSent(newest: number | undefined): void {
    if (newest !== undefined && (this.newestRowMs === undefined || newest > this.newestRowMs)) this.newestRowMs = newest;
  }

  rowsApplied(now = Date.now()): void {
    this.lastRowsAt = now;
  }

  health(now = Date.now()): TableHealth {
    const sources: SourceHealth[] = this.upstream(now).map(
      (n) => sourceHealth(n.id) ?? { id: n.id, name: n.name || n.id, type: n.type, state: "unknown" },
    );
    return computeTableHealth({ sources, newestRowMs: this.newestRowMs, lastRowsAt: this.lastRowsAt }, now);
  }

  private upstream(now: number): FlowNode[] {
    if (now - this.sourcesAt < WIRING_TTL_MS) return this.sources;
    const all: FlowNode[] = [];
    this.RED.nodes.eachNode((n) => {
      all.push(n as unknown as FlowNode);
    });
    const byId = new Map(all.map((n) => [n.id, n]));
    const found = upstreamOfType(all, this.nodeId, SOURCE_TYPES).map((id) => byId.get(id)!);
    // The writers of what a feeding poll reads: same connection, super table named like the polled table.
    const polls = found.filter((n) => n.type === "tdengine-poll");
    for (const n of all) {
      if (n.type !== "tdengine-write" || found.includes(n)) continue;
      const stable = (n.stable ?? "").trim().toLowerCase();
      if (polls.some((p) => p.server === n.server && (p.table ?? "").trim().toLowerCase() === stable && stable !== "")) found.push(n);
    }
    this.sources = found;
    this.sourcesAt = now;
    return found;
  }
}
