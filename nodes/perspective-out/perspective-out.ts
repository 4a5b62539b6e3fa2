import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { UpdateCoalescer, type TableSink } from "../../lib/perspective/coalescer";
import { specKey, type HostedTable, type PerspectiveHost, type TableSpec } from "../../lib/perspective/host";
import { plansFromColumns, plansFromSchema, schemaOf, type ColumnPlan } from "../../lib/perspective/schema";
import { RowConverter, type EpochUnit } from "../../lib/perspective/values";
import { newestTimestamp } from "../../lib/health/table-health";
import { duplicateProblem, otherPublishers, registerTablePublisher } from "../../lib/health/table-publishers";
import { acquireHosting, DEFAULT_PATH, type Hosting, type HostingSettings, type PerspectiveConfigNode } from "../perspective-config/hosting";
import { TableHealthTracker } from "./table-health";

interface PerspectiveOutDef extends NodeDef {
  server?: string;
  table?: string;
  schema?: string;
  mode?: "limit" | "index";
  limit?: string | number;
  index?: string;
  interval?: string | number;
  tsUnit?: EpochUnit;
  layouts?: string;
}

type Action = "update" | "replace" | "clear" | "remove";
const ACTIONS: readonly Action[] = ["update", "replace", "clear", "remove"];
const UNITS: readonly EpochUnit[] = ["auto", "s", "ms", "us", "ns"];

interface Options {
  table: string;
  declared?: ColumnPlan[];
  index?: string;
  limit?: number;
  intervalMs: number;
  unit: EpochUnit;
  layouts?: unknown;
}

function parseJson(text: string | undefined, what: string): unknown {
  if (!text || !text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseOptions(config: PerspectiveOutDef): Options {
  const table = (config.table ?? "").trim();
  if (!table) throw new Error("no table name set");
  const schema = parseJson(config.schema, "the schema");
  const declared = schema === undefined ? undefined : plansFromSchema(schema);
  const opts: Options = { table, declared, intervalMs: 50, unit: "auto" };
  if (config.mode === "index") {
    const index = (config.index ?? "").trim();
    if (!index) throw new Error("index mode needs an index column");
    if (declared && !declared.some((p) => p.name === index)) throw new Error(`the index column "${index}" is not in the schema`);
    opts.index = index;
  } else {
    const limit = config.limit === undefined || config.limit === "" ? 1000 : Number(config.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`invalid limit "${config.limit}": a whole number, 0 for no limit`);
    if (limit > 0) opts.limit = limit;
  }
  if (config.interval !== undefined && config.interval !== "") {
    const ms = Number(config.interval);
    if (!Number.isFinite(ms) || ms < 0 || ms > 60000) throw new Error(`invalid update interval "${config.interval}" (0-60000 ms)`);
    opts.intervalMs = ms;
  }
  if (config.tsUnit) {
    if (!UNITS.includes(config.tsUnit)) throw new Error(`invalid timestamp unit "${config.tsUnit}"`);
    opts.unit = config.tsUnit;
  }
  const layouts = parseJson(config.layouts, "the viewer layouts");
  if (layouts !== undefined) {
    const list = Array.isArray(layouts) ? layouts : [layouts];
    if (list.length === 0 || list.length > 4 || !list.every((l) => l && typeof l === "object" && !Array.isArray(l))) {
      throw new Error("the viewer layouts must be one viewer config object or an array of 1 to 4 of them");
    }
    opts.layouts = list;
  }
  return opts;
}

function sameSchema(a: TableSpec, b: TableSpec): boolean {
  const sorted = (s: TableSpec) => ({ ...s, schema: Object.fromEntries(Object.entries(s.schema).sort(([x], [y]) => x.localeCompare(y))) });
  return specKey(sorted(a)) === specKey(sorted(b));
}

function describeRejects(rejected: { index: number; reason: string }[], total: number): string {
  const first = rejected.slice(0, 3).map((r) => `row ${r.index}: ${r.reason}`).join("; ");
  return `${rejected.length} of ${total} rows rejected (${first}${rejected.length > 3 ? "; ..." : ""})`;
}

const DUPLICATE_STATUS = "duplicate table name";

/** The column whose newest value is the age of the data: "ts" when it is a datetime, else the first datetime. */
function timeColumn(plans: readonly ColumnPlan[]): string | undefined {
  const dt = plans.filter((p) => p.kind === "datetime");
  return (dt.find((p) => p.name === "ts") ?? dt[0])?.name;
}

export = function (RED: NodeAPI): void {
  function PerspectiveOut(this: Node, config: PerspectiveOutDef): void {
    RED.nodes.createNode(this, config);
    let opts: Options | undefined;
    let setupError: string | undefined;
    let hosting: Hosting | undefined;
    try {
      opts = parseOptions(config);
      let settings: HostingSettings | undefined;
      if (config.server) {
        const cfg = RED.nodes.getNode(config.server) as PerspectiveConfigNode | null;
        if (!cfg) throw new Error("the Perspective host configuration node is missing");
        if (!cfg.hostingSettings) throw new Error(cfg.settingsError ?? "the Perspective host is not configured");
        settings = cfg.hostingSettings;
      } else {
        settings = { key: "default", path: DEFAULT_PATH };
      }
      if (!settings.port && !RED.server) throw new Error("Node-RED has no HTTP server to serve Perspective on");
      hosting = acquireHosting(RED, settings, (m) => this.warn(m));
      hosting.ready.catch((err: Error) => {
        setupError = err.message;
        this.error(err.message);
        this.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      });
    } catch (err) {
      setupError = (err as Error).message;
      this.status({ fill: "red", shape: "ring", text: setupError.slice(0, 60) });
    }

    let host: PerspectiveHost | undefined;
    let current: HostedTable | undefined;
    let converter: RowConverter | undefined;
    let rowsAccepted = 0;
    let chain: Promise<unknown> = Promise.resolve();

    const sink = async (): Promise<TableSink> => {
      if (!current) throw new Error("no table yet");
      const t = current.table;
      return {
        update: (d) => t.update(d as Record<string, unknown[]>),
        replace: (d) => t.replace(d),
        clear: () => t.clear(),
        remove: (keys) => t.remove(keys),
      };
    };
    const tracker = new TableHealthTracker(RED, this.id);
    /** The status text shown last (cleared to force the next refresh to show its text). */
    let lastText = "";
    const coalescer = new UpdateCoalescer(sink, {
      intervalMs: opts?.intervalMs ?? 50,
      limit: opts?.index ? undefined : opts?.limit,
      onFlushed: (rows) => {
        rowsAccepted += rows;
        if (rows > 0) tracker.rowsApplied();
      },
    });

    // Another node publishing the same table name on the same host mixes its rows into this table (e.g. the
    // example imported twice): both nodes say so in their status and with a warning naming both.
    let duplicateOf: string[] = [];
    const checkDuplicates = (): void => {
      if (!opts || !hosting) return;
      const others = otherPublishers(hosting.key, opts.table, this.id);
      const names = others.map((o) => o.id).sort();
      if (names.join() === duplicateOf.join()) return;
      duplicateOf = names;
      if (others.length > 0) this.warn(duplicateProblem(opts.table, [{ id: this.id, name: this.name || this.id, health: () => tracker.health() }, ...others]));
      lastText = "";
    };
    const unregister =
      opts && hosting
        ? registerTablePublisher(hosting.key, opts.table, { id: this.id, name: this.name || this.id, health: () => tracker.health() }, checkDuplicates)
        : () => undefined;

    /** The table for a message: the declared one, or one derived from msg.columns (replaced when they change). */
    async function tableFor(msg: Record<string, unknown>): Promise<HostedTable> {
      if (!opts || !hosting) throw new Error(setupError ?? "not configured");
      host ??= await hosting.host;
      if (current && host.get(opts.table) !== current) {
        // Replaced or dropped by another node writing the same table name: start over from the host's view.
        current = undefined;
        converter = undefined;
      }
      let plans = opts.declared;
      if (!plans && msg.columns !== undefined) plans = plansFromColumns(msg.columns);
      if (!plans) {
        if (current) return current;
        const existing = host.get(opts.table);
        if (existing && existing.spec.index === opts.index && existing.spec.limit === opts.limit) {
          // Kept from before a redeploy: go on writing into it.
          current = existing;
          converter = new RowConverter(
            Object.entries(existing.spec.schema).map(([name, type]) => ({ name, type, kind: type })),
            opts.unit,
          );
          return current;
        }
        throw new Error("no schema: declare one in the node or send msg.columns (as tdengine-poll does)");
      }
      if (opts.index && !plans.some((p) => p.name === opts!.index)) throw new Error(`the index column "${opts.index}" is not among the columns`);
      const spec: TableSpec = { schema: schemaOf(plans), index: opts.index, limit: opts.index ? undefined : opts.limit };
      const existing = current ?? host.get(opts.table);
      if (existing && sameSchema(existing.spec, spec)) {
        if (!current || !converter) {
          current = existing;
          converter = new RowConverter(plans, opts.unit);
        }
        return current;
      }
      // A new or changed definition: write out what is queued for the old table first.
      await coalescer.flush();
      current = await host.ensure(opts.table, spec);
      converter = new RowConverter(plans, opts.unit);
      if (opts.layouts) host.setLayouts(opts.table, opts.layouts);
      return current;
    }

    function handle(msg: Record<string, unknown>, done: (err?: Error) => void): Promise<void> {
      return (async () => {
        const action = (msg.action ?? "update") as Action;
        if (!ACTIONS.includes(action)) throw new Error(`msg.action must be one of ${ACTIONS.join(", ")}, not ${JSON.stringify(msg.action)}`);
        await tableFor(msg);
        const conv = converter!;
        if (action === "clear") {
          coalescer.push({ kind: "clear" }, (err) => done(err));
          return;
        }
        if (action === "remove") {
          const index = opts!.index;
          if (!index) throw new Error('msg.action "remove" needs a table with an index column');
          const items = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
          const keys = items.map((k) => conv.value(index, k && typeof k === "object" && !(k instanceof Date) ? (k as Record<string, unknown>)[index] : k));
          coalescer.push({ kind: "remove", keys: keys.filter((k) => k !== null) }, (err) => done(err));
          return;
        }
        const batch = conv.convert(msg.payload);
        tracker.rowsSent(newestTimestamp(batch.chunks, timeColumn(conv.plans)));
        const total = batch.rows + batch.rejected.length;
        const rejectErr = batch.rejected.length ? new Error(describeRejects(batch.rejected, total)) : undefined;
        // Nothing valid to write: an update changes nothing, and a replace must not turn into a clear.
        if (batch.rows === 0 && (action === "update" || rejectErr)) {
          done(rejectErr);
          return;
        }
        coalescer.push({ kind: action, chunks: batch.chunks, rows: batch.rows }, (err) => done(err ?? rejectErr));
      })().catch((err: Error) => done(err));
    }

    this.on("input", (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      // In order: a schema change or a clear must not overtake the rows sent before it.
      chain = chain.then(() => handle(msg as unknown as Record<string, unknown>, done));
    });

    if (opts?.declared && hosting) {
      // A declared table exists from the start, so the page can open it before the first row arrives.
      chain = chain.then(() => tableFor({}).catch((err: Error) => this.error(err.message)));
    } else if (opts && hosting) {
      // A derived table kept from before a redeploy is served as it is until the first message.
      void hosting.host.then((h) => {
        host = h;
        if (opts?.layouts && h.get(opts.table)) h.setLayouts(opts.table, opts.layouts);
      }, () => undefined);
    }

    // Status: rows in the table, clients connected, rows accepted per second.
    let lastCount = 0;
    let lastTime = Date.now();
    const statusTimer = setInterval(() => {
      if (setupError || !hosting) return;
      const t = current ?? host?.get(opts!.table);
      const now = Date.now();
      const rate = Math.round(((rowsAccepted - lastCount) * 1000) / Math.max(1, now - lastTime));
      lastCount = rowsAccepted;
      lastTime = now;
      const clients = hosting.clients();
      const show = (size: number | undefined): void => {
        if (duplicateOf.length > 0) {
          if (lastText === DUPLICATE_STATUS) return;
          lastText = DUPLICATE_STATUS;
          this.status({ fill: "yellow", shape: "ring", text: DUPLICATE_STATUS });
          return;
        }
        // Short enough for the canvas (about 30 characters); the help explains each part.
        const text = `${size === undefined ? "no table" : `${size} rows`} · ${clients} ${clients === 1 ? "client" : "clients"} · ${rate}/s`;
        if (text === lastText) return;
        lastText = text;
        this.status({ fill: size === undefined ? "grey" : "green", shape: clients > 0 ? "dot" : "ring", text });
      };
      if (!t) return show(undefined);
      t.table.size().then(show, () => show(undefined));
    }, 1000);
    statusTimer.unref();

    this.on("close", (removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      unregister();
      const finish = async (): Promise<void> => {
        await chain.catch(() => undefined);
        await coalescer.close();
        if (removed && opts && hosting) {
          const h = await hosting.host.catch(() => undefined);
          h?.drop(opts.table);
        }
        await hosting?.release(removed);
      };
      const deadline = new Promise<void>((r) => setTimeout(r, 10000).unref());
      Promise.race([finish(), deadline]).then(
        () => {
          this.status({});
          done();
        },
        () => done(),
      );
    });
  }
  RED.nodes.registerType("perspective-out", PerspectiveOut);
};
