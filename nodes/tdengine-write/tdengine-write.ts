// tdengine-write: a thin Node-RED adapter over lib/write. It turns msg into a WriteRequest, reports each
// message's outcome through done() exactly once (done(err) with the original msg and msg.errors when rows were
// rejected), optionally sends {written, rejected, latencyMs}, shows connection state / rows/s / buffered rows /
// the age of the last error in its status, and flushes its buffer on close within a time limit. Under an
// outage it reports the first failure at once (one catchable error), the refusals of a full buffer as the
// first one plus a summary every 30 s, and publishes its state to the health registry for the dashboard.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { clearSourceHealth, publishSourceHealth, type SourceState } from "../../lib/health/source-health";
import { BufferFullError, pipelineSettings, RateMeter, RefusalTracker, WritePipeline, type RefusalSummary, type RowError, type WriteNodeSettings, type WriterEvent } from "../../lib/write";
import { connectionStatusLine, formatRate } from "../shared/connection-status";
import { formatAge } from "../shared/status-text";
import type { ConnectionStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface WriteNodeDef extends NodeDef, WriteNodeSettings {
  server?: string;
}

type Done = (err?: Error) => void;

/** How often repeated refusals of a full buffer are summarised (one catchable error each time). */
const REFUSAL_SUMMARY_MS = 30000;

type Send = (msg: NodeMessage | NodeMessage[]) => void;

function firstReason(errors: RowError[]): string {
  const e = errors[0];
  return `row ${e.index}${e.field ? ` (${e.field})` : ""}: ${e.reason}`;
}

export = function (RED: NodeAPI): void {
  function TdengineWriteNode(this: Node, config: WriteNodeDef): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: WriteNodeDef): void {
    const server = config.server ? (RED.nodes.getNode(config.server) as unknown as TdengineConfigNode | null) : null;
    let settings: ReturnType<typeof pipelineSettings>;
    let pipeline: WritePipeline;
    const rate = new RateMeter();
    let lastError: { message: string; at: number } | undefined;
    let outage = false;
    const refusals = new RefusalTracker(REFUSAL_SUMMARY_MS);
    const bound = (): number => pipeline.writer.bound;
    try {
      if (!server) throw new Error(RED._("tdengine-write.errors.no-connection"));
      settings = pipelineSettings(config, server.database ?? "");
      pipeline = new WritePipeline({
        ...settings,
        getClient: (wait) => server.getClient(wait),
        failingOver: () => server.connectionStatus.failingOver === true,
        onEvent: (e: WriterEvent) => onWriterEvent(e),
      });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const bad = new Error(RED._("tdengine-write.errors.config", { message: e.message }));
      node.error(bad.message, { payload: undefined } as NodeMessage);
      node.status({ fill: "red", shape: "ring", text: "tdengine-write.status.config-error" });
      node.on("input", (_msg: NodeMessageInFlow, _send: Send, done: Done) => done(bad));
      return;
    }


    function onWriterEvent(event: WriterEvent): void {
      // Server texts may echo what they were sent: the connection's secrets are masked before anyone sees them.
      // Pollers of the table wait for the batch instead of reading it half-landed.
      if (event.type === "sending") return void server!.rowsLanded?.(event.database, event.stable, true);
      const e = event.type === "outage" || event.type === "rejected" ? { ...event, error: server!.redact(event.error) } : event;
      if (e.type === "written") {
        rate.add(e.rows);
        // The pollers of this table in this Node-RED read the rows now instead of at their next tick.
        server!.rowsLanded?.(e.database, e.stable, e.more);
      }
      else if (e.type === "outage") {
        outage = true;
        lastError = { message: e.error.message, at: Date.now() };
        // The first failure of an outage reaches Catch/Debug at once; rows stay buffered and are retried.
        node.error(RED._("tdengine-write.errors.outage", { message: e.error.message, buffered: pipeline.pendingRows, bound: bound() }), {
          payload: { buffered: pipeline.pendingRows, bound: bound() },
        } as NodeMessage);
      } else if (e.type === "recovered") {
        outage = false;
        node.log(RED._("tdengine-write.log.recovered", { buffered: pipeline.pendingRows }));
      } else if (e.type === "rejected") lastError = { message: e.error.message, at: Date.now() };
      updateStatus();
    }

    function reportRefusals(s: RefusalSummary | undefined): void {
      if (!s) return;
      node.error(RED._("tdengine-write.errors.refused-summary", { messages: s.messages, rows: s.rows, seconds: Math.round((Date.now() - s.since) / 1000) }), {
        payload: { refusedMessages: s.messages, refusedRows: s.rows, bound: bound() },
      } as NodeMessage);
    }

    function sourceState(connection: ConnectionStatus): SourceState {
      if (connection.state === "connected") return outage ? "error" : "connected";
      return connection.state === "closed" ? "disconnected" : connection.state;
    }

    function renderStatus(connection: ConnectionStatus): NodeStatus {
      const buffered = pipeline.pendingRows;
      // Room again for the last refused message: the refusals are over.
      if (refusals.refusingSince !== undefined && buffered + refusals.lastRefusedRows <= bound()) reportRefusals(refusals.end());
      else reportRefusals(refusals.due());
      const connError = connection.error ? { message: connection.error.message, at: Date.now() } : undefined;
      if (connection.state === "disconnected" && connError && (!lastError || lastError.message !== connError.message)) lastError = connError;
      publishSourceHealth({ id: node.id, name: node.name || node.id, type: "tdengine-write", state: sourceState(connection), lastError });
      let s: NodeStatus;
      if (refusals.refusingSince !== undefined) s = { fill: "red", shape: "ring", text: RED._("tdengine-write.status.refusing") };
      else if (connection.state === "connecting") s = { fill: "yellow", shape: "ring", text: RED._("tdengine-write.status.connecting", { buffered }) };
      else if (connection.state !== "connected") s = { fill: "red", shape: "ring", text: RED._("tdengine-write.status.disconnected", { buffered }) };
      else if (outage) s = { fill: "red", shape: "ring", text: RED._("tdengine-write.status.retrying", { buffered }) };
      else {
        // The current state first; a past error only with its age.
        const parts = [RED._("tdengine-write.status.rate", { rate: formatRate(rate.perSecond()) })];
        if (lastError) parts.push(RED._("tdengine-write.status.error-age", { age: formatAge(Date.now() - lastError.at) }));
        else if (buffered > 0) parts.push(RED._("tdengine-write.status.buffered", { buffered }));
        s = { fill: "green", shape: "dot", text: parts.join(" · ") };
      }
      return s;
    }

    server.register(node);
    const statusLine = connectionStatusLine(node, server, renderStatus);
    const updateStatus = (): void => statusLine.refresh();

    node.on("input", (msg: NodeMessageInFlow & Record<string, unknown>, send: Send, done: Done) => {
      // done() exactly once per message, whatever happens after the write settles.
      let finished = false;
      const finish = (err?: Error): void => {
        if (finished) return;
        finished = true;
        if (err instanceof BufferFullError) {
          // The first refusal of an episode goes to Catch; the rest are counted and summarised. A flow that
          // must act on each refused message gets it on the optional output, marked `refused`.
          const first = refusals.refuse(err.rows);
          updateStatus();
          if (first) return done(err);
          if (settings.output) send({ ...msg, payload: { written: 0, rejected: err.rows, latencyMs: 0, refused: err.message } } as NodeMessage);
          return done();
        }
        if (err) {
          err = server.redact(err);
          lastError = { message: err.message, at: Date.now() };
          updateStatus();
        }
        done(err);
      };
      pipeline
        .write({ payload: msg.payload, stable: msg.stable, table: msg.table, tags: msg.tags })
        .then((out) => {
          const total = out.written + out.failed.length;
          if (settings.output) send({ ...msg, payload: { written: out.written, rejected: out.failed.length, latencyMs: out.latencyMs } } as NodeMessage);
          if (out.failed.length === 0) return finish();
          msg.errors = out.failed.map((r) => ({ ...r, reason: server.redact(new Error(r.reason)).message }));
          finish(new Error(RED._("tdengine-write.errors.rejected", { count: out.failed.length, total, first: firstReason(msg.errors as RowError[]) })));
        })
        .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
      updateStatus();
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      statusLine.dispose();
      clearSourceHealth(node.id);
      reportRefusals(refusals.end());
      void pipeline
        .close(settings.closeTimeoutMs)
        .then(({ unwritten }) => {
          if (unwritten > 0) {
            // Say why: usually TDengine was unreachable, which the connection's last error tells.
            const conn = statusLine.connection;
            const why =
              conn.state !== "connected"
                ? RED._("tdengine-write.errors.why-unreachable", { message: conn.error?.message ?? conn.state })
                : RED._("tdengine-write.errors.why-slow", { ms: settings.closeTimeoutMs });
            const text = RED._("tdengine-write.errors.unwritten", { count: unwritten, why });
            node.error(text, { payload: { unwritten } } as NodeMessage);
            // A Catch node takes the error out of the log; on a stop (Ctrl-C) the log is where the user looks.
            node.warn(text);
          }
        })
        .catch(() => undefined)
        .then(() => server.deregister(node))
        .catch(() => undefined)
        .then(() => {
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType("tdengine-write", TdengineWriteNode as unknown as (this: Node, c: NodeDef) => void);
};
