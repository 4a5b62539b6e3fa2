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

  it("a delta's onDelta reads are sent without waiting for its update's reply, and answered after the update", async () => {
    // The page takes its freshness sample in onDelta: one round trip to its busy Perspective worker instead of
    // two, and still a reading of the table with the delta in it.
    const psp = await loadPerspective();
    const replica = (await import(pathToFileURL(join(root, "viewer", "replica.js")).href)) as Replica;
    const url = `${helper.url().replace(/^http/, "ws")}/fan/ws`;
    await waitFor("the stream table", async () => (await host.names()).includes("stream") && seq > 100);
    const tap = new replica.WireTap();
    const conn = await replica.openClient(url, { WebSocket, makeClient: psp.make_client, tap });
    closers.push(() => conn.close());
    const remote = await conn.client.open_table("stream");
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
