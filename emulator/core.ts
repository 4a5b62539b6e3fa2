// State that outlives restarts: the catalog (data), engine, credentials, fault switches, counters.
import { Faults } from "./faults.js";
import { Engine } from "./sql/engine.js";
import { Catalog } from "./store/catalog.js";

export class EmulatorCore {
  readonly catalog: Catalog;
  readonly engine: Engine;
  readonly faults = new Faults();
  requests = 0;

  constructor(
    readonly user: string,
    readonly password: string,
    readonly serverVersion: string,
    readonly reorderReplies: boolean,
    maxRowsPerTable: number,
  ) {
    this.catalog = new Catalog(maxRowsPerTable);
    this.engine = new Engine(this.catalog, serverVersion);
  }
}
