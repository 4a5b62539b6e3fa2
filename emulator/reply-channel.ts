// Outgoing replies of one WebSocket: optional delay (fault injection) and optional deliberate reordering
// (replies held for a moment and flushed in reverse) so clients must correlate by req_id.
import type { WebSocket } from "ws";
import type { Faults } from "./faults.js";

const REORDER_WINDOW_MS = 3;

export class ReplyChannel {
  private held: (string | Buffer)[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ws: WebSocket,
    private readonly faults: Faults,
    private readonly reorder: boolean,
  ) {}

  send(data: string | Buffer): void {
    const delay = this.faults.delayMs;
    if (delay > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(data);
      }, delay);
      this.timers.add(t);
      return;
    }
    this.enqueue(data);
  }

  private enqueue(data: string | Buffer): void {
    if (!this.reorder) return this.write(data);
    this.held.push(data);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        const batch = this.held.reverse();
        this.held = [];
        for (const d of batch) this.write(d);
      }, REORDER_WINDOW_MS);
    }
  }

  private write(data: string | Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data, { binary: typeof data !== "string" });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.held = [];
  }
}
