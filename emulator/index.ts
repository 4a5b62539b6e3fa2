// Public entry of the taosAdapter emulator: an in-memory TDengine speaking the real REST + WebSocket protocol.
import type { AddressInfo } from "node:net";
import { EmulatorCore, type EmulatorStats } from "./core.js";
import { createHttpServer, type HttpServerHandle } from "./http-server.js";
import { TdError } from "./errors.js";
import { TTL_PUSH_INTERVAL_DEFAULT, TTL_UNIT_DEFAULT, TTL_UNIT_MAX } from "./store/ttl.js";

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
  /** TDengine's ttlUnit: seconds one unit of a table's TTL lasts (1..31572500, default 86400: TTL counts days). */
  ttlUnit?: number;
  /** TDengine's ttlPushInterval: seconds between TTL expiry sweeps (default 10; 0 = only Emulator.expireTables()). */
  ttlPushInterval?: number;
  /** Milliseconds since the epoch for table creation times and TTL expiry (default Date.now): tests inject one. */
  clock?: () => number;
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
  /**
   * Run TDengine's TTL sweep now: drop every table whose creation time + TTL × ttlUnit has passed on the
   * emulator's clock. Returns the dropped tables ("db.table"). The emulator also runs it every ttlPushInterval s.
   */
  expireTables(): string[];
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
  const ttlUnit = opts.ttlUnit ?? TTL_UNIT_DEFAULT;
  if (!Number.isInteger(ttlUnit) || ttlUnit < 1 || ttlUnit > TTL_UNIT_MAX) throw new Error(`ttlUnit must be an integer from 1 to ${TTL_UNIT_MAX}`);
  const core = new EmulatorCore(
    opts.user ?? "root",
    opts.password ?? "taosdata",
    opts.serverVersion ?? "3.3.6.0",
    opts.reorderReplies ?? false,
    opts.maxRowsPerTable ?? 0,
    vgroups,
    { sessionTimeoutMs: opts.tmqSessionTimeoutMs ?? 12000, maxPollIntervalMs: opts.tmqMaxPollIntervalMs ?? 300000 },
    { now: opts.clock, ttlUnitSeconds: ttlUnit },
  );
  return core;
}

/** Seconds between TTL sweeps: TDengine's range 1..100000, or 0 for sweeps only on demand. */
function ttlPushInterval(opts: EmulatorOptions): number {
  const s = opts.ttlPushInterval ?? TTL_PUSH_INTERVAL_DEFAULT;
  if (!Number.isInteger(s) || s < 0 || s > 100000) throw new Error("ttlPushInterval must be an integer from 0 to 100000");
  return s;
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
  const sweepEvery = ttlPushInterval(opts);
  const ep = await serveEndpoint(core, opts, opts.port ?? 0);
  core.faults.dropAll = ep.drop;
  core.startTtlSweeps(sweepEvery);
  const { sql, ...faults } = controls(core);
  return {
    port: ep.port,
    httpUrl: ep.httpUrl,
    wsUrl: ep.wsUrl,
    stop: async () => {
      core.stopTtlSweeps();
      await ep.stop();
    },
    restart: async () => {
      await ep.restart();
      core.startTtlSweeps(sweepEvery);
    },
    faults,
    sql,
    stats: () => core.stats(ep.connections()),
    expireTables: () => core.catalog.expireTables(),
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
  /** See Emulator.expireTables: the shared store's TTL sweep. */
  expireTables(): string[];
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
  const sweepEvery = ttlPushInterval(opts);
  const eps: Awaited<ReturnType<typeof serveEndpoint>>[] = [];
  try {
    for (let i = 0; i < n; i++) eps.push(await serveEndpoint(core, opts, opts.port ? opts.port + i : 0));
  } catch (e) {
    await Promise.all(eps.map((ep) => ep.stop()));
    throw e;
  }
  core.faults.dropAll = () => eps.forEach((ep) => ep.drop());
  // One sweep for the cluster's one store, as TDengine's mnode runs it once for all vnodes.
  core.startTtlSweeps(sweepEvery);
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
    expireTables: () => core.catalog.expireTables(),
    stop: async () => {
      core.stopTtlSweeps();
      await Promise.all(eps.map((ep) => ep.stop()));
    },
  };
}

export { TdError };
export type { EmulatorStats };
