// A query result read block by block (QueryStream in api.ts). One fetch_raw_block is in flight at most, and only
// while the consumer waits in next(): the next block is requested when the consumer has taken the previous one,
// so a slow consumer holds one decoded block, never the whole result. The result is freed on the server
// (free_result) whenever the stream ends before the server said "finished": early break/return, close(), an
// error, the overall deadline or an abort signal. `onEnd` runs exactly once when the stream ends for any reason
// (the prepared statement of a parameterised query is closed or handed back there).
import type { ColumnMeta, Precision, QueryResult, QueryStream, ResultBlock, StreamOptions } from "./api";
import { TYPE } from "./constants";
import { TdengineError } from "./errors";
import { parseFetchReply } from "./fetch-reply";
import { decodeRawBlock } from "./raw-block-decoder";

/** What the stream needs from the client: one fetch_raw_block request, free_result, the socket state. */
export interface StreamTransport {
  fetch(resultId: number, timeoutMs: number): Promise<unknown>;
  free(resultId: number): void;
  readonly closed: boolean;
}

export interface StreamSetup {
  resultId: number;
  columns: ColumnMeta[];
  precision: Precision;
  /** Set for statements without a result set (taosAdapter `is_update`): the stream has no blocks. */
  affectedRows?: number;
  bigint: "string" | "bigint";
  onEnd?: () => void;
}

/** The deadline and abort signal of one request sequence, shared by the client's setup requests and the stream. */
export class StopConditions {
  private readonly started = Date.now();
  readonly deadlineAt: number | undefined;
  /** Whether the last timeout() handed out was cut to what was left of the deadline. */
  private lastCut = false;

  constructor(
    private readonly opts: StreamOptions | undefined,
    private readonly defaultTimeoutMs: number,
  ) {
    const d = opts?.deadlineMs;
    this.deadlineAt = d !== undefined && d > 0 ? this.started + d : undefined;
  }

  get signal(): AbortSignal | undefined {
    return this.opts?.signal;
  }

  /** Throws when the sequence must stop now: aborted, or past its deadline. */
  check(): void {
    if (this.opts?.signal?.aborted) throw cancelled();
    if (this.deadlineAt !== undefined && Date.now() >= this.deadlineAt) throw this.deadlineError();
  }

  /** The timeout of the next request: the per-request timeout, shortened to what is left of the deadline. */
  timeout(): number {
    this.check();
    const per = this.opts?.timeoutMs ?? this.defaultTimeoutMs;
    if (this.deadlineAt === undefined) return per;
    const left = Math.max(1, this.deadlineAt - Date.now());
    this.lastCut = left < per;
    return Math.min(per, left);
  }

  /**
   * A request's timeout is reported as the deadline when the deadline is past, or when that request's timeout was
   * the rest of the deadline: timers run on a monotonic clock and may fire a millisecond before Date.now() reaches
   * the deadline.
   */
  explain(err: unknown): unknown {
    if (err instanceof TdengineError && err.kind === "timeout" && this.deadlineAt !== undefined && (this.lastCut || Date.now() >= this.deadlineAt)) {
      return this.deadlineError();
    }
    return err;
  }

  /**
   * Waits for `p` unless the signal aborts first. A reply that arrives after the abort is handed to `late`
   * (to free what it created).
   */
  race<T>(p: Promise<T>, late?: (v: T) => void): Promise<T> {
    const signal = this.opts?.signal;
    if (!signal) return p;
    if (signal.aborted) {
      p.then(late, () => undefined);
      return Promise.reject(cancelled());
    }
    return new Promise<T>((resolve, reject) => {
      let aborted = false;
      const onAbort = (): void => {
        aborted = true;
        reject(cancelled());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          if (aborted) late?.(v);
          else resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  private deadlineError(): TdengineError {
    return new TdengineError("timeout", `query exceeded its deadline of ${this.opts?.deadlineMs} ms`, undefined, { retryable: false });
  }
}

export function cancelled(): TdengineError {
  return new TdengineError("closed", "query cancelled", undefined, { retryable: false });
}

type State = "open" | "fetching" | "ended";

export class ResultStream implements QueryStream {
  readonly columns: ColumnMeta[];
  readonly precision: Precision;
  readonly affectedRows?: number;
  private state: State = "open";
  /** True once the server said finished (or failed the fetch): it has freed the result itself. */
  private serverDone = false;
  private index = 0;
  private iterated = false;
  private readonly scales: Array<number | undefined>;

  constructor(
    private readonly transport: StreamTransport,
    private readonly setup: StreamSetup,
    private readonly stop: StopConditions,
  ) {
    this.columns = setup.columns;
    this.precision = setup.precision;
    this.scales = setup.columns.map((c) => c.scale);
    if (setup.affectedRows !== undefined) {
      this.affectedRows = setup.affectedRows;
      this.serverDone = true;
      this.end();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ResultBlock> {
    if (this.iterated) throw TdengineError.invalid("a query stream can be iterated only once");
    this.iterated = true;
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async *rows(): AsyncGenerator<unknown[], void, undefined> {
    for await (const block of this) {
      for (const row of block.rows) yield row;
    }
  }

  close(): Promise<void> {
    this.end();
    return Promise.resolve();
  }

  private async next(): Promise<IteratorResult<ResultBlock>> {
    if (this.state === "ended") return { done: true, value: undefined };
    if (this.state === "fetching") throw TdengineError.invalid("next() called while the previous block is still being fetched");
    this.state = "fetching";
    try {
      const frame = await this.stop.race(this.transport.fetch(this.setup.resultId, this.stop.timeout()));
      if ((this.state as State) === "ended") return { done: true, value: undefined }; // closed while the block was on its way
      if (!(frame instanceof Uint8Array)) throw TdengineError.protocol("fetch_raw_block answered with JSON and code 0");
      const reply = parseFetchReply(frame);
      if (reply.code !== 0) {
        this.serverDone = true; // the server frees the result on error
        throw TdengineError.server(reply.code, reply.message, "fetch_raw_block");
      }
      if (reply.finished || !reply.block) {
        this.serverDone = true;
        this.end();
        return { done: true, value: undefined };
      }
      const block = decodeRawBlock(reply.block, { bigint: this.setup.bigint, scales: this.scales });
      if (block.columns.length !== this.columns.length) {
        throw TdengineError.protocol(`block has ${block.columns.length} columns, the query reply announced ${this.columns.length}`);
      }
      this.completeDecimalMeta(block.columns);
      this.state = "open";
      return { done: false, value: { rows: block.rows, index: this.index++ } };
    } catch (err) {
      if ((this.state as State) === "ended") return { done: true, value: undefined }; // closed meanwhile: the consumer stopped
      this.end();
      throw this.stop.explain(err);
    }
  }

  /** DECIMAL scale and precision missing from the query reply (older adapters) are taken from the first block. */
  private completeDecimalMeta(blockColumns: { type: number; scale: number; precision: number }[]): void {
    blockColumns.forEach((bc, i) => {
      const c = this.columns[i];
      if ((bc.type === TYPE.DECIMAL || bc.type === TYPE.DECIMAL64) && c.scale === undefined) {
        c.scale = bc.scale;
        c.typeName = `DECIMAL(${bc.precision},${bc.scale})`;
      }
    });
  }

  private end(): void {
    if (this.state === "ended") return;
    this.state = "ended";
    if (!this.serverDone && !this.transport.closed) this.transport.free(this.setup.resultId);
    this.setup.onEnd?.();
  }
}

/** Reads a whole stream into a QueryResult (query(), queryWithParams(), Stmt2.result()). */
export async function collectStream(stream: QueryStream, maxRows?: number): Promise<QueryResult> {
  if (stream.affectedRows !== undefined) {
    return { columns: stream.columns, rows: [[stream.affectedRows]], precision: stream.precision, affectedRows: stream.affectedRows };
  }
  const rows: unknown[][] = [];
  const cap = maxRows !== undefined && maxRows >= 0 ? maxRows : Infinity;
  for await (const block of stream) {
    if (rows.length + block.rows.length > cap) {
      await stream.close();
      throw TdengineError.invalid(`the result has more than ${maxRows} rows (the row cap); narrow the query or raise the cap`);
    }
    for (const row of block.rows) rows.push(row);
  }
  return { columns: stream.columns, rows, precision: stream.precision };
}
