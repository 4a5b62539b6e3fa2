// What a host keeps on Node-RED's thread to refill a table into a restarted engine: the operations since the
// table's last compaction, bounded by the table's own size.
// - A limit table keeps its newest batches: once the batches after the first hold `limit` rows, the first
//   can no longer contribute a row and is dropped. Replaying the rest gives the same newest rows in order.
// - An index table, or one without limit, is compacted with an Arrow snapshot taken by the engine (a flat
//   view of it) once the log holds more rows than the table does: the snapshot replaces the operations it
//   already contains. Only these tables need it (a limit table's view order is not its ring order).
import type { Columnar } from "./values";

export type LoggedOp =
  | { kind: "update"; data: Columnar; rows: number }
  | { kind: "arrow"; arrow: ArrayBuffer; rows: number }
  | { kind: "remove"; keys: unknown[] };

export interface LogEntry {
  seq: number;
  op: LoggedOp;
}

export class ReplayLog {
  private entries: LogEntry[] = [];
  private nextSeq = 1;
  private rows = 0;

  constructor(private readonly limit: number | undefined) {}

  /** Sequence number the next entry will get. */
  get seq(): number {
    return this.nextSeq;
  }

  /** Rows held (across batches and snapshots). */
  get heldRows(): number {
    return this.rows;
  }

  get ops(): readonly LogEntry[] {
    return this.entries;
  }

  append(op: LoggedOp): LogEntry {
    const e = { seq: this.nextSeq++, op };
    this.entries.push(e);
    this.rows += rowsOf(op);
    this.trim();
    return e;
  }

  /** replace / clear: what came before no longer matters. */
  reset(op?: LoggedOp): LogEntry | undefined {
    this.entries = [];
    this.rows = 0;
    return op ? this.append(op) : undefined;
  }

  /** Drops an entry the engine refused (it would fail again on replay). */
  discard(e: LogEntry): void {
    const i = this.entries.indexOf(e);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.rows -= rowsOf(e.op);
  }

  /** True when a snapshot would shrink the log (index tables and tables without limit). */
  wantsSnapshot(tableRows: number): boolean {
    return this.limit === undefined && this.entries.length > 1 && this.rows > 2 * tableRows + 1000;
  }

  /** Replaces every entry up to `uptoSeq` (inclusive) by a snapshot the engine took right after it. */
  compact(uptoSeq: number, arrow: ArrayBuffer, rows: number): void {
    if (!this.entries.some((e) => e.seq <= uptoSeq)) return;
    const rest = this.entries.filter((e) => e.seq > uptoSeq);
    this.entries = [{ seq: uptoSeq, op: { kind: "arrow", arrow, rows } }, ...rest];
    this.rows = this.entries.reduce((n, e) => n + rowsOf(e.op), 0);
  }

  private trim(): void {
    if (this.limit === undefined) return;
    // Drop the first batch while the batches after it already hold `limit` rows.
    while (this.entries.length > 1 && this.entries[0].op.kind === "update" && this.rows - rowsOf(this.entries[0].op) >= this.limit) {
      this.rows -= rowsOf(this.entries[0].op);
      this.entries.shift();
    }
  }
}

function rowsOf(op: LoggedOp): number {
  return op.kind === "remove" ? 0 : op.rows;
}
