// A Perspective host: one Perspective engine in a worker thread (so browsers of one host see only its tables,
// and no WASM work runs on Node-RED's thread), the registry of named tables with the options they were made
// with, and per table a replay log to refill a restarted engine. Hosts live at module level, keyed by their
// owner's id, so tables survive a Node-RED redeploy.
import { EngineGoneError, EngineSupervisor, type EngineOptions } from "./engine";
import { Fanout, type DeltaSubscriber } from "./fanout";
import type { EngineCall } from "./engine-messages";
import { ReplayLog, type LogEntry, type LoggedOp } from "./replay-log";
import { schemaKey, type Schema } from "./schema";
import { columnarRows, type Columnar } from "./values";

export interface TableOptions {
  /** Primary-key column: rows with an existing key replace that row. */
  index?: string;
  /** Ring buffer size: the oldest rows are dropped beyond it. Ignored when index is set. */
  limit?: number;
}

export interface TableSpec extends TableOptions {
  schema: Schema;
}

/** A table in the engine, as the flow writes to it. Every call resolves once the engine has applied it. */
export interface EngineTable {
  update(data: Columnar): Promise<void>;
  replace(data: Columnar): Promise<void>;
  clear(): Promise<void>;
  remove(keys: unknown[]): Promise<void>;
  size(): Promise<number>;
}

export interface HostedTable {
  readonly name: string;
  /**
   * The engine's name for the table, which clients open. It is `name` unless an earlier table of that name is
   * still held by open views (a lazily deleted table keeps its engine name, and 3.8.0 would hand the old table
   * back for a new one of the same name): then it is `name@<generation>`.
   */
  readonly entityId: string;
  readonly spec: TableSpec;
  readonly table: EngineTable;
  /** Increases each time the name is bound to a new table (the viewer page reloads on a change). */
  readonly generation: number;
}

/** Identity of a table's definition: equal keys mean the existing table can be kept. */
export function specKey(spec: TableSpec): string {
  return JSON.stringify([schemaKey(spec.schema), spec.index ?? null, spec.index ? null : (spec.limit ?? null)]);
}

/** Session of a remote client. */
export interface HostSession {
  /** Passes request bytes on to the engine (the bytes are copied; the caller keeps its buffer). */
  handle_request(buf: Uint8Array): void;
  /** Row deltas of the table `entity`, serialised once for all subscribers; returns the unsubscribe. */
  subscribeDeltas(entity: string, sub: DeltaSubscriber): () => void;
  close(): void;
}

interface TableState {
  hosted: HostedTable;
  log: ReplayLog;
  /** Rows in the table at the last snapshot (sizes the next compaction). */
  snapshotRows: number;
  snapshotting: boolean;
}

interface SessionEntry {
  send: (buf: Uint8Array) => void;
  /** The engine restarted: the session's views are gone (the endpoint closes the socket). */
  lost: () => void;
}

export type HostOptions = EngineOptions;

export class PerspectiveHost {
  private readonly tables = new Map<string, TableState>();
  private readonly layouts = new Map<string, unknown>();
  /** Engine names still alive in the engine (including lazily deleted tables that views still hold). */
  private readonly liveEntities = new Set<string>();
  private readonly sessions = new Map<number, SessionEntry>();
  private generation = 0;
  private nextSid = 1;
  readonly engine: EngineSupervisor;
  readonly fanout: Fanout;
  private warn: (m: string) => void = () => undefined;

  private constructor(
    readonly key: string,
    opts: HostOptions,
  ) {
    this.engine = new EngineSupervisor({ ...opts, onWarning: (m) => this.warn(m) });
    this.engine.onResponse = (sid, buf) => this.sessions.get(sid)?.send(buf);
    this.engine.onRestart = () => this.refill();
    this.fanout = new Fanout(
      (entity) => this.engine.watch(entity),
      (entity) => this.engine.unwatch(entity),
      (err) => this.warn(`sending a row delta failed: ${(err as Error)?.message ?? err}`),
    );
    this.engine.onDelta = (entity, buf, port) => this.fanout.deliver(entity, buf, port);
  }

  /**
   * A host whose engine is starting: usable at once (sessions and table calls queue in the worker until it has
   * loaded Perspective), so the WebSocket endpoint is attached without waiting for WASM to compile.
   */
  static async create(key: string, opts: HostOptions = {}): Promise<PerspectiveHost> {
    return new PerspectiveHost(key, opts);
  }

  /** Where engine warnings (restarts, failed requests) go; the latest owner's logger wins. */
  setWarningSink(warn: (m: string) => void): void {
    this.warn = warn;
  }

  /** Opens a session for a remote client; `send` gets each response, `lost` is called if the engine restarts. */
  openSession(send: (buf: Uint8Array) => void, lost: () => void): HostSession {
    const sid = this.nextSid++;
    this.sessions.set(sid, { send, lost });
    this.engine.openSession(sid);
    let closed = false;
    const subscriptions = new Set<() => void>();
    return {
      handle_request: (buf) => {
        if (!closed) this.engine.request(sid, buf);
      },
      subscribeDeltas: (entity, sub) => {
        if (closed) return () => undefined;
        this.fanout.add(entity, sub);
        const off = (): void => {
          if (subscriptions.delete(off)) this.fanout.remove(entity, sub);
        };
        subscriptions.add(off);
        return off;
      },
      close: () => {
        if (closed) return;
        closed = true;
        for (const off of [...subscriptions]) off();
        this.sessions.delete(sid);
        // Releases the views this client held (in the engine), so the tables can be deleted again.
        this.engine.closeSession(sid);
      },
    };
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  get(name: string): HostedTable | undefined {
    return this.tables.get(name)?.hosted;
  }

  names(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * The table `name` with this definition: the existing one when its definition is the same, otherwise a new
   * table (the old one is deleted lazily, so open views keep their last data until the page moves on).
   */
  async ensure(name: string, spec: TableSpec): Promise<HostedTable> {
    await this.engine.whenUp();
    const existing = this.tables.get(name);
    if (existing && specKey(existing.hosted.spec) === specKey(spec)) return existing.hosted;
    if (existing) this.drop(name);
    const generation = ++this.generation;
    const entityId = this.liveEntities.has(name) ? `${name}@${generation}` : name;
    const state: TableState = {
      hosted: undefined as unknown as HostedTable,
      log: new ReplayLog(spec.index ? undefined : spec.limit || undefined),
      snapshotRows: 0,
      snapshotting: false,
    };
    state.hosted = { name, entityId, spec, generation, table: this.tableApi(state) };
    this.liveEntities.add(entityId);
    this.tables.set(name, state);
    try {
      await this.engine.call(makeCall(state.hosted));
    } catch (err) {
      // Lost with a restarting engine: the refill creates it (it is registered).
      if (!(err instanceof EngineGoneError)) {
        this.tables.delete(name);
        this.liveEntities.delete(entityId);
        throw err;
      }
      await this.engine.whenUp();
    }
    return state.hosted;
  }

  private tableApi(state: TableState): EngineTable {
    const id = (): string => state.hosted.entityId;
    return {
      update: (data) => this.apply(state, () => state.log.append(updateOp(data)), { fn: "update", entity: id(), data }),
      replace: (data) => this.apply(state, () => state.log.reset(updateOp(data)), { fn: "replace", entity: id(), data }),
      clear: () => this.apply(state, () => state.log.reset(), { fn: "clear", entity: id() }),
      remove: (keys) => this.apply(state, () => state.log.append({ kind: "remove", keys }), { fn: "remove", entity: id(), keys }),
      size: async () => {
        await this.engine.whenUp();
        return (await this.engine.call({ fn: "size", entity: id() })) as number;
      },
    };
  }

  /**
   * One table operation: recorded in the table's replay log, then sent to the engine. When the engine dies
   * meanwhile, the refill of its replacement replays the log, this operation included, so it is neither lost
   * nor applied twice.
   */
  private async apply(state: TableState, record: () => LogEntry | undefined, call: EngineCall): Promise<void> {
    await this.engine.whenUp();
    if (this.tables.get(state.hosted.name) !== state) throw new Error(`the table ${state.hosted.name} was replaced`);
    const entry = record();
    try {
      await this.engine.call(call);
    } catch (err) {
      if (err instanceof EngineGoneError) return this.engine.whenUp();
      if (entry) state.log.discard(entry);
      throw err;
    }
    if (state.log.wantsSnapshot(state.snapshotRows)) this.compact(state);
  }

  /** Replaces the table's log up to now by an Arrow snapshot of the table (index tables, tables without limit). */
  private compact(state: TableState): void {
    if (state.snapshotting) return;
    state.snapshotting = true;
    const upto = state.log.seq - 1;
    this.engine.call({ fn: "snapshot", entity: state.hosted.entityId }).then(
      (v) => {
        const { arrow, rows } = v as { arrow: ArrayBuffer; rows: number };
        state.snapshotRows = rows;
        if (this.tables.get(state.hosted.name) === state) state.log.compact(upto, arrow, rows);
      },
      () => undefined,
    ).finally(() => (state.snapshotting = false));
  }

  /** A new engine: recreate every table with its schema and options, replay its log, drop the old sessions. */
  private async refill(): Promise<void> {
    const lost = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of lost) {
      try {
        s.lost();
      } catch {
        // an endpoint's problem, not the refill's
      }
    }
    this.fanout.reset();
    this.liveEntities.clear();
    for (const state of this.tables.values()) {
      this.liveEntities.add(state.hosted.entityId);
      await this.engine.call(makeCall(state.hosted));
      const entity = state.hosted.entityId;
      // Sent back to back (the engine applies them in order); only the last is awaited.
      let last: Promise<unknown> = Promise.resolve();
      for (const { op } of state.log.ops) {
        const call: EngineCall =
          op.kind === "update" ? { fn: "update", entity, data: op.data }
          : op.kind === "remove" ? { fn: "remove", entity, keys: op.keys }
          // A copy: the log keeps its snapshot for the next restart.
          : { fn: "updateArrow", entity, arrow: op.arrow.slice(0) };
        last = this.engine.call(call).catch((err: Error) => {
          if (err instanceof EngineGoneError) throw err;
        });
      }
      await last;
    }
  }

  /**
   * Forgets the table and deletes it lazily: a plain delete fails while any browser holds a view and leaves
   * the handle unusable, so the engine deletes it when its last view goes. Never awaited.
   */
  drop(name: string): void {
    const t = this.tables.get(name);
    if (!t) return;
    this.tables.delete(name);
    this.layouts.delete(name);
    const entity = t.hosted.entityId;
    this.engine.call({ fn: "delete", entity }).then(
      () => this.liveEntities.delete(entity),
      () => this.liveEntities.delete(entity),
    );
  }

  setLayouts(name: string, layouts: unknown): void {
    if (layouts === undefined || layouts === null) this.layouts.delete(name);
    else this.layouts.set(name, layouts);
  }

  /** What the viewer page needs to know: the tables, their generation and configured layouts. */
  describe(): { tables: { name: string; entity: string; generation: number; index?: string; limit?: number; layouts?: unknown }[] } {
    return {
      tables: [...this.tables.values()]
        .map(({ hosted: t }) => ({
          name: t.name,
          entity: t.entityId,
          generation: t.generation,
          ...(t.spec.index ? { index: t.spec.index } : {}),
          ...(!t.spec.index && t.spec.limit ? { limit: t.spec.limit } : {}),
          ...(this.layouts.has(t.name) ? { layouts: this.layouts.get(t.name) } : {}),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** Test hooks: make the engine crash, or hang without answering its heartbeat. */
  crashEngineForTest(): void {
    this.engine.crashForTest();
  }
  hangEngineForTest(): void {
    this.engine.hangForTest();
  }
}

function updateOp(data: Columnar): LoggedOp {
  return { kind: "update", data, rows: columnarRows(data) };
}

function makeCall(t: HostedTable): EngineCall {
  return {
    fn: "make",
    schema: t.spec.schema,
    options: { name: t.entityId, ...(t.spec.index ? { index: t.spec.index } : t.spec.limit ? { limit: t.spec.limit } : {}) },
  };
}

const hosts = new Map<string, Promise<PerspectiveHost>>();

/** The host for `key`, created on first use and kept for the life of the process. */
export function getHost(key: string, opts: HostOptions = {}): Promise<PerspectiveHost> {
  let h = hosts.get(key);
  if (!h) {
    h = PerspectiveHost.create(key, opts);
    hosts.set(key, h);
    h.catch(() => hosts.delete(key));
  }
  return h;
}

/** Drops every table of a host, stops its engine and forgets it (its config node was deleted). */
export async function removeHost(key: string): Promise<void> {
  const h = hosts.get(key);
  if (!h) return;
  hosts.delete(key);
  const host = await h.catch(() => undefined);
  if (!host) return;
  for (const name of host.names()) host.drop(name);
  host.engine.stop();
}
