// Hostile browsers against the Perspective host inside Node-RED (node-red-node-test-helper): every attack of
// issue 13 while a flow writes rows into the table and a well-behaved replicating client watches it. Nothing
// may throw into Node-RED (the test runner fails on any uncaught exception), stall its event loop, or stop
// the flow and the well-behaved client.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { monitorEventLoopDelay } from "node:perf_hooks";
import WebSocket from "ws";
import { getHost } from "../../lib/perspective/host";
import { loadPerspective } from "../../lib/perspective/load";
import { KIND, REQUEST_NAMES } from "../../lib/perspective/protocol";
import helper from "../support/helper";
import { makeViewBody, request, responseKind, intField, lenField, type ViewConfigSpec } from "../support/perspective-frames";
import { waitFor } from "../support/wait";

const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

const LOOP = "var x := 0; for (var i := 0; i < 2e8; i += 1) { x += 1; }; x";
const SCHEMA = '{"seq":"integer","ts":"datetime","label":"string"}';

const flow = [
  { id: "safe", type: "perspective-config", path: "/safe", maxBufferMb: "1" },
  { id: "open", type: "perspective-config", path: "/open", serverViews: true },
  { id: "out", type: "perspective-out", server: "safe", table: "live", schema: SCHEMA, limit: 5000, interval: 20, wires: [] },
  { id: "out2", type: "perspective-out", server: "open", table: "live", schema: SCHEMA, limit: 5000, interval: 20, wires: [] },
];

interface Raw {
  ws: WebSocket;
  replies: { msgId: number; kind: number; error?: string }[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

describe("hostile Perspective clients", () => {
  let base = "";
  let seq = 0;
  let feed: NodeJS.Timeout | undefined;
  /**
   * The well-behaved client: replicates "live" over the raw protocol (a flat view, its row deltas) and counts
   * the deltas. Raw, not a Perspective client: this process is Node-RED, and a client's own WASM work here
   * would count against Node-RED's event loop in the measurements below.
   */
  let good: Raw;
  let goodUpdates = 0;
  const warnings: string[] = [];
  const raws: WebSocket[] = [];

  function raw(path: string): Raw {
    const ws = new WebSocket(base + path, { perMessageDeflate: false });
    raws.push(ws);
    const replies: Raw["replies"] = [];
    ws.on("message", (d: Buffer) => {
      try {
        replies.push(responseKind(new Uint8Array(d)));
      } catch {
        replies.push({ msgId: -1, kind: -1 });
      }
    });
    ws.on("error", () => undefined);
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    const opened = new Promise<void>((r, j) => {
      ws.once("open", () => r());
      ws.once("error", j);
    });
    return { ws, replies, closed, opened };
  }

  /** The flow still writes and the well-behaved client still gets the rows. */
  async function stillServing(what: string): Promise<void> {
    const before = goodUpdates;
    const seqBefore = seq;
    await waitFor(`the well-behaved client keeps receiving updates (${what})`, () => goodUpdates > before + 2 && seq > seqBefore);
  }

  before(async () => {
    await helper.startServer();
    base = helper.url().replace(/^http/, "ws");
    await helper.load([perspectiveConfig, perspectiveOut], flow);
    for (const id of ["safe", "open", "out", "out2"]) helper.getNode(id).on("call:warn", (c: { args: [string] }) => warnings.push(String(c.args[0])));
    feed = setInterval(() => {
      const payload = Array.from({ length: 20 }, () => ({ seq: ++seq, ts: Date.now(), label: `row ${seq}` }));
      helper.getNode("out").receive({ payload });
      helper.getNode("out2").receive({ payload });
    }, 20);
    await loadPerspective();
    await waitFor("the host's WebSocket", async () => {
      const c = raw("/safe/ws");
      try {
        await c.opened;
        c.ws.close();
        return true;
      } catch {
        return false;
      }
    });
    good = raw("/safe/ws");
    await good.opened;
    good.ws.on("message", (d: Buffer) => {
      if (responseKind(new Uint8Array(d)).kind === KIND.VIEW_ON_UPDATE) goodUpdates++;
    });
    good.ws.send(request(1, "live", KIND.MAKE_VIEW, makeViewBody("good")));
    // ViewOnUpdateReq { mode: ROW }
    good.ws.send(request(2, "good", KIND.VIEW_ON_UPDATE, [0x08, 0x00]));
    good.ws.send(request(3, "good", KIND.VIEW_TO_ARROW));
    await stillServing("start");
  });

  after(async () => {
    clearInterval(feed);
    for (const w of raws) w.terminate();
    good?.ws.terminate();
    await helper.unload();
    await helper.stopServer();
  });

  it("two views under one id, then a close: the second is refused, the close is harmless", async () => {
    const c = raw("/safe/ws");
    await c.opened;
    c.ws.send(request(1, "live", KIND.MAKE_VIEW, makeViewBody("dup")));
    c.ws.send(request(2, "live", KIND.MAKE_VIEW, makeViewBody("dup")));
    await waitFor("both replies", () => c.replies.length >= 2);
    assert.equal(c.replies.find((r) => r.msgId === 1)?.kind, KIND.MAKE_VIEW);
    assert.match(c.replies.find((r) => r.msgId === 2)?.error ?? "", /table_make_view: the view id "dup" is already in use/);
    c.ws.close();
    await c.closed;
    // The same with server-side views allowed (where 3.8.0's session close threw and Node-RED exited).
    const o = raw("/open/ws");
    await o.opened;
    o.ws.send(request(1, "live", KIND.MAKE_VIEW, makeViewBody("dup")));
    o.ws.send(request(2, "live", KIND.MAKE_VIEW, makeViewBody("dup")));
    await waitFor("both replies", () => o.replies.length >= 2);
    o.ws.close();
    await o.closed;
    await stillServing("after the duplicate view ids");
  });

  it("the ExprTK loop is refused by default; with server-side views it costs an engine restart, not Node-RED's loop", async () => {
    const c = raw("/safe/ws");
    await c.opened;
    c.ws.send(request(7, "live", KIND.MAKE_VIEW, makeViewBody("loop", { expressions: { x: LOOP } })));
    await waitFor("the refusal", () => c.replies.length >= 1);
    assert.match(c.replies[0].error ?? "", /table_make_view with expressions is not allowed/);
    assert.equal(c.replies[0].msgId, 7);

    const host = await getHost("open");
    // Not measured: the host starting its warm spare engine (compiling Perspective) after the test's setup.
    await host.engine.spareReady();
    const restarts = host.engine.restarts;
    const o = raw("/open/ws");
    await o.opened;
    // The same measurement for 2 s before the attack: what this machine's scheduling alone costs the loop
    // (on a busy 2-core machine, tens of ms; the attack on the main thread cost 33 s).
    const baseline = monitorEventLoopDelay({ resolution: 10 });
    baseline.enable();
    await new Promise((r) => setTimeout(r, 2000));
    baseline.disable();
    const base99 = baseline.percentile(99) / 1e6;
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    // Measured only while the engine works on the hostile view and is being restarted.
    histogram.enable();
    o.ws.send(request(8, "live", KIND.MAKE_VIEW, makeViewBody("loop", { expressions: { x: LOOP } })));
    const closed = await o.closed;
    await waitFor("the engine restarted and refilled", () => host.engine.restarts > restarts && host.engine.lastRestart?.upAt);
    histogram.disable();
    const p99 = histogram.percentile(99) / 1e6;
    console.log(`# event-loop delay while the engine ran the loop and restarted: p99 ${p99.toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms (before the attack: p99 ${base99.toFixed(1)} ms); restart ${host.engine.lastRestart!.upAt! - host.engine.lastRestart!.startedAt} ms after detection`);
    // The bound is 50 ms; a machine whose own scheduling already delays the idle loop gets that delay
    // on top (a loaded CI runner), never more.
    assert.ok(p99 < Math.max(50, base99 + 25), `event-loop delay p99 ${p99.toFixed(1)} ms (before the attack ${base99.toFixed(1)} ms)`);
    assert.equal(closed.code, 1012, "the hostile client is told the engine restarted");
    assert.match(host.engine.lastRestart!.reason, /no heartbeat/);
    // The restarted engine has the table back, and the flow goes on writing into it.
    const psp = await loadPerspective();
    const after = await psp.default.websocket(`${base}/open/ws`);
    void after.on_error(() => undefined);
    try {
      const t = await after.open_table("live");
      const s0 = await t.size();
      assert.ok(s0 > 0, "refilled");
      await waitFor("new rows in the refilled table", async () => (await t.size()) > s0 || s0 === 5000);
    } finally {
      await after.terminate().catch(() => undefined);
    }
    await stillServing("after the loop expression");
  });

  it("a 50 MiB frame closes that client with 1009 before it is buffered", async () => {
    const c = raw("/safe/ws");
    await c.opened;
    const rss = process.memoryUsage().rss;
    c.ws.send(Buffer.alloc(50 * 1024 * 1024, 0x22));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    console.log(`# RSS during the 50 MiB frame: +${((process.memoryUsage().rss - rss) / 1048576).toFixed(0)} MB (the sender's own buffer included)`);
    await stillServing("after the 50 MiB frame");
  });

  it("10,000 view requests: no more than the views limit are made, the rest are refused with a reason", async () => {
    const c = raw("/safe/ws");
    await c.opened;
    for (let i = 1; i <= 10000; i++) c.ws.send(request(i, "live", KIND.MAKE_VIEW, makeViewBody(`v${i}`)));
    await waitFor("10,000 replies", () => c.replies.length >= 10000, { timeoutMs: 60000 });
    const made = c.replies.filter((r) => r.kind === KIND.MAKE_VIEW).length;
    const refused = c.replies.filter((r) => r.kind === 50);
    assert.ok(made <= 16, `${made} views made`);
    assert.equal(made + refused.length, 10000);
    assert.ok(refused.every((r) => /too many views|too many requests in flight/.test(r.error ?? "")), refused.find((r) => !/too many/.test(r.error ?? ""))?.error);
    c.ws.close();
    await stillServing("after 10,000 view requests");
  });

  it("garbage frames close that client; text frames too", async () => {
    const c = raw("/safe/ws");
    await c.opened;
    c.ws.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]));
    assert.equal((await c.closed).code, 1008);
    const t = raw("/safe/ws");
    await t.opened;
    t.ws.send("hello");
    assert.equal((await t.closed).code, 1003);
    await stillServing("after garbage");
  });

  it("a client that stops reading is dropped once its send buffer passes the bound; the others carry on", async () => {
    const host = await getHost("safe");
    const c = raw("/safe/ws");
    await c.opened;
    c.ws.send(request(1, "live", KIND.MAKE_VIEW, makeViewBody("nr")));
    await waitFor("the view", () => c.replies.some((r) => r.msgId === 1 && r.kind === KIND.MAKE_VIEW));
    const clients = host.clientCount;
    // From now on this client reads nothing: what Node-RED sends it piles up in the kernel, then in ws.
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    let id = 1;
    await waitFor("the non-reading client to be dropped", () => {
      // A few snapshots (~100 KB each) per poll: few enough in flight never to trip the in-flight limit first.
      for (let i = 0; i < 8; i++) c.ws.send(request(++id, "nr", KIND.VIEW_TO_ARROW));
      return host.clientCount < clients;
    }, { timeoutMs: 30000 });
    assert.ok(warnings.some((w) => /not reading|unsent \(limit 1048576\)/.test(w)), warnings.join("\n"));
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await c.closed;
    console.log(`# non-reading client dropped after ${id - 1} snapshot requests`);
    await stillServing("after dropping the client that stopped reading");
  });

  it(`a seeded fuzz of well-formed requests of every kind, on both hosts, for 30 s`, async () => {
    let state = 0x13579bdf;
    const rand = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const kinds = [...REQUEST_NAMES.keys()];
    const words = ["live", "seq", "ts", "label", "nope", "", "live@1", "x".repeat(300)];
    const configs: ViewConfigSpec[] = [{}, { columns: ["seq"] }, { groupBy: ["label"] }, { splitBy: ["label"] }, { sort: [["seq", 2]] }, { expressions: { e: '"seq" * 2' } }, { columns: ["nope"] }];
    const body = (kind: number, viewIds: string[]): number[] => {
      switch (rand(4)) {
        case 0: return [];
        case 1: return intField(1, rand(1000));
        case 2: return lenField(1, words[rand(words.length)]);
        default:
          if (kind === KIND.MAKE_VIEW) {
            const id = `f${rand(40)}`;
            viewIds.push(id);
            return makeViewBody(id, configs[rand(configs.length)]);
          }
          return Array.from({ length: rand(12) }, () => rand(256));
      }
    };
    const deadline = Date.now() + 30000;
    let sent = 0;
    let clientsUsed = 0;
    while (Date.now() < deadline) {
      const path = rand(2) ? "/safe/ws" : "/open/ws";
      const c = raw(path);
      clientsUsed++;
      try {
        await c.opened;
      } catch {
        continue;
      }
      const viewIds: string[] = [];
      const burst = 50 + rand(200);
      for (let i = 0; i < burst && c.ws.readyState === WebSocket.OPEN; i++) {
        const kind = rand(10) < 3 ? KIND.MAKE_VIEW : kinds[rand(kinds.length)];
        const entity = viewIds.length && rand(2) ? viewIds[rand(viewIds.length)] : words[rand(words.length)];
        c.ws.send(request(1 + rand(5000), entity, kind, body(kind, viewIds)));
        sent++;
        if (i % 25 === 0) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 20 + rand(80)));
      if (rand(3) === 0) c.ws.terminate();
      else c.ws.close();
    }
    console.log(`# fuzz: ${sent} requests over ${clientsUsed} connections`);
    await stillServing("after the fuzz");
    // The flow's table on the default host holds the newest rows.
    const psp = await loadPerspective();
    const reader = await psp.default.websocket(`${base}/safe/ws`);
    void reader.on_error(() => undefined);
    const t = await reader.open_table("live");
    assert.equal(await t.size(), 5000);
    await reader.terminate().catch(() => undefined);
  });
});
