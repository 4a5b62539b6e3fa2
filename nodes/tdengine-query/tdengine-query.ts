// tdengine-query: runs one SQL statement per input message and sends the result. A thin Node-RED adapter over
// lib/query (placeholders, settings, values, the per-node queue) and the client's streaming API: results are
// read block by block, so per-block and per-row output hold one block at a time.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import {
  bindStatement,
  MAX_QUEUED,
  parseQueryNodeSettings,
  QueryQueue,
  QueueStoppedError,
  queryRowConverter,
  rowCapError,
  statementText,
  type BoundStatement,
  type QueryNodeOptions,
  type QueryNodeSettings,
} from "../../lib/query";
import type { QueryStream } from "../../lib/tdengine/api";
import { closeWithin } from "../shared/close-within";
import { connectionStatusLine } from "../shared/connection-status";
import type { ConnectionStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface QueryNodeDef extends NodeDef, QueryNodeSettings {
  server?: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: NodeMessage | NodeMessage[]) => void;

/** How long a query waits for the shared connection. */
const CONNECT_WAIT_MS = 5000;
/** Status texts stay short (the editor shows them under the node). */
const STATUS_MAX = 29;

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

function short(text: string): string {
  return text.length <= STATUS_MAX ? text : `${text.slice(0, STATUS_MAX - 1)}…`;
}

/** msg.parts of one message of a sequence, nesting the parts of the input like core split does. */
function partsOf(id: string, index: number, len: number, last: boolean, outer: unknown): Record<string, unknown> {
  const parts: Record<string, unknown> = { id, index, type: "array", len };
  if (last) parts.count = index + 1;
  if (outer !== undefined) parts.parts = outer;
  return parts;
}

/**
 * Calls `onBlock` with each block's rows. The next block is asked for before `onBlock` runs, so converting and
 * sending one block overlaps the server preparing the next: one fetch in flight, one block being handled.
 * Stopping early (onBlock throws) closes the stream, which frees the result.
 */
async function eachBlock(stream: QueryStream, onBlock: (rows: unknown[][]) => void): Promise<void> {
  const it = stream[Symbol.asyncIterator]();
  try {
    let next = it.next();
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      next.catch(() => undefined); // an error is taken when it is awaited (or ignored once we stopped)
      onBlock(r.value.rows);
    }
  } finally {
    await it.return?.();
  }
}

export = function (RED: NodeAPI): void {
  function TdengineQueryNode(this: Node, config: QueryNodeDef): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: QueryNodeDef): void {
    const server = config.server ? (RED.nodes.getNode(config.server) as unknown as TdengineConfigNode | null) : null;
    let opts: QueryNodeOptions;
    try {
      if (!server) throw new Error(RED._("tdengine-query.errors.no-connection"));
      opts = parseQueryNodeSettings(config);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      node.error(RED._("tdengine-query.errors.config", { message: e.message }));
      node.status({ fill: "red", shape: "ring", text: "tdengine-query.status.config-error" });
      node.on("input", (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(e));
      return;
    }

    const queue = new QueryQueue(opts.concurrency, MAX_QUEUED);
    let closing = false;
    let last: { rows: number; ms: number } | undefined;
    let lastError: string | undefined;

    function renderStatus(connection: ConnectionStatus): NodeStatus {
      if (connection.state !== "connected") {
        const key = connection.state === "connecting" ? "connecting" : "disconnected";
        return { fill: connection.state === "connecting" ? "yellow" : "red", shape: "ring", text: `node-red:common.status.${key}` };
      }
      if (queue.active > 0) {
        const text = queue.queued > 0 ? RED._("tdengine-query.status.queued", { count: queue.queued }) : RED._("tdengine-query.status.running");
        return { fill: "blue", shape: "dot", text: short(text) };
      }
      if (lastError) return { fill: "red", shape: "ring", text: short(RED._("tdengine-query.status.error", { message: lastError })) };
      if (last) return { fill: "green", shape: "dot", text: short(RED._("tdengine-query.status.done", { rows: last.rows, time: formatDuration(last.ms) })) };
      return { fill: "green", shape: "dot", text: "tdengine-query.status.ready" };
    }

    server.register(node);
    const statusLine = connectionStatusLine(node, server, renderStatus);
    const refresh = (): void => {
      if (!closing) statusLine.refresh();
    };

    /** Sends the stream's rows as the node's output mode asks; returns the number of rows. */
    async function sendRows(stream: QueryStream, msg: Msg, send: Send): Promise<number> {
      const conv = queryRowConverter(stream.columns, stream.precision, opts);
      const base = { ...msg, columns: stream.columns };
      const seq = RED.util.generateId();
      let rows = 0;
      if (opts.output === "all") {
        const payload: Record<string, unknown>[] = [];
        await eachBlock(stream, (block) => {
          if (payload.length + block.length > opts.maxRows) throw rowCapError(opts.maxRows);
          for (const r of block) payload.push(conv.convert(r));
        });
        if (!closing) send({ ...base, payload } as NodeMessage);
        return payload.length;
      }
      // A sequence: each message is sent once the next block shows whether it was the last (msg.parts.count).
      let pending: { payload: unknown[] } | undefined;
      let index = 0;
      const flush = (isLast: boolean): void => {
        if (!pending || closing) return;
        if (opts.output === "block") {
          // len > 1 tells a join node to concatenate the blocks' arrays into one array of rows.
          send({ ...base, payload: pending.payload, parts: partsOf(seq, index++, Math.max(2, pending.payload.length), isLast, msg.parts) } as NodeMessage);
        } else {
          const n = pending.payload.length;
          pending.payload.forEach((row, i) => send({ ...base, payload: row, parts: partsOf(seq, index++, 1, isLast && i === n - 1, msg.parts) } as NodeMessage));
        }
        pending = undefined;
      };
      await eachBlock(stream, (block) => {
        if (block.length === 0) return;
        const payload = block.map((r) => conv.convert(r));
        flush(false);
        pending = { payload };
        rows += block.length;
      });
      flush(true);
      return rows;
    }

    async function run(msg: Msg, bound: BoundStatement, send: Send, signal: AbortSignal): Promise<void> {
      const client = await server!.getClient(CONNECT_WAIT_MS);
      const t0 = performance.now();
      const stream = await client.queryStreamWithParams(bound.sql, bound.params, { signal, deadlineMs: opts.deadlineMs });
      let rows: number;
      try {
        if (stream.affectedRows !== undefined) {
          rows = stream.affectedRows;
          if (!closing) send({ ...msg, payload: { affectedRows: stream.affectedRows } } as NodeMessage);
        } else {
          rows = await sendRows(stream, msg, send);
        }
      } finally {
        await stream.close(); // frees the result when sending stopped early (row cap, error, close)
      }
      last = { rows, ms: performance.now() - t0 };
      lastError = undefined;
    }

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      const m = msg as Msg;
      let finished = false;
      const finish = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        if (err === undefined || err instanceof QueueStoppedError) done();
        else done(server!.redact(err instanceof Error ? err : new Error(String(err))));
      };
      let bound: BoundStatement;
      try {
        const sql = statementText(opts, m.topic);
        m.sql = sql; // on the message for Catch nodes, with msg.params
        bound = bindStatement(sql, m.params);
      } catch (err) {
        lastError = (err as Error).message;
        refresh();
        finish(err);
        return;
      }
      queue
        .run((signal) => run(m, bound, send, signal))
        .then(
          () => finish(),
          (err: unknown) => {
            if (!(err instanceof QueueStoppedError) && !closing) lastError = server.redact(err instanceof Error ? err : new Error(String(err))).message;
            finish(closing ? undefined : err);
          },
        )
        .finally(refresh);
      refresh();
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closing = true;
      statusLine.dispose();
      // Running queries are aborted: the client stops fetching and frees their results.
      queue.stopAll();
      closeWithin(node, server, queue.idle(), done);
    });
  }

  RED.nodes.registerType("tdengine-query", TdengineQueryNode);
};
