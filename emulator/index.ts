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
  /** Vgroups of a database created without VGROUPS n (default 2, as TDengine). */
  vgroups?: number;
  /** TMQ session.timeout.ms for consumers that set none (default 12000, as TDengine; tests use less). */
  tmqSessionTimeoutMs?: number;
  /** TMQ max.poll.interval.ms for consumers that set none (default 300000, as TDengine). */
  tmqMaxPollIntervalMs?: number;
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
   * Counters: connections, requests (and WebSocket requests per action), restarts, and rows inserted / overwritten
   * (a row whose (table, ts) already existed) per table and in total, whichever way they were written (SQL INSERT,
   * stmt2, schemaless). The same object is served as JSON by GET /-/emulator/stats (Basic auth, as /rest/sql).
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

/** One taosAdapter endpoint (HTTP + /ws on one port) serving a core that may be shared with other endpoints. */
async function serveEndpoint(core: EmulatorCore, opts: EmulatorOptions, port: number): Promise<{
  port: number;
  httpUrl: string;
  wsUrl: string;
  running: () => boolean;
  drop: () => void;
  connections: () => number;
  stop: () => Promise<void>;
  restart: () => Promise<void>;
}> {
  const host = opts.host ?? "127.0.0.1";
  let handle = createHttpServer(core, opts.tls);
  const bound = await listen(handle, port, host);
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const scheme = opts.tls ? "s" : "";
  let stopped = false;
  return {
    port: bound,
    httpUrl: `http${scheme}://${shownHost}:${bound}`,
    wsUrl: `ws${scheme}://${shownHost}:${bound}`,
    running: () => !stopped,
    drop: () => {
      for (const ws of handle.sessions) ws.terminate();
      for (const s of handle.sockets) s.destroy();
    },
    connections: () => handle.sessions.size,
    async stop() {
      if (stopped) return;
      stopped = true;
      await close(handle);
    },
    async restart() {
      if (!stopped) await close(handle);
      handle = createHttpServer(core, opts.tls);
      await listen(handle, bound, host);
      core.restarts++;
      stopped = false;
    },
  };
}

function newCore(opts: EmulatorOptions): EmulatorCore {
  const vgroups = opts.vgroups ?? 2;
  if (!Number.isInteger(vgroups) || vgroups < 1 || vgroups > 1024) throw new Error("vgroups must be an integer from 1 to 1024");
  return new EmulatorCore(opts.user ?? "root", opts.password ?? "taosdata", opts.serverVersion ?? "3.3.6.0", opts.reorderReplies ?? false, opts.maxRowsPerTable ?? 0, vgroups, {
    sessionTimeoutMs: opts.tmqSessionTimeoutMs ?? 12000,
    maxPollIntervalMs: opts.tmqMaxPollIntervalMs ?? 300000,
  });
}

function controls(core: EmulatorCore): Emulator["faults"] & { sql: Emulator["sql"] } {
  const sqlSession = { db: null as string | null };
  return {
    dropConnections: () => core.faults.dropAll(),
    refuseConnections: (ms: number) => {
      core.faults.refuseUntil = Date.now() + ms;
    },
    delayReplies: (ms: number) => {
      core.faults.delayMs = Math.max(0, ms);
    },
    failNext: (n: number, code: number, message?: string) => core.faults.failNext(n, code, message),
    reset: () => core.faults.reset(),
    sql(statement: string) {
      const r = core.engine.execute(statement, sqlSession);
      if (r.kind === "update") return { columns: [], rows: [], affectedRows: r.affectedRows };
      const rs = r.result;
      const rows: unknown[][] = [];
      for (let i = 0; i < rs.rowCount; i++) rows.push(rs.columns.map((_, c) => rs.value(c, i)));
      return { columns: rs.columns.map((c) => ({ name: c.name, type: c.type })), rows, affectedRows: 0 };
    },
  };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const core = newCore(opts);
  const ep = await serveEndpoint(core, opts, opts.port ?? 0);
  core.faults.dropAll = ep.drop;
  const { sql, ...faults } = controls(core);
  return {
    port: ep.port,
    httpUrl: ep.httpUrl,
    wsUrl: ep.wsUrl,
    stop: ep.stop,
    restart: ep.restart,
    faults,
    sql,
    stats: () => core.stats(ep.connections()),
  };
}

/** One taosAdapter of a cluster: stoppable and restartable alone; the data stays in the cluster's store. */
export interface ClusterEndpoint {
  index: number;
  port: number;
  httpUrl: string;
  wsUrl: string;
  running(): boolean;
  /** Closes the port and drops its connections (like a taosAdapter process that died). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Open WebSocket sessions on this endpoint. */
  connections(): number;
}

export interface EmulatorCluster {
  endpoints: ClusterEndpoint[];
  /** Every endpoint's ws:// URL, comma-separated (what tdengine-config's URL field takes). */
  wsUrls: string;
  /** Faults act on every endpoint (dropConnections drops the sessions of all of them). */
  faults: Emulator["faults"];
  sql: Emulator["sql"];
  /** The shared store's counters (see Emulator.stats), plus open sessions per endpoint. */
  stats(): EmulatorStats & { perEndpoint: number[] };
  stop(): Promise<void>;
}

/**
 * N taosAdapter endpoints over ONE shared store, like the taosAdapters of a TDengine cluster: ports port..port+N-1
 * (or N ephemeral ports when port is 0).
 */
export async function startEmulatorCluster(opts: EmulatorOptions & { endpoints: number }): Promise<EmulatorCluster> {
  const n = opts.endpoints;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error("endpoints must be an integer from 1 to 64");
  const core = newCore(opts);
  const eps: Awaited<ReturnType<typeof serveEndpoint>>[] = [];
  try {
    for (let i = 0; i < n; i++) eps.push(await serveEndpoint(core, opts, opts.port ? opts.port + i : 0));
  } catch (e) {
    await Promise.all(eps.map((ep) => ep.stop()));
    throw e;
  }
  core.faults.dropAll = () => eps.forEach((ep) => ep.drop());
  const { sql, ...faults } = controls(core);
  return {
    endpoints: eps.map((ep, index) => ({
      index,
      port: ep.port,
      httpUrl: ep.httpUrl,
      wsUrl: ep.wsUrl,
      running: ep.running,
      stop: ep.stop,
      start: async () => {
        if (!ep.running()) await ep.restart();
      },
      connections: ep.connections,
    })),
    wsUrls: eps.map((ep) => ep.wsUrl).join(","),
    faults,
    sql,
    stats: () => {
      const perEndpoint = eps.map((ep) => (ep.running() ? ep.connections() : 0));
      return { ...core.stats(perEndpoint.reduce((a, b) => a + b, 0)), perEndpoint };
    },
    stop: async () => {
      await Promise.all(eps.map((ep) => ep.stop()));
    },
  };
}

export { TdError };
export type { EmulatorStats };
