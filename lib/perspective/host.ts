// A Perspective host: one isolated PerspectiveServer (so browsers of one host see only its tables), a local
// client to create and feed tables, and the registry of named tables with the options they were made with.
// Hosts live at module level, keyed by their owner's id, so tables survive a Node-RED redeploy.
import { loadPerspective, type Client, type Table } from "./load";
import { schemaKey, type Schema } from "./schema";

export interface TableOptions {
  /** Primary-key column: rows with an existing key replace that row. */
  index?: string;
  /** Ring buffer size: the oldest rows are dropped beyond it. Ignored when index is set. */
  limit?: number;
}

export interface TableSpec extends TableOptions {
  schema: Schema;
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
  readonly table: Table;
  /** Increases each time the name is bound to a new table (the viewer page reloads on a change). */
  readonly generation: number;
}

/** Identity of a table's definition: equal keys mean the existing table can be kept. */
export function specKey(spec: TableSpec): string {
  return JSON.stringify([schemaKey(spec.schema), spec.index ?? null, spec.index ? null : (spec.limit ?? null)]);
}

/** Session of a remote client, as make_session gives it. */
export interface HostSession {
  handle_request(buf: Uint8Array): Promise<void>;
  close(): void;
}

export class PerspectiveHost {
  private readonly tables = new Map<string, HostedTable>();
  private readonly layouts = new Map<string, unknown>();
  /** Engine names still alive in the engine (including lazily deleted tables that views still hold). */
  private readonly liveEntities = new Set<string>();
  private generation = 0;
  private sessions = 0;
  private constructor(
    readonly key: string,
    private readonly server: { make_session(cb: (b: Uint8Array) => Promise<void>): HostSession; delete?(): void },
    readonly client: Client,
  ) {}

  static async create(key: string): Promise<PerspectiveHost> {
    const psp = await loadPerspective();
    const server = new psp.PerspectiveServer();
    // The local client talks to its own session in-process; no bytes leave the process.
    const local: { client?: Client } = {};
    const session = server.make_session(async (resp) => {
      await local.client!.handle_response(resp);
    });
    local.client = psp.make_client(async (req) => {
      await session.handle_request(req);
    });
    return new PerspectiveHost(key, server, local.client);
  }

  /** Opens a session for a remote client; `send` gets each response (copied out of WASM memory). */
  openSession(send: (buf: Uint8Array) => void): HostSession {
    const session = this.server.make_session(async (buf) => send(buf.slice()));
    this.sessions++;
    let closed = false;
    return {
      handle_request: (buf) => session.handle_request(buf),
      close: () => {
        if (closed) return;
        closed = true;
        this.sessions--;
        // Releases the views this client held, so the tables can be deleted again.
        session.close();
      },
    };
  }

  get clientCount(): number {
    return this.sessions;
  }

  get(name: string): HostedTable | undefined {
    return this.tables.get(name);
  }

  names(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * The table `name` with this definition: the existing one when its definition is the same, otherwise a new
   * table (the old one is deleted lazily, so open views keep their last data until the page moves on).
   */
  async ensure(name: string, spec: TableSpec): Promise<HostedTable> {
    const existing = this.tables.get(name);
    if (existing && specKey(existing.spec) === specKey(spec)) return existing;
    if (existing) this.drop(name);
    const generation = ++this.generation;
    const entityId = this.liveEntities.has(name) ? `${name}@${generation}` : name;
    const options: { name: string; index?: string; limit?: number } = { name: entityId };
    if (spec.index) options.index = spec.index;
    else if (spec.limit) options.limit = spec.limit;
    // A {column: type} object is a schema to the engine; the typings only list data shapes.
    const table = await this.client.table(spec.schema as unknown as Record<string, unknown[]>, options);
    this.liveEntities.add(entityId);
    const hosted: HostedTable = { name, entityId, spec, table, generation };
    this.tables.set(name, hosted);
    return hosted;
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
    t.table.delete({ lazy: true }).then(
      () => this.liveEntities.delete(t.entityId),
      () => this.liveEntities.delete(t.entityId),
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
        .map((t) => ({
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
}

const hosts = new Map<string, Promise<PerspectiveHost>>();

/** The host for `key`, created on first use and kept for the life of the process. */
export function getHost(key: string): Promise<PerspectiveHost> {
  let h = hosts.get(key);
  if (!h) {
    h = PerspectiveHost.create(key);
    hosts.set(key, h);
    h.catch(() => hosts.delete(key));
  }
  return h;
}

/** Drops every table of a host and forgets it (its config node was deleted). */
export async function removeHost(key: string): Promise<void> {
  const h = hosts.get(key);
  if (!h) return;
  hosts.delete(key);
  const host = await h.catch(() => undefined);
  if (host) for (const name of host.names()) host.drop(name);
}
