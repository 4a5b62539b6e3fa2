// tdengine-write: a thin Node-RED adapter over lib/write. It turns msg into a WriteRequest, reports each
// message's outcome through done() exactly once (done(err) with the original msg and msg.errors when rows were
// rejected), optionally sends {written, rejected, latencyMs}, shows connection state / rows/s / buffered rows /
// last error in its status, and flushes its buffer on close within a time limit.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { pipelineSettings, RateMeter, WritePipeline, type RowError, type WriteNodeSettings, type WriterEvent } from "../../lib/write";
import { connectionStatusLine, formatRate } from "../shared/connection-status";
import type { ConnectionStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface WriteNodeDef extends NodeDef, WriteNodeSettings {
  server?: string;
}

type Done = (err?: Error) => void;
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
    let lastError: string | undefined;
    let outage = false;
    try {
      if (!server) throw new Error(RED._("tdengine-write.errors.no-connection"));
      settings = pipelineSettings(config, server.database ?? "");
      pipeline = new WritePipeline({
        ...settings,
        getClient: (wait) => server.getClient(wait),
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


    function onWriterEvent(e: WriterEvent): void {
      if (e.type === "written") rate.add(e.rows);
      else if (e.type === "outage") {
        outage = true;
        lastError = e.error.message;
      } else if (e.type === "recovered") outage = false;
      else if (e.type === "rejected") lastError = e.error.message;
      updateStatus();
    }

    function renderStatus(connection: ConnectionStatus): NodeStatus {
      const buffered = pipeline.pendingRows;
      let s: NodeStatus;
      if (connection.state === "connecting") s = { fill: "yellow", shape: "ring", text: RED._("tdengine-write.status.connecting", { buffered }) };
      else if (connection.state !== "connected") {
        const why = connection.error?.message ?? "";
        s = { fill: "red", shape: "ring", text: RED._("tdengine-write.status.disconnected", { buffered, message: why.slice(0, 60) }) };
      } else if (outage) s = { fill: "red", shape: "ring", text: RED._("tdengine-write.status.retrying", { buffered, message: (lastError ?? "").slice(0, 60) }) };
      else {
        const parts = [RED._("tdengine-write.status.rate", { rate: formatRate(rate.perSecond()) }), RED._("tdengine-write.status.buffered", { buffered })];
        if (lastError) parts.push(RED._("tdengine-write.status.last-error", { message: lastError.slice(0, 60) }));
        s = { fill: lastError ? "yellow" : "green", shape: "dot", text: parts.join(" · ") };
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
        if (err) {
          lastError = err.message;
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
          msg.errors = out.failed;
          finish(new Error(RED._("tdengine-write.errors.rejected", { count: out.failed.length, total, first: firstReason(out.failed) })));
        })
        .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
      updateStatus();
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      statusLine.dispose();
      void pipeline
        .close(settings.closeTimeoutMs)
        .then(({ unwritten }) => {
          if (unwritten > 0) {
            node.error(RED._("tdengine-write.errors.unwritten", { count: unwritten, ms: settings.closeTimeoutMs }), { payload: { unwritten } } as NodeMessage);
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
