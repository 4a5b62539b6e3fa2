// Public entry of the taosAdapter emulator: an in-memory TDengine speaking the real REST + WebSocket protocol.
import type { AddressInfo } from "node:net";
import { EmulatorCore, type EmulatorStats } from "./core.js";
import { createHttpServer, type HttpServerHandle } from "./http-server.js";
import { TdError } from "./errors.js";

export interface EmulatorOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default root. */
  user?: string;
  /** Default taosdata. */
  password?: string;
  /** Default "3.3.6.0". */
  serverVersion?: string;
  /** Deliberately reorder replies of concurrent requests on one socket. */
  reorderReplies?: boolean;
  /** Keep at most this many rows per table (oldest dropped); 0/undefined = unlimited. */
  maxRowsPerTable?: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface Emulator {
  port: number;
  httpUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  faults: {
    dropConnections(): void;
    refuseConnections(ms: number): void;
    delayReplies(ms: number): void;
    failNext(n: number, code: number, message?: string): void;
    reset(): void;
  };
  sql(statement: string): { columns: { name: string; type: number }[]; rows: unknown[][]; affectedRows: number };
  /**
   * Counters: connections, requests (and WebSocket requests per action), restarts, and rows inserted / overwritten (a row whose (table, ts) already
   * existed) per table and in total, whichever way they were written (SQL INSERT, stmt2, schemaless). The same
   * object is served as JSON by GET /-/emulator/stats (Basic auth, as /rest/sql).
   */
  stats(): EmulatorStats;
}

function listen(h: HttpServerHandle, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    h.server.once("error", onError);
    h.server.listen(port, host, () => {
      h.server.off("error", onError);
      resolve((h.server.address() as AddressInfo).port);
    });
  });
}

function close(h: HttpServerHandle): Promise<void> {
  for (const ws of h.sessions) ws.terminate();
  for (const s of h.sockets) s.destroy();
  h.wss.close();
  return new Promise((resolve) => h.server.close(() => resolve()));
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? "127.0.0.1";
  const core = new EmulatorCore(opts.user ?? "root", opts.password ?? "taosdata", opts.serverVersion ?? "3.3.6.0", opts.reorderReplies ?? false, opts.maxRowsPerTable ?? 0);
  let handle = createHttpServer(core, opts.tls);
  const port = await listen(handle, opts.port ?? 0, host);
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const scheme = opts.tls ? "s" : "";
  let stopped = false;
  core.faults.dropAll = () => {
    for (const ws of handle.sessions) ws.terminate();
    for (const s of handle.sockets) s.destroy();
  };
  const sqlSession = { db: null as string | null };
  return {
    port,
    httpUrl: `http${scheme}://${shownHost}:${port}`,
    wsUrl: `ws${scheme}://${shownHost}:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await close(handle);
    },
    async restart() {
      await close(handle);
      handle = createHttpServer(core, opts.tls);
      await listen(handle, port, host);
      core.restarts++;
      stopped = false;
    },
    faults: {
      dropConnections: () => core.faults.dropAll(),
      refuseConnections: (ms: number) => {
        core.faults.refuseUntil = Date.now() + ms;
      },
      delayReplies: (ms: number) => {
        core.faults.delayMs = Math.max(0, ms);
      },
      failNext: (n: number, code: number, message?: string) => core.faults.failNext(n, code, message),
      reset: () => core.faults.reset(),
    },
    sql(statement: string) {
      const r = core.engine.execute(statement, sqlSession);
      if (r.kind === "update") return { columns: [], rows: [], affectedRows: r.affectedRows };
      const rs = r.result;
      const rows: unknown[][] = [];
      for (let i = 0; i < rs.rowCount; i++) rows.push(rs.columns.map((_, c) => rs.value(c, i)));
      return { columns: rs.columns.map((c) => ({ name: c.name, type: c.type })), rows, affectedRows: 0 };
    },
    stats: () => core.stats(handle.sessions.size),
  };
}

export { TdError };
export type { EmulatorStats };
