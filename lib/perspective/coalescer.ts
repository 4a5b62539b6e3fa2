// Coalesces table operations so a fast flow does not send one table.update() (and one round of view
// notifications to every browser) per message, but only under load: an operation that finds the engine idle (nothing
// queued, nothing being applied) and the last flush started at least `intervalMs` ago is applied at once, in the
// same turn. Operations that arrive while a flush is being applied, or sooner than `intervalMs` after the last
// flush started, are queued and applied together (consecutive updates merged into one) once both have passed.
// Each operation's callback fires once the table has accepted it (or failed), which is when the node calls done().
import { columnarRows, type Columnar } from "./values";

export type TableOp =
  | { kind: "update"; chunks: Columnar[]; rows: number }
  | { kind: "replace"; chunks: Columnar[]; rows: number }
  | { kind: "clear" }
  | { kind: "remove"; keys: unknown[] };

/** What the coalescer applies operations to (a Perspective table, or a fake in tests). */
export interface TableSink {
  update(data: Columnar): Promise<unknown>;
  replace(data: Columnar): Promise<unknown>;
  clear(): Promise<unknown>;
  remove(keys: unknown[]): Promise<unknown>;
}

type Callback = (err?: Error) => void;
interface Pending {
  op: TableOp;
  cb: Callback;
}

export interface CoalescerOptions {
  /** Minimum time between the starts of two flushes (0: no minimum; only a flush in progress makes rows wait). */
  intervalMs: number;
  /** Called after each successful flush with the number of rows written by update/replace operations. */
  onFlushed?: (rows: number) => void;
  /**
   * Rows that may wait for the engine (default 1,000,000: seconds of the fastest flows, a few hundred MB). The engine runs on its own thread and can fall behind
   * a fast flow (a starved or restarting engine): past this, a message's rows are refused with an error
   * instead of growing Node-RED's memory without bound.
   */
  maxPendingRows?: number;
  /**
   * The table's row limit (a ring buffer of the newest `limit` rows): rows of one flush that the newer rows of the
   * same flush would overwrite are not sent to the engine. A poll catching up sends 10,000 rows at a time into the
   * demo's 1,000-row table; converting, posting and parsing the other 9,000 only to overwrite them cost the
   * engine most of its time.
   */
  limit?: number;
}

export const DEFAULT_MAX_PENDING_ROWS = 1_000_000;

function sameColumns(a: Columnar, b: Columnar): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** Appends chunks to a list, merging a chunk into the last one when both carry the same columns. */
function appendChunks(into: Columnar[], chunks: Columnar[]): void {
  for (const c of chunks) {
    const last = into[into.length - 1];
    if (last && sameColumns(last, c)) {
      for (const k of Object.keys(c)) {
        const dst = last[k];
        for (const v of c[k]) dst.push(v);
      }
    } else {
      into.push(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.slice()])));
    }
  }
}

/** The newest `limit` rows of a list of chunks (oldest first): whole chunks dropped, the boundary one sliced. */
export function keepNewest(chunks: Columnar[], limit: number): Columnar[] {
  const out: Columnar[] = [];
  let left = limit;
  for (let i = chunks.length - 1; i >= 0 && left > 0; i--) {
    const c = chunks[i];
    const n = columnarRows(c);
    if (n <= left) {
      out.push(c);
      left -= n;
    } else {
      out.push(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.slice(n - left)])));
      left = 0;
    }
  }
  return out.reverse();
}

export class UpdateCoalescer {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** When the last flush started (epoch ms). */
  private lastFlush = -Infinity;
  private closed = false;
  private queuedRows = 0;

  constructor(
    private readonly sink: () => Promise<TableSink>,
    private readonly opts: CoalescerOptions,
  ) {}

  /** Rows waiting to be written. */
  get pendingRows(): number {
    return this.queuedRows;
  }

  push(op: TableOp, cb: Callback): void {
    if (this.closed) {
      cb(new Error("the node is closing"));
      return;
    }
    const rows = op.kind === "update" || op.kind === "replace" ? op.rows : 0;
    const max = this.opts.maxPendingRows ?? DEFAULT_MAX_PENDING_ROWS;
    if (rows > 0 && this.queuedRows > 0 && this.queuedRows + rows > max) {
      cb(new Error(`the Perspective engine is behind: ${this.queuedRows} rows are waiting to be written (limit ${max}); these ${rows} rows were not written`));
      return;
    }
    this.queuedRows += rows;
    this.queue.push({ op, cb });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.queue.length === 0) return;
    const wait = Math.max(0, this.lastFlush + this.opts.intervalMs - Date.now());
    if (wait === 0 && this.queue.length === 1) {
      // Idle and not above the rate: no reason to hold the rows back.
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  /** Applies everything queued now; resolves when done (never rejects: errors go to the callbacks). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.queuedRows = 0;
    this.lastFlush = Date.now();
    this.flushing = this.apply(batch).finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
    return this.flushing;
  }

  /** Flushes what is queued and refuses new operations. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** What of `rows` rows (in `chunks`) a limit table would keep. */
  private newest(chunks: Columnar[], rows: number): Columnar[] {
    const limit = this.opts.limit;
    return limit !== undefined && limit > 0 && rows > limit ? keepNewest(chunks, limit) : chunks;
  }

  private async apply(batch: Pending[]): Promise<void> {
    let sink: TableSink;
    try {
      sink = await this.sink();
    } catch (err) {
      for (const p of batch) p.cb(err as Error);
      return;
    }
    let rows = 0;
    let i = 0;
    while (i < batch.length) {
      const first = batch[i];
      let group: Pending[] = [first];
      let err: Error | undefined;
      try {
        if (first.op.kind === "update") {
          // Merge every consecutive update into as few table.update() calls as the column sets allow.
          const parts: Columnar[] = [];
          let j = i;
          let n = 0;
          while (j < batch.length && batch[j].op.kind === "update") {
            const op = batch[j].op as Extract<TableOp, { kind: "update" }>;
            for (const c of op.chunks) parts.push(c);
            n += op.rows;
            j++;
          }
          group = batch.slice(i, j);
          const chunks: Columnar[] = [];
          appendChunks(chunks, this.newest(parts, n));
          for (const c of chunks) await sink.update(c);
          rows += n;
        } else if (first.op.kind === "replace") {
          const [head, ...rest] = this.newest(first.op.chunks, first.op.rows);
          if (head) await sink.replace(head);
          else await sink.clear();
          for (const c of rest) await sink.update(c);
          rows += first.op.rows;
        } else if (first.op.kind === "clear") {
          await sink.clear();
        } else {
          if (first.op.keys.length > 0) await sink.remove(first.op.keys);
        }
      } catch (e) {
        err = e instanceof Error ? e : new Error(String(e));
      }
      for (const p of group) p.cb(err);
      i += group.length;
    }
    if (rows > 0) this.opts.onFlushed?.(rows);
  }
}
