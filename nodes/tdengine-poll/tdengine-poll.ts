// tdengine-poll: a thin Node-RED adapter over lib/poll. It owns the timer, the node status, the watermark's
// persistence in node context, and done()/error reporting; the exactly-once logic lives in lib/poll.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import {
  ErrorLatch,
  HandoverLedger,
  parsePollNodeSettings,
  Poller,
  pollMessage,
  RateMeter,
  TickScheduler,
  type PollNodeOptions,
  type PollNodeSettings,
} from "../../lib/poll";
import { clearSourceHealth, publishSourceHealth, type SourceState } from "../../lib/health/source-health";
import { isTransportError } from "../../lib/write";
import { closeWithin } from "../shared/close-within";
import { connectionStatusLine, formatRate } from "../shared/connection-status";
import { formatLag, shortText, STATUS_MAX } from "../shared/status-text";
import { installReceiptHook } from "../shared/receipt-hook";
import type { ConnectionStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface PollNodeDef extends NodeDef, PollNodeSettings {
  server?: string;
}

/** Node-context key of the persisted watermark. */
const STATE_KEY = "tdengine-poll-watermark";
/** How long a poll waits for the shared connection before counting as a failure. */
const CONNECT_WAIT_MS = 5000;
/** Longest wait between failed interval polls (one query per 2 s during an outage is cheap). */
const FAILURE_BACKOFF_MAX_MS = 2000;
/** Polls woken by local writes start at least this far apart (ms): fresh rows without a poll per batch. */
const WAKE_FLOOR_MS = 30;
/** How long close waits for messages sent just before it to reach (or miss) their destinations. */
const HANDOVER_WAIT_MS = 1000;

/**
 * Messages of every poll node still waiting for receipts, by message id: the runtime-wide onReceive hook looks
 * them up here (one Map lookup per message in the runtime, none of its work when nothing is in flight).
 */
const inFlight = new Map<string, HandoverLedger<unknown>>();

type Control = "reset" | "pause" | "resume" | undefined;

function controlOf(msg: NodeMessageInFlow & Record<string, unknown>): Control {
  if (msg.reset === true || msg.topic === "reset") return "reset";
  if (msg.pause === true || msg.topic === "pause") return "pause";
  if (msg.resume === true || msg.topic === "resume") return "resume";
  return undefined;
}

export = function (RED: NodeAPI): void {
  // Node-RED drops a node's context on a full deploy unless a persistent context store is configured, so each
  // poller's last saved state is also kept here, per node id, for as long as this runtime has the node type
  // registered: a redeploy resumes from the watermark instead of starting over and sending every row again.
  // Removing the node (or a reset) forgets it; a restart starts from the context store, as documented.
  const keptStates = new Map<string, unknown>();

  // Messages not received by a running node are rewound on close (see HandoverLedger). Without the hooks API (not
  // offered by every test harness) messages are not tracked and nothing is rewound.
  const tracking = installReceiptHook(RED, "tdengine-poll", inFlight);

  function TdenginePollNode(this: Node, config: PollNodeDef): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: PollNodeDef): void {
    const server = config.server ? (RED.nodes.getNode(config.server) as unknown as TdengineConfigNode | null) : null;

    let opts: PollNodeOptions;
    let poller: Poller;
    try {
      if (!server) throw new Error(RED._("tdengine-poll.errors.no-connection"));
      opts = parsePollNodeSettings(config, server.database ?? "");
      poller = new Poller(opts.poller);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      node.error(RED._("tdengine-poll.errors.config", { message: e.message }), { payload: undefined } as NodeMessage);
      node.status({ fill: "red", shape: "ring", text: "tdengine-poll.status.config-error" });
      node.on("input", (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(e));
      return;
    }
    const store = opts.contextStore || undefined;
    const latch = new ErrorLatch();
    /** A poll failed during a failover and was not reported (see the scheduler's failure handler). */
    let failoverRetry = false;
    const rate = new RateMeter();
    /** Epoch ms of the newest row sent; the status shows now minus this as the lag. */
    let newestMs: number | undefined;
    let warnedNoTs = false;
    let warnedStalled = false;
    let lastError: Error | undefined;
    /** The last failure and when it happened, kept after recovery for the dashboard's health. */
    let lastFailure: { message: string; at: number } | undefined;
    let closing = false;

    const context = node.context();
    let savedWatermark: string | undefined;
    /** The state saved last: what a message's rows are sent on top of. */
    let lastSaved: unknown;
    const persist = (snap: unknown): void => {
      lastSaved = snap;
      keptStates.set(node.id, snap);
      context.set(STATE_KEY, snap, store, (err?: Error) => {
        if (err) node.warn(RED._("tdengine-poll.errors.save", { message: err.message }));
      });
    };
    const save = (): void => {
      const snap = poller.snapshot();
      savedWatermark = snap?.watermark;
      persist(snap);
    };
    const ledger = new HandoverLedger<unknown>();
    /** Sends rows, noting the state to go back to should the message not reach its (running) destinations. */
    const sendRows = (msg: NodeMessage): void => {
      const id = RED.util.generateId();
      msg._msgid = id;
      const destinations = tracking ? ((node as Node & { wires?: string[][] }).wires?.[0]?.filter((d) => RED.nodes.getNode(d)).length ?? 0) : 0;
      for (const old of ledger.sent(id, destinations, lastSaved)) inFlight.delete(old);
      if (ledger.has(id)) inFlight.set(id, ledger as HandoverLedger<unknown>);
      node.send(msg);
    };

    const runPoll = async (woken: boolean): Promise<{ again: boolean }> => {
      const client = await server.getClient(CONNECT_WAIT_MS);
      // A poll woken by a local write reads from the watermark; the others also look for late rows (the
      // scheduler makes sure one of those starts at least once an interval).
      // A poll that began just before a local write (of one batch or several) read part of it or none; the rest
      // has landed by now or within the scheduler's settle time. Reading it into the same message keeps a write
      // whole: the dashboard does not show its older half alone, stale by the producer's whole tick.
      const result = await pollMessage(poller, client, { lateRows: !woken, landed: () => scheduler.landedDuringRun(), closing: () => closing });
      // Rows read while the node closes are not sent: the persisted watermark still points before them,
      // so the next start (or redeploy) reads them again and nothing is lost.
      if (closing) return { again: false };
      if (result.rows.length > 0 || opts.emitEmpty) {
        sendRows({ topic: opts.topic, payload: result.rows, columns: result.columns, watermark: result.watermark } as NodeMessage);
      }
      if (result.rows.length > 0) rate.add(result.rows.length);
      // Saved after the send: a crash in between can repeat a message, never lose one. The start watermark
      // is saved too (first poll), so rows written while Node-RED is down are not skipped by a new "now".
      if (result.rows.length > 0 || result.watermark?.value !== savedWatermark) save();
      if (result.newestMs !== undefined && (newestMs === undefined || result.newestMs > newestMs)) newestMs = result.newestMs;
      // Query-shape problems are warned about once, not on every poll.
      if (result.rowsWithoutTs > 0 && !warnedNoTs) {
        warnedNoTs = true;
        node.warn(RED._("tdengine-poll.errors.no-ts", { count: result.rowsWithoutTs }));
      }
      if (result.stalled && !warnedStalled) {
        warnedStalled = true;
        node.warn(RED._("tdengine-poll.errors.stalled", { pageSize: String(opts.poller.pageSize) }));
      }
      if (result.error) throw result.error;
      failoverRetry = false;
      if (latch.succeed()) {
        lastError = undefined;
        node.log(RED._("tdengine-poll.log.recovered"));
      }
      return { again: !result.caughtUp };
    };

    // Failed polls back off, but no longer than FAILURE_BACKOFF_MAX_MS (or one interval): a failure that ends
    // without a reconnect (a table created a moment later) must not keep the node red for half a minute.
    const backoffMaxMs = Math.max(FAILURE_BACKOFF_MAX_MS, opts.intervalMs);
    const scheduler = new TickScheduler(runPoll, { intervalMs: opts.intervalMs, backoffMaxMs }, (failure, triggered) => {
      // Server texts may echo what they were sent: the connection's secrets are masked before anyone sees them.
      const err = server.redact(failure);
      // A poll lost with its endpoint while the connection moves to another endpoint is a failover, not a
      // failure: it is polled again once connected there (below); only a second failure in a row counts.
      if (!closing && !triggered && !failoverRetry && !latch.failing && isTransportError(err) && server.connectionStatus.failingOver) {
        failoverRetry = true;
        return;
      }
      lastError = err;
      lastFailure = { message: err.message, at: Date.now() };
      if (closing) return;
      // One catchable error per state change; a triggered poll reports through done(err) instead.
      if (latch.fail(err) && !triggered) {
        node.error(RED._("tdengine-poll.errors.poll", { message: err.message }), { topic: opts.topic, payload: undefined } as NodeMessage);
      }
      updateStatus();
    });

    function sourceState(connection: ConnectionStatus, failing: boolean): SourceState {
      if (connection.state === "connected") return failing ? "error" : "connected";
      return connection.state === "closed" ? "disconnected" : connection.state;
    }

    function renderStatus(connection: ConnectionStatus): NodeStatus {
      let status: { fill: "red" | "green" | "yellow" | "grey" | "blue"; shape: "ring" | "dot"; text: string };
      const st = scheduler.state;
      const failing = Boolean(lastError && st.consecutiveFailures > 0);
      if (connection.state === "disconnected" && connection.error && lastFailure?.message !== connection.error.message) {
        lastFailure = { message: connection.error.message, at: Date.now() };
      }
      publishSourceHealth({ id: node.id, name: node.name || node.id, type: "tdengine-poll", state: sourceState(connection, failing), lastError: lastFailure });
      if (connection.state !== "connected") {
        const key = connection.state === "connecting" ? "connecting" : "disconnected";
        status = { fill: connection.state === "connecting" ? "yellow" : "red", shape: "ring", text: `node-red:common.status.${key}` };
      } else if (failing) {
        // Short enough not to run into the next node; the whole message is in the Debug sidebar.
        const prefix = RED._("tdengine-poll.status.error", { message: "" });
        status = { fill: "red", shape: "ring", text: prefix + shortText(lastError!.message, Math.max(12, STATUS_MAX - prefix.length)) };
      } else if (st.paused) {
        status = { fill: "grey", shape: "dot", text: "tdengine-poll.status.paused" };
      } else {
        const parts = [RED._("tdengine-poll.status.rate", { rate: formatRate(rate.perSecond()) })];
        if (newestMs !== undefined) parts.push(RED._("tdengine-poll.status.lag", { lag: formatLag(Date.now() - newestMs) }));
        if (st.skippedTicks > 0) parts.push(RED._("tdengine-poll.status.skipped", { count: formatRate(st.skippedTicks) }));
        status = { fill: "green", shape: "dot", text: parts.join(" · ") };
      }
      return status;
    }

    server.register(node);
    const statusLine = connectionStatusLine(node, server, renderStatus);
    function updateStatus(): void {
      if (!closing) statusLine.refresh();
    }
    // When the connection comes back, poll at once instead of waiting out the failure back-off (which grows
    // to 30 s during a long outage): the status turns green as soon as the database answers again.
    const unsubscribe = server.onState((s) => {
      if (s.state === "connected" && !closing && scheduler.state.consecutiveFailures > 0) scheduler.retryNow();
    });
    // Rows a tdengine-write of this Node-RED just wrote into the polled table are read now, not at the next tick
    // (at most one such poll per WAKE_FLOOR_MS). Table mode only: what a SQL query reads is not known. Not with
    // interval 0, which means "poll only when a message asks".
    const source = opts.poller.source;
    const stopWaking =
      source.mode === "table" && opts.intervalMs > 0 && server.onRowsLanded
        ? server.onRowsLanded(source.table.database, source.table.table, (more) => {
            if (!closing) void ready.then(() => scheduler.wake(WAKE_FLOOR_MS, more));
          })
        : () => undefined;

    // Resume from the persisted watermark before the first poll.
    const ready = new Promise<void>((resolve) => {
      context.get(STATE_KEY, store, (err: Error | null | undefined, value: unknown) => {
        if (err) node.warn(RED._("tdengine-poll.errors.load", { message: err.message }));
        const state = keptStates.get(node.id) ?? value;
        if (state !== undefined && !poller.restore(state)) node.log(RED._("tdengine-poll.log.state-ignored"));
        else lastSaved = state;
        resolve();
      });
    });
    void ready.then(() => {
      if (closing) return;
      scheduler.start();
      // The first poll runs at deploy, not an interval later (a long interval would show nothing for that
      // long). Interval 0 means "only when triggered": no poll of its own, at deploy either.
      if (opts.intervalMs > 0) scheduler.tick();
    });

    node.on("input", (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      const control = controlOf(msg as NodeMessageInFlow & Record<string, unknown>);
      if (control === "pause") {
        scheduler.pause();
        updateStatus();
        done();
      } else if (control === "resume") {
        scheduler.resume();
        updateStatus();
        done();
      } else if (control === "reset") {
        // After the running poll, so that its rows and saved state do not outlive the reset.
        void ready
          .then(() => scheduler.idle())
          .then(() => {
            poller.reset();
            keptStates.delete(node.id);
            savedWatermark = undefined;
            lastSaved = undefined;
            newestMs = undefined;
            context.set(STATE_KEY, undefined, store, () => done());
          });
      } else {
        ready
          .then(() => scheduler.trigger())
          .then(
            () => done(),
            (err: unknown) => done(server.redact(err instanceof Error ? err : new Error(String(err)))),
          );
      }
    });

    node.on("close", (removed: boolean, done: () => void) => {
      closing = true;
      if (removed) keptStates.delete(node.id);
      statusLine.dispose();
      unsubscribe();
      stopWaking();
      clearSourceHealth(node.id);
      // The kept prepared statements are closed once no poll uses them any more.
      const stopped = scheduler.stop().then(async () => {
        await poller.close();
        // Rows of a message that did not reach a running destination are read again by the next node.
        const handover = await ledger.settle(HANDOVER_WAIT_MS);
        for (const id of ledger.ids()) inFlight.delete(id);
        if (handover && !removed) {
          node.log(RED._("tdengine-poll.log.rewound"));
          persist(handover.rewindTo);
        }
      });
      closeWithin(node, server, stopped, done);
    });
  }

  RED.nodes.registerType("tdengine-poll", TdenginePollNode);
};
