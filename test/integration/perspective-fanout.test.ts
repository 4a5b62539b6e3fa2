// Many replicating clients of one table share one engine view (fanout.ts), and each still ends with exactly
// the server's rows: clients started at different moments of a 4,000 rows/s stream (so snapshots and deltas
// overlap differently for each), using the page's own replication code (viewer/replica.js), against the host
// inside Node-RED (node-red-node-test-helper). When they leave, the shared view goes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { getHost, type PerspectiveHost } from "../../lib/perspective/host";
import { encodeResponsePrefix as encodePrefix, KIND, readRequestHeader } from "../../lib/perspective/protocol";
import { loadPerspective } from "../../lib/perspective/load";
import helper from "../support/helper";
import { root } from "../support/package-info";
import { replicaRows } from "../support/replica";
import { waitFor } from "../support/wait";

const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

const CLIENTS = 12;
const flow = [
  { id: "psp", type: "perspective-config", path: "/fan" },
  // Large enough never to roll over: a row applied twice, or lost, stays visible.
  { id: "out-stream", type: "perspective-out", server: "psp", table: "stream", schema: '{"seq":"integer","ts":"datetime"}', mode: "limit", limit: 500000, interval: 10, wires: [] },
];

interface LocalTable {
  size(): Promise<number>;
  view(c?: object): Promise<{ to_columns(): Promise<Record<string, unknown[]>>; delete(): Promise<void> }>;
}
interface Replica {
  WireTap: new () => unknown;
  openClient(url: string, deps: object): Promise<{ client: { open_table(n: string): Promise<unknown> }; close(): void }>;
  replicate(remote: unknown, make: (d: ArrayBuffer, o: object) => Promise<LocalTable>, opts: object): Promise<{ table: LocalTable; settled(): Promise<void>; close(): Promise<void> }>;
}

describe("row deltas shared by every replicating client of a table", () => {
  let host: PerspectiveHost;
  let seq = 0;
  let feed: NodeJS.Timeout | undefined;
  const closers: (() => void)[] = [];

  before(async () => {
    await helper.startServer();
    await helper.load([perspectiveConfig, perspectiveOut], flow);
    host = await getHost("psp");
    await host.engine.ready;
    feed = setInterval(() => {
      const payload = Array.from({ length: 20 }, () => ({ seq: ++seq, ts: Date.now() }));
      helper.getNode("out-stream").receive({ payload });
    }, 5);
  });

  after(async () => {
    clearInterval(feed);
    for (const c of closers) c();
    await helper.unload();
    await helper.stopServer();
  });

  /** The page's replication code, a Perspective client module and the endpoint's URL, once the stream has rows. */
  async function replicaSetup(): Promise<{ psp: Awaited<ReturnType<typeof loadPerspective>>; replica: Replica; url: string }> {
    const psp = await loadPerspective();
    const replica = (await import(pathToFileURL(join(root, "viewer", "replica.js")).href)) as Replica;
    await waitFor("the stream table", async () => (await host.names()).includes("stream") && seq > 100);
    return { psp, replica, url: `${helper.url().replace(/^http/, "ws")}/fan/ws` };
  }

  /** A replicating client's connection (closed after the suite at the latest) and the stream table on it. */
  async function connect(s: { psp: Awaited<ReturnType<typeof loadPerspective>>; replica: Replica; url: string }, tap: unknown): Promise<{ conn: { close(): void }; remote: unknown }> {
    const conn = await s.replica.openClient(s.url, { WebSocket, makeClient: s.psp.make_client, tap });
    closers.push(() => conn.close());
    return { conn, remote: await conn.client.open_table("stream") };
  }

  /** Records the header of every request that reaches the engine, from any session. */
  function spyEngine(): { reached: ReturnType<typeof readRequestHeader>[]; restore(): void } {
    const engine = host.engine as unknown as { request(sid: number, buf: Uint8Array): void };
    const request = engine.request;
    const reached: ReturnType<typeof readRequestHeader>[] = [];
    engine.request = function (this: unknown, sid: number, buf: Uint8Array) {
      reached.push(readRequestHeader(buf));
      return request.call(this, sid, buf);
    };
    return { reached, restore: () => (engine.request = request) };
  }

  it("a delta's onDelta reads are sent without waiting for its update's reply, and answered after the update", async () => {
    // The page takes its freshness sample in onDelta: one round trip to its busy Perspective worker instead of
    // two, and still a reading of the table with the delta in it.
    const setup = await replicaSetup();
    const { psp, replica } = setup;
    const tap = new replica.WireTap();
    const { conn, remote } = await connect(setup, tap);
    let pending = false;
    let afterUpdate: Promise<number> = Promise.resolve(0);
    const checks: Promise<{ pending: boolean; seen: number; after: number }>[] = [];
    const make = async (d: ArrayBuffer, o: object) => {
      const real = (await psp.default.table(d, o)) as unknown as LocalTable & { update(d: ArrayBuffer): Promise<void> };
      return {
        size: () => real.size(),
        view: (c?: object) => real.view(c),
        update: (delta: ArrayBuffer) => {
          pending = true;
          const done = real.update(delta).then(() => real.size());
          afterUpdate = done.finally(() => (pending = false));
          return afterUpdate;
        },
      };
    };
    const r = await replica.replicate(remote, make, {
      tap,
      limit: 500000,
      onDelta: (_d: ArrayBuffer, local: LocalTable) => {
        const wasPending = pending;
        checks.push(Promise.all([local.size(), afterUpdate]).then(([seen, after]) => ({ pending: wasPending, seen, after })));
      },
    });
    await waitFor("20 deltas", () => checks.length >= 20);
    await r.close();
    conn.close();
    for (const c of await Promise.all(checks)) {
      assert.equal(c.pending, true, "onDelta runs before the update's reply");
      assert.equal(c.seen, c.after, "its size() is answered with the delta applied");
    }
  });

  it("a replica that cannot keep up says so once, with its backlog, and drops the backlog when closed", async () => {
    // Without this a slow client fell behind for as long as the stream lasted, holding every waiting delta.
    const setup = await replicaSetup();
    const { psp, replica } = setup;
    const tap = new replica.WireTap();
    const { conn, remote } = await connect(setup, tap);
    // The local table applies nothing until the gate opens.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const make = async (d: ArrayBuffer, o: object) => {
      const real = (await psp.default.table(d, o)) as unknown as LocalTable & { update(d: ArrayBuffer): Promise<void> };
      return { size: () => real.size(), view: (c?: object) => real.view(c), update: async (delta: ArrayBuffer) => (await gate, real.update(delta)) };
    };
    const calls: { deltas: number; ageMs: number }[] = [];
    const r = (await replica.replicate(remote, make, { tap, limit: 500000, maxBacklogDeltas: 10, onBehind: (b: { deltas: number; ageMs: number }) => calls.push(b) })) as Awaited<ReturnType<Replica["replicate"]>> & { backlog(): { deltas: number; ageMs: number } };
    await waitFor("the backlog to pass 10 deltas", () => calls.length > 0);
    assert.equal(calls[0].deltas, 11, "said as soon as more than 10 wait");
    await waitFor("30 deltas waiting", () => r.backlog().deltas >= 30);
    assert.equal(calls.length, 1, "said once while it stays behind");
    assert.ok(r.backlog().ageMs > 0);
    await r.close();
    open();
    await r.settled();
    assert.equal(r.backlog().deltas, 0, "closed: the waiting deltas are dropped, not applied");
    conn.close();
  });

  it("the engine lets a replicating client's view go once its snapshot is out; the client does not notice", async () => {
    // Kept in the engine, every page's flat view was computed again on each update of its table (100 pages: 100
    // views) although its deltas come from the table's shared view.
    const setup = await replicaSetup();
    const { psp, replica } = setup;
    const { reached, restore } = spyEngine();
    try {
      const tap = new replica.WireTap();
      const frames: Uint8Array[] = [];
      const onReceive = (tap as { onReceive(b: ArrayBuffer): void }).onReceive.bind(tap);
      (tap as { onReceive(b: ArrayBuffer): void }).onReceive = (b: ArrayBuffer) => {
        frames.push(new Uint8Array(b.slice(0)));
        onReceive(b);
      };
      const c = await connect(setup, tap);
      const { conn } = c;
      const remote = c.remote as { view(): Promise<{ delete(): Promise<void> }> };
      const r = (await replica.replicate(remote, (d, o) => psp.default.table(d, o) as unknown as Promise<LocalTable>, { tap, limit: 500000 })) as Awaited<ReturnType<Replica["replicate"]>> & { view: { to_arrow(): Promise<ArrayBuffer> }; stats: { applied: number } };
      const viewId = reached.find((h) => h.kind === KIND.MAKE_VIEW)!.viewId!;
      const onView = () => reached.filter((h) => h.viewId === viewId || h.entityId === viewId).map((h) => [h.kind, h.msgId >= 0xffffff00 ? "host" : "client"]);
      await waitFor("the view to go from the engine", () => onView().length === 3);
      assert.deepEqual(onView(), [[KIND.MAKE_VIEW, "client"], [KIND.VIEW_TO_ARROW, "client"], [KIND.VIEW_DELETE, "host"]]);
      const applied = r.stats.applied;
      await waitFor("deltas to keep coming", () => r.stats.applied > applied + 3);
      // Another snapshot of the same view: the view is made again first, then let go again.
      const again = await psp.default.table(await r.view.to_arrow());
      assert.ok((await again.size()) > 0);
      await again.delete();
      await waitFor("the view to go again", () => onView().length === 6);
      assert.deepEqual(onView().slice(3), [[KIND.MAKE_VIEW, "host"], [KIND.VIEW_TO_ARROW, "client"], [KIND.VIEW_DELETE, "host"]]);
      // The client's own delete is answered here, as the engine answers it.
      const before = frames.length;
      await r.close();
      assert.equal(onView().length, 6, "nothing more reached the engine for the view");
      const local = frames.slice(before).map((f) => readRequestHeader(f)).find((h) => h.kind === KIND.VIEW_DELETE);
      assert.ok(local, "a view_delete reply");
      // The engine's own reply to a view_delete, for a view it still holds (no shared deltas: not let go).
      const plain = await remote.view();
      await plain.delete();
      const deleteReplies = frames.filter((f) => readRequestHeader(f).kind === KIND.VIEW_DELETE);
      assert.equal(deleteReplies.length, 2, "ours and the engine's");
      // msg_id and entity_id differ; what follows them must not.
      const tail = (f: Uint8Array): string => {
        const h = readRequestHeader(f);
        return Buffer.from(f.subarray(encodePrefix(h.msgId, h.entityId).length)).toString("hex");
      };
      assert.equal(tail(deleteReplies[0]), tail(deleteReplies[1]), "the same reply bytes as the engine's");
      conn.close();
    } finally {
      restore();
    }
  });

  it("a view the engine still serves its client (an on_delete watch, an update subscription not in row mode) stays there after its snapshot", async () => {
    // Deleting it in the engine would fire the client's on_delete for a view it still uses, or end its subscription.
    type ClientView = { on_delete(f: () => void): Promise<unknown>; on_update(f: () => void, o?: object): Promise<unknown>; to_arrow(): Promise<ArrayBuffer> };
    const setup = await replicaSetup();
    const { reached, restore } = spyEngine();
    try {
      const { conn, remote } = await connect(setup, new setup.replica.WireTap());
      const table = remote as { view(): Promise<ClientView> };
      const watched = await table.view();
      let deleted = 0;
      await watched.on_delete(() => deleted++);
      await watched.on_update(() => undefined, { mode: "row" });
      const plain = await table.view();
      let updates = 0;
      await plain.on_update(() => updates++);
      // The endpoint decides right after sending a snapshot's reply, before the client has it.
      await watched.to_arrow();
      await plain.to_arrow();
      const deletes = reached.filter((h) => h.kind === KIND.VIEW_DELETE);
      assert.deepEqual(deletes, [], "no delete reached the engine");
      const seen = updates;
      await waitFor("the engine's own subscription to go on", () => updates > seen + 3);
      assert.equal(deleted, 0);
      conn.close();
    } finally {
      restore();
    }
  });

  it("each client ends with the server's rows, none twice, none missing, from one shared engine view", async () => {
    const psp = await loadPerspective();
    const replica = (await import(pathToFileURL(join(root, "viewer", "replica.js")).href)) as Replica;
    const url = `${helper.url().replace(/^http/, "ws")}/fan/ws`;
    await waitFor("the stream table", async () => (await host.names()).includes("stream") && seq > 500);
    const tables: { table: LocalTable; settled(): Promise<void> }[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const tap = new replica.WireTap();
      const conn = await replica.openClient(url, { WebSocket, makeClient: psp.make_client, tap });
      closers.push(() => conn.close());
      const remote = await conn.client.open_table("stream");
      tables.push(await replica.replicate(remote, (d, o) => psp.default.table(d, o) as unknown as Promise<LocalTable>, { tap, limit: 500000 }));
      // The next client joins some rows later, mid-stream.
      const at = seq;
      await waitFor("more rows", () => seq > at + 200);
    }
    assert.equal(host.fanout.subscribers("stream"), CLIENTS, "one shared subscription list for the table");
    clearInterval(feed);
    const last = seq;
    const reader = await psp.default.websocket(url);
    void reader.on_error(() => undefined);
    let server: number[] = [];
    await waitFor("every row in the server table", async () => (server = (await replicaRows(reader, "stream", ["seq"])).map((r) => r.seq as number)).length === last);
    await reader.terminate().catch(() => undefined);
    const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
    const want = sorted(server);
    for (let i = 0; i < tables.length; i++) {
      await waitFor(`client ${i + 1} to apply the last rows`, async () => (await tables[i].table.size()) >= last, { timeoutMs: 30000 }).catch(() => undefined);
      await tables[i].settled();
      const v = await tables[i].table.view({ columns: ["seq"] });
      const got = sorted((await v.to_columns()).seq as number[]);
      await v.delete();
      assert.equal(got.length, want.length, `client ${i + 1}: as many rows as the server`);
      assert.deepEqual(got, want, `client ${i + 1}: the same rows, each once`);
    }
    for (const c of closers.splice(0)) c();
    await waitFor("the shared view to go with the last client", () => host.fanout.subscribers("stream") === 0);
  });
});
