// Prepared query statements kept across polls, so an idle poll costs bind + exec + result + fetch instead of
// also stmt2_init + stmt2_prepare + stmt2_close. One cache belongs to one poller (a statement is never shared,
// so two pollers never interleave binds on it). Statements live on one connection: when the client object
// changes or its socket closes, every kept id is forgotten (ids of a dead socket mean nothing on a new one).
import type { Stmt2, TdengineClientApi } from "../tdengine/api";
import type { PreparedStatementHolder } from "../tdengine/client";

/** Table mode uses at most four statements (>=, = and > bounds, the lookback's COUNT); one spare. */
const DEFAULT_MAX_STATEMENTS = 5;

interface Entry {
  sql: string;
  stmt: Stmt2;
  inUse: boolean;
}

export class StatementCache implements PreparedStatementHolder {
  private client?: TdengineClientApi;
  /** Kept statements by SQL, oldest use first. */
  private readonly kept = new Map<string, Entry>();
  /** Statements handed out by acquire and not yet released (kept or one-off). */
  private readonly out = new Map<Stmt2, Entry | undefined>();
  private closed = false;
  private readonly onClientClose = (): void => this.forget();

  constructor(private readonly maxStatements = DEFAULT_MAX_STATEMENTS) {}

  /** Number of statements currently kept (for tests and status). */
  get size(): number {
    return this.kept.size;
  }

  async acquire(client: TdengineClientApi, sql: string, prepare: () => Promise<Stmt2>): Promise<Stmt2> {
    if (client !== this.client) this.switchTo(client);
    const entry = this.kept.get(sql);
    if (entry && !entry.inUse && !client.closed) {
      entry.inUse = true;
      // Most recently used last, so eviction closes the statement unused for longest.
      this.kept.delete(sql);
      this.kept.set(sql, entry);
      this.out.set(entry.stmt, entry);
      return entry.stmt;
    }
    const stmt = await prepare();
    // Keep it only if nothing changed while preparing and the SQL has no statement in use.
    if (this.closed || client !== this.client || client.closed || this.kept.has(sql)) {
      this.out.set(stmt, undefined);
      return stmt;
    }
    this.evictFor(1);
    const fresh: Entry = { sql, stmt, inUse: true };
    this.kept.set(sql, fresh);
    this.out.set(stmt, fresh);
    return stmt;
  }

  release(stmt: Stmt2, ok: boolean): void {
    if (!this.out.has(stmt)) return;
    const entry = this.out.get(stmt);
    this.out.delete(stmt);
    const keep = ok && entry !== undefined && !this.closed && this.kept.get(entry.sql) === entry;
    if (keep) {
      entry.inUse = false;
      return;
    }
    // A failed statement is closed and prepared anew next time (its server-side state is unknown).
    if (entry && this.kept.get(entry.sql) === entry) this.kept.delete(entry.sql);
    closeQuietly(stmt);
  }

  /** Closes every kept statement (node close). Statements in use are closed when released. */
  close(): Promise<void> {
    this.closed = true;
    const idle = [...this.kept.values()].filter((e) => !e.inUse);
    this.kept.clear();
    this.detach();
    return Promise.all(idle.map((e) => e.stmt.close().catch(() => undefined))).then(() => undefined);
  }

  private switchTo(client: TdengineClientApi): void {
    const old = this.client;
    // Statements of a replaced but still open client are closed there; those of a dead one are just forgotten.
    for (const e of this.kept.values()) if (!e.inUse && old && !old.closed) closeQuietly(e.stmt);
    this.kept.clear();
    this.detach();
    if (this.closed || client.closed) return;
    this.client = client;
    client.once("close", this.onClientClose);
  }

  /** The socket closed: the kept ids died with it (no stmt2_close to send). */
  private forget(): void {
    this.kept.clear();
    this.client = undefined;
  }

  private detach(): void {
    this.client?.removeListener("close", this.onClientClose);
    this.client = undefined;
  }

  private evictFor(n: number): void {
    for (const [sql, e] of this.kept) {
      if (this.kept.size + n <= this.maxStatements) return;
      if (e.inUse) continue;
      this.kept.delete(sql);
      closeQuietly(e.stmt);
    }
  }
}

function closeQuietly(stmt: Stmt2): void {
  stmt.close().catch(() => undefined);
}
