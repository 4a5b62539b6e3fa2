// tdengine-subscribe: a thin Node-RED adapter over lib/subscribe (the consuming loop) and the TMQ consumer the
// tdengine-config node creates. It owns the messages (one per TMQ message or per row), the receipts that decide
// what may be committed, the control messages, the status and the health entry the dashboard reads.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { ErrorLatch, makeRowConverter, RateMeter, type RowConverter } from "../../lib/poll";
import { DeliveryTracker, parseSubscribeSettings, parseControl, Subscriber, type Control, type SubscribeNodeSettings, type SubscribeOptions } from "../../lib/subscribe";
import type { TmqMessage } from "../../lib/tdengine/tmq";
import { quoteIdentifier } from "../../lib/tdengine/identifiers";
import { TYPE } from "../../lib/tdengine/constants";
import type { ColumnMeta } from "../../lib/tdengine/api";
import type { TmqConsumer } from "../../lib/tdengine/tmq-consumer";
import { clearSourceHealth, publishSourceHealth, type SourceState } from "../../lib/health/source-health";
import { epochToMs, toEpoch } from "../../lib/poll/timestamps";
import { connectionStatusLine, formatRate } from "../shared/connection-status";
import { closeWithin } from "../shared/close-within";
import { formatLag, shortText, STATUS_MAX } from "../shared/status-text";
import { installReceiptHook } from "../shared/receipt-hook";
import type { ConnectionStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface SubscribeNodeDef extends NodeDef, SubscribeNodeSettings {
  server?: string;
}

/** Messages of every subscribe node awaiting receipts, by message id (see nodes/shared/receipt-hook.ts). */
const inFlight = new Map<string, DeliveryTracker>();

export = function (RED: NodeAPI): void {
  const tracking = installReceiptHook(RED, "tdengine-subscribe", inFlight);

  function TdengineSubscribeNode(this: Node, config: SubscribeNodeDef): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: SubscribeNodeDef): void {
    const server = config.server ? (RED.nodes.getNode(config.server) as unknown as TdengineConfigNode | null) : null;
    let opts: SubscribeOptions;
    let consumer: TmqConsumer;
    try {
      if (!server) throw new Error(RED._("tdengine-subscribe.errors.no-connection"));
      opts = parseSubscribeSettings(config, node.id);
      consumer = server.createConsumer({
        groupId: opts.groupId,
        clientId: opts.clientId,
        offsetReset: opts.offsetReset,
        topics: opts.topics,
        autoCommit: false,
        withTableName: true,
      });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      node.error(RED._("tdengine-subscribe.errors.config", { message: e.message }), { payload: undefined } as NodeMessage);
      node.status({ fill: "red", shape: "ring", text: "tdengine-subscribe.status.config-error" });
      node.on("input", (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(e));
      return;
    }

    const latch = new ErrorLatch();
    const rate = new RateMeter();
    const tracker = new DeliveryTracker();
    let newestMs: number | undefined;
    let lastError: Error | undefined;
    let lastFailure: { message: string; at: number } | undefined;
    let closing = false;
    const converters = new Map<string, RowConverter>();

    /** Row objects of one block; a `tbname` field from the block's table name unless a column has that name. */
    const rowsOf = (message: TmqMessage): { rows: Record<string, unknown>[]; newest?: number } => {
      const out: Record<string, unknown>[] = [];
      let newest: number | undefined;
      for (const b of message.blocks) {
        const shape = b.precision + "|" + b.columns.map((c) => `${c.name}:${c.type}`).join(",");
        let conv = converters.get(shape);
        if (!conv) {
          if (converters.size > 100) converters.clear(); // a topic whose schema keeps changing must not grow this
          conv = makeRowConverter(b.columns, b.precision, opts.timestamps);
          converters.set(shape, conv);
        }
        const ts = b.columns.findIndex((c) => c.type === 9);
        const addTbname = opts.includeTbname && b.table !== undefined && !b.columns.some((c) => c.name === "tbname");
        const key = opts.keyField;
        for (const r of b.rows) {
          const o = conv.convert(r);
          if (addTbname) o.tbname = b.table;
          // The raw timestamp (database precision) with the subtable: unique per row, so an indexed table upserts.
          if (key) o[key] = `${b.table ?? ""}|${ts >= 0 ? String(r[ts]) : ""}`;
          out.push(o);
          if (ts >= 0) {
            const epoch = toEpoch(r[ts], b.columns[ts].precision ?? b.precision);
            if (epoch !== undefined) {
              const ms = epochToMs(epoch, b.columns[ts].precision ?? b.precision);
              if (newest === undefined || ms > newest) newest = ms;
            }
          }
        }
      }
      return newest === undefined ? { rows: out } : { rows: out, newest };
    };

    /** The metadata of what a row holds: the message's columns, then the added tbname and key fields. */
    const columnsOf = (message: TmqMessage): ColumnMeta[] => {
      const cols = [...message.columns];
      const text = (name: string): ColumnMeta => ({ name, type: TYPE.VARCHAR, typeName: "VARCHAR", length: 192 });
      const tabled = message.blocks.some((b) => b.table !== undefined);
      if (opts.includeTbname && tabled && !cols.some((c) => c.name === "tbname")) cols.push(text("tbname"));
      if (opts.keyField && !cols.some((c) => c.name === opts.keyField)) cols.push(text(opts.keyField));
      return cols;
    };

    const deliver = (message: TmqMessage): Promise<boolean> => {
      if (closing) return Promise.resolve(false);
      const { rows, newest } = rowsOf(message);
      const base = { topic: message.topic, vgroup: message.vgroupId, offset: message.offset, database: message.database, columns: columnsOf(message) };
      const msgs: NodeMessage[] = opts.output === "row" ? rows.map((r) => ({ ...base, payload: r }) as NodeMessage) : [{ ...base, payload: rows } as NodeMessage];
      const ids = msgs.map((m) => (m._msgid = RED.util.generateId()));
      const destinations = tracking ? ((node as Node & { wires?: string[][] }).wires?.[0]?.filter((d) => RED.nodes.getNode(d)).length ?? 0) : 0;
      const received = tracker.expect(ids, destinations);
      if (destinations > 0) for (const id of ids) inFlight.set(id, tracker);
      for (const m of msgs) node.send(m);
      rate.add(rows.length);
      if (newest !== undefined && (newestMs === undefined || newest > newestMs)) newestMs = newest;
      return received.finally(() => {
        for (const id of ids) inFlight.delete(id);
      });
    };

    const subscriber = new Subscriber({
      consumer,
      commit: opts.commit,
      commitIntervalMs: opts.commitIntervalMs,
      pollWaitMs: opts.pollWaitMs,
      deliver,
      onError: (err) => {
        lastError = err;
        lastFailure = { message: err.message, at: Date.now() };
        if (closing) return;
        if (latch.fail(err)) node.error(RED._("tdengine-subscribe.errors.consume", { message: err.message }), { topic: opts.topics.join(","), payload: undefined } as NodeMessage);
        statusLine.refresh();
      },
      onRecovered: () => {
        lastError = undefined;
        if (latch.succeed()) node.log(RED._("tdengine-subscribe.log.recovered"));
        statusLine.refresh();
      },
    });

    // The node's status follows its own TMQ connection, not the config node's SQL connection.
    const connectionView = {
      get connectionStatus(): ConnectionStatus {
        return consumer.status;
      },
      onState: (l: (s: ConnectionStatus) => void) => consumer.onState(l),
    };

    function sourceState(connection: ConnectionStatus): SourceState {
      if (connection.state === "connected") return lastError ? "error" : "connected";
      return connection.state === "closed" ? "disconnected" : connection.state;
    }

    function renderStatus(connection: ConnectionStatus): NodeStatus {
      if (connection.state === "disconnected" && connection.error && lastFailure?.message !== connection.error.message) {
        lastFailure = { message: connection.error.message, at: Date.now() };
      }
      publishSourceHealth({ id: node.id, name: node.name || node.id, type: "tdengine-subscribe", state: sourceState(connection), lastError: lastFailure });
      if (connection.state !== "connected") {
        const key = connection.state === "connecting" ? "connecting" : "disconnected";
        return { fill: connection.state === "connecting" ? "yellow" : "red", shape: "ring", text: `node-red:common.status.${key}` };
      }
      if (lastError) {
        const prefix = RED._("tdengine-subscribe.status.error", { message: "" });
        return { fill: "red", shape: "ring", text: prefix + shortText(lastError.message, Math.max(12, STATUS_MAX - prefix.length)) };
      }
      if (subscriber.isPaused) return { fill: "grey", shape: "dot", text: "tdengine-subscribe.status.paused" };
      const parts = [RED._("tdengine-subscribe.status.rate", { rate: formatRate(rate.perSecond()) })];
      if (newestMs !== undefined) parts.push(RED._("tdengine-subscribe.status.lag", { lag: formatLag(Date.now() - newestMs) }));
      if (subscriber.vgroups !== undefined) parts.push(RED._("tdengine-subscribe.status.vgroups", { count: subscriber.vgroups }));
      return { fill: "green", shape: "dot", text: parts.join(" · ") };
    }
    const statusLine = connectionStatusLine(node, connectionView, renderStatus);

    // A topic typed as a SELECT is created (IF NOT EXISTS) over the SQL connection before subscribing.
    let usesSql = false;
    const ready = (async (): Promise<void> => {
      if (!opts.createTopic) return;
      usesSql = true;
      server.register(node);
      for (;;) {
        try {
          const client = await server.getClient();
          if (server.database) await client.exec(`USE ${quoteIdentifier(server.database, "database")}`);
          await client.exec(opts.createTopic);
          return;
        } catch (err) {
          if (closing) throw err;
          lastError = err as Error;
          if (latch.fail(err)) node.error(RED._("tdengine-subscribe.errors.create-topic", { message: (err as Error).message }), { payload: undefined } as NodeMessage);
          statusLine.refresh();
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })();
    void ready.then(
      () => {
        if (closing) return;
        lastError = undefined;
        latch.succeed();
        subscriber.start();
      },
      () => undefined,
    );

    node.on("input", (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      let control: Control | undefined;
      try {
        control = parseControl(msg as unknown as Record<string, unknown>, opts.topics);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (!control) {
        done(new Error(RED._("tdengine-subscribe.errors.unknown-control")));
        return;
      }
      if (control.kind === "pause") {
        subscriber.pause();
        statusLine.refresh();
        done();
      } else if (control.kind === "resume") {
        subscriber.resume();
        statusLine.refresh();
        done();
      } else if (control.kind === "commit") {
        subscriber.commit().then(() => done(), (err: Error) => done(err));
      } else if (control.kind === "seek") {
        Promise.all(control.targets.map((t) => subscriber.seek(t))).then(() => done(), (err: Error) => done(err));
      }
    });

    node.on("close", (removed: boolean, done: () => void) => {
      closing = true;
      statusLine.dispose();
      clearSourceHealth(node.id);
      // Receipts of messages sent just before the stop arrive within a tick; after a second none is awaited more.
      const cancel = setTimeout(() => tracker.cancel(), 1000);
      const stopped = subscriber.close().finally(() => {
        clearTimeout(cancel);
        tracker.cancel();
      });
      if (usesSql) closeWithin(node, server, stopped, done);
      else {
        void stopped.catch((err: unknown) => node.warn(String(err))).finally(() => {
          node.status({});
          done();
        });
      }
    });
  }

  RED.nodes.registerType("tdengine-subscribe", TdengineSubscribeNode);
};
