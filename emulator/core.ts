// State that outlives restarts: the catalog (data), engine, credentials, fault switches, counters.
import { Users } from "./users.js";
import { Faults } from "./faults.js";
import { Engine } from "./sql/engine.js";
import { Connections } from "./connections.js";
import { Catalog, type CatalogClock, type WriteCounts } from "./store/catalog.js";
import { TmqState, type TmqDefaults } from "./tmq/state.js";

export interface EmulatorStats {
  /** Open WebSocket sessions. */
  connections: number;
  /** REST and WebSocket requests received. */
  requests: number;
  /** WebSocket requests per action name. */
  actions: Record<string, number>;
  restarts: number;
  /** Rows written with a new (table, ts), over all tables. */
  inserted: number;
  /** Rows written whose (table, ts) already existed: duplicate writes, over all tables. */
  overwritten: number;
  /** Per table, keyed "db.table". */
  tables: Record<string, WriteCounts>;
}

export class EmulatorCore {
  /** Who may connect (CREATE / ALTER / DROP USER). */
  readonly users: Users;
  readonly catalog: Catalog;
  readonly engine: Engine;
  readonly faults = new Faults();
  /** Topics, consumer groups and committed offsets: like the data, they survive endpoint restarts. */
  readonly tmq: TmqState;
  /** Open /ws and /rest/tmq connections (SHOW CONNECTIONS). */
  readonly connections = new Connections();
  requests = 0;
  /** WebSocket requests received, per action (e.g. stmt2_prepare), for tests to see retries. */
  readonly actions = new Map<string, number>();
  /** Times the emulator was restarted (Emulator.restart()). */
  restarts = 0;
  /** The periodic TTL sweep (TDengine's ttlPushInterval), while an endpoint serves. */
  private ttlTimer: NodeJS.Timeout | null = null;

  /** Counters for tests and the debug endpoint: connections are the live WebSocket sessions. */
  stats(connections: number): EmulatorStats {
    const tables = this.catalog.writeCounts();
    let inserted = 0;
    let overwritten = 0;
    for (const t of Object.values(tables)) {
      inserted += t.inserted;
      overwritten += t.overwritten;
    }
    return { connections, requests: this.requests, actions: Object.fromEntries(this.actions), restarts: this.restarts, inserted, overwritten, tables };
  }

  constructor(
    readonly user: string,
    readonly password: string,
    readonly serverVersion: string,
    readonly reorderReplies: boolean,
    maxRowsPerTable: number,
    defaultVgroups = 2,
    tmqDefaults: TmqDefaults = { sessionTimeoutMs: 12000, maxPollIntervalMs: 300000 },
    clock: CatalogClock = {},
  ) {
    this.catalog = new Catalog(maxRowsPerTable, defaultVgroups, clock);
    this.engine = new Engine(this.catalog, serverVersion);
    this.tmq = new TmqState(this.catalog, serverVersion, tmqDefaults);
    this.engine.tmq = this.tmq;
    this.engine.connections = this.connections;
    this.users = new Users(user, password);
    this.engine.users = this.users;
  }

  /** Sweep expired tables every intervalSec seconds (0: never; tests call catalog.expireTables()). */
  startTtlSweeps(intervalSec: number): void {
    this.stopTtlSweeps();
    if (intervalSec <= 0) return;
    this.ttlTimer = setInterval(() => this.catalog.expireTables(), intervalSec * 1000);
    this.ttlTimer.unref();
  }

  stopTtlSweeps(): void {
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    this.ttlTimer = null;
  }
}
