// Everything tdengine-write does with one message, without Node-RED: resolve the target (msg.stable overrides
// the configured super table), find its schema (declared, or read once with DESCRIBE), map and validate the
// rows, and hand the good ones to the batching Writer. The outcome lists written and rejected rows.
import type { TdengineClientApi } from "../tdengine/api";
import { backoffDelay } from "../tdengine-connection/backoff";
import { checkIdentifier } from "./identifiers";
import { RowMapper, type MapOptions, type RowError } from "./mapper";
import { describeSql, schemaFromDescribe, type Precision, type TableSchema } from "./schema";
import { isTransportError, Writer, WriterClosedError, type Target, type WriteOutcome, type WriterOptions } from "./writer";

export interface PipelineOptions extends WriterOptions {
  database: string;
  stable: string;
  /** Declared schema; when absent the schema is read from the server with DESCRIBE (once per super table). */
  schema?: TableSchema;
  /** Create the database (with this precision) and the super table from the declared schema when missing. */
  autoCreate?: { precision: Precision };
  map: MapOptions;
}

/** One message's request: msg.payload plus the per-message overrides. */
export interface WriteRequest {
  payload: unknown;
  stable?: unknown;
  table?: unknown;
  tags?: unknown;
}

/** A message-level refusal (bad override, schema unavailable): nothing of the message was written. */
export class MessageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MessageError";
  }
}

export class WritePipeline {
  readonly writer: Writer;
  private readonly opts: PipelineOptions;
  private readonly schemas = new Map<string, Promise<{ target: Target; mapper: RowMapper }>>();
  /** The schemas of `schemas` that have resolved. */
  private readonly ready = new Map<string, { target: Target; mapper: RowMapper }>();
  /** Rows of messages still waiting for their schema; they count against the buffer bound. */
  private waiting = 0;
  private closed = false;
  private readonly sleeps = new Set<() => void>();
  /** Schema look-ups of messages that arrived before close(): close waits for them to reach the writer. */
  private readonly entering = new Set<Promise<unknown>>();

  constructor(opts: PipelineOptions) {
    checkIdentifier(opts.database, "database");
    checkIdentifier(opts.stable, "super table");
    if (opts.autoCreate && !opts.schema) throw new Error("auto-create needs a declared schema (columns and tags)");
    this.opts = opts;
    this.writer = new Writer(opts);
    // Fail fast on a bad declared mapping (template, etc.).
    if (opts.schema) new RowMapper(opts.schema, opts.map);
  }

  /** Rows accepted and not yet resolved, including those waiting for a schema. */
  get pendingRows(): number {
    return this.writer.pendingRows + this.waiting;
  }

  /**
   * Writes one message. Resolves with the per-row outcome (rejected rows listed in `failed`); rejects with a
   * MessageError, BufferFullError or WriterClosedError when the message as a whole is refused.
   */
  async write(req: WriteRequest): Promise<WriteOutcome> {
    const started = Date.now();
    if (this.closed) throw new WriterClosedError();
    const stable = req.stable === undefined || req.stable === "" ? this.opts.stable : req.stable;
    if (typeof stable !== "string") throw new MessageError("msg.stable must be a string");
    // The configured name was checked by the constructor; only a msg.stable override needs checking.
    if (stable !== this.opts.stable) {
      try {
        checkIdentifier(stable, "super table");
      } catch (e) {
        throw new MessageError(`msg.stable: ${(e as Error).message}`);
      }
    }
    if (req.table !== undefined && (typeof req.table !== "string" || req.table === "")) throw new MessageError("msg.table must be a non-empty string");
    if (req.tags !== undefined && (typeof req.tags !== "object" || req.tags === null || Array.isArray(req.tags))) {
      throw new MessageError("msg.tags must be an object of tag values");
    }
    const count = Array.isArray(req.payload) ? req.payload.length : 1;
    this.writer.checkCapacity(count, this.waiting);

    // A known schema is used at once (no promise turn, no bookkeeping per message), unless an earlier message is
    // still waiting for one: it must reach the writer first, so this one waits its turn too.
    let resolved = this.entering.size === 0 ? this.ready.get(stable) : undefined;
    if (resolved === undefined) {
      this.waiting += count;
      const lookup = this.resolve(stable);
      this.entering.add(lookup);
      try {
        resolved = await lookup;
      } finally {
        this.waiting -= count;
        this.entering.delete(lookup);
      }
    }
    if (req.tags) {
      // A tag the super table does not have is a mistake (or an attempt at injection): say so instead of ignoring it.
      const known = new Set(resolved.mapper.schema.tags.map((t) => t.name));
      const unknown = Object.keys(req.tags).filter((k) => !known.has(k));
      if (unknown.length > 0) throw new MessageError(`msg.tags: ${JSON.stringify(unknown[0].slice(0, 64))} is not a tag of ${stable}`);
    }
    const { block, errors } = resolved.mapper.mapBlock(req.payload, {
      table: req.table as string | undefined,
      tags: req.tags as Record<string, unknown> | undefined,
    });
    const out = await this.writer.submit(resolved.target, block);
    const failed: RowError[] = errors.length === 0 ? out.failed : [...errors, ...out.failed].sort((a, b) => a.index - b.index);
    return { written: out.written, failed, latencyMs: Date.now() - started };
  }

  async close(timeoutMs: number): Promise<{ unwritten: number }> {
    const started = Date.now();
    this.closed = true;
    for (const wake of this.sleeps) wake();
    await Promise.allSettled([...this.entering]);
    return this.writer.close(Math.max(0, timeoutMs - (Date.now() - started)));
  }

  private resolve(stable: string): Promise<{ target: Target; mapper: RowMapper }> {
    let p = this.schemas.get(stable);
    if (!p) {
      p = this.load(stable);
      this.schemas.set(stable, p);
      p.then(
        (r) => void this.ready.set(stable, r),
        () => undefined, // handled below
      );
      // A failure is not cached: the next message tries again (the table may have been created meanwhile).
      p.catch(() => this.schemas.delete(stable));
    }
    return p;
  }

  private async load(stable: string): Promise<{ target: Target; mapper: RowMapper }> {
    const { database } = this.opts;
    let schema = this.opts.schema;
    if (!schema) schema = await this.describe(database, stable);
    const target: Target = { database, stable, schema, autoCreate: this.opts.autoCreate };
    let mapper: RowMapper;
    try {
      mapper = new RowMapper(schema, this.opts.map);
    } catch (e) {
      throw new MessageError(`${database}.${stable}: ${(e as Error).message}`);
    }
    return { target, mapper };
  }

  /** DESCRIBE, retried with backoff through outages (the message waits, counted as buffered). */
  private async describe(database: string, stable: string): Promise<TableSchema> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new WriterClosedError();
      try {
        const client: TdengineClientApi = await this.opts.getClient(this.opts.connectWaitMs ?? 2000);
        const res = await client.query(describeSql(database, stable));
        return schemaFromDescribe(res.rows);
      } catch (e) {
        if (!isTransportError(e)) {
          throw new MessageError(`cannot read the schema of ${database}.${stable}: ${(e as Error).message}`, { cause: e });
        }
      }
      await this.sleep(backoffDelay(attempt, this.opts.retry ?? { initialMs: 100, maxMs: 3000 }, this.opts.random));
    }
  }

  /** A wait that close() cuts short, so no timer outlives the node. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }
}
