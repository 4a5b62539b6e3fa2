// The Perspective engine killed, then made to hang, while a flow feeds it 10,000 rows/s: the supervisor
// replaces it, the tables come back with their rows (a limit table's newest rows, an index table's latest row
// per key), replicating clients are told to reconnect and do, and nothing throws into Node-RED (the test
// runner fails a file on any uncaught exception or unhandled rejection). The restart times are printed as
// figures (RELIABILITY.md), not asserted: timings belong to benchmarks.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getHost, type PerspectiveHost } from "../../lib/perspective/host";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { replicaRows } from "../support/replica";
import { waitFor } from "../support/wait";

const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

const LIMIT = 1000;
// More keys than rows fed after a fault: most of the index table must come back from the refill.
const KEYS = 2000;
/** Rows fed after a fault, while the engine is being replaced: fewer than LIMIT, so the ring's newest rows
 * after recovery are partly from before the fault (refilled) and partly from during it (held and applied). */
const DURING = 500;
const SCHEMA = '{"seq":"integer","ts":"datetime","key":"string"}';
const flow = [
  { id: "psp", type: "perspective-config", path: "/rec" },
  { id: "out-ring", type: "perspective-out", server: "psp", table: "ring", schema: SCHEMA, mode: "limit", limit: LIMIT, interval: 20, wires: [] },
  { id: "out-latest", type: "perspective-out", server: "psp", table: "latest", schema: SCHEMA, mode: "index", index: "key", interval: 20, wires: [] },
];

/** A client that replicates "ring" the way the page does and reconnects by itself when its socket closes. */
class Watcher {
  connections = 0;
  updates = 0;
  closedWith: string[] = [];
  private client: Client | undefined;
  private stopped = false;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    const psp = (await loadPerspective()).default;
    for (;;) {
      if (this.stopped) return;
      try {
        const client = await psp.websocket(this.url);
        this.client = client;
        let lost = false;
        void client.on_error((err: unknown) => {
          if (lost || this.stopped) return;
          lost = true;
          this.closedWith.push(String((err as Error)?.message ?? err));
          void this.start();
        });
        const view = await (await client.open_table("ring")).view();
        await view.to_arrow();
        await view.on_update(() => this.updates++, { mode: "row" });
        this.connections++;
        return;
      } catch {
        // The engine is still coming back: the page retries the same way.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.terminate().catch(() => undefined);
  }
}

describe("the Perspective engine killed or hung under 10,000 rows/s", () => {
  let host: PerspectiveHost;
  let seq = 0;
  let feed: NodeJS.Timeout | undefined;
  /** The feed stops by itself once `seq` reaches this. */
  let stopAt = Infinity;
  let watcher: Watcher;
  let reader: Client | undefined;
  const wsUrl = (): string => `${helper.url().replace(/^http/, "ws")}/rec/ws`;
  const warnings: string[] = [];

  function startFeed(): void {
    // 100 rows every 10 ms.
    stopAt = Infinity;
    feed = setInterval(() => {
      if (seq >= stopAt) return stopFeed();
      const payload = Array.from({ length: 100 }, () => {
        seq++;
        return { seq, ts: Date.now(), key: `k${seq % KEYS}` };
      });
      helper.getNode("out-ring").receive({ payload });
      helper.getNode("out-latest").receive({ payload });
    }, 10);
  }

  function stopFeed(): void {
    clearInterval(feed);
    feed = undefined;
  }

  /** Pauses the feed and checks both tables hold exactly what the flow sent, none lost, none twice. */
  async function checkTables(what: string): Promise<void> {
    stopFeed();
    const last = seq;
    reader = await (await loadPerspective()).default.websocket(wsUrl());
    void reader.on_error(() => undefined);
    let ring: Record<string, unknown>[] = [];
    await waitFor(`the last row in ring (${what})`, async () => {
      ring = await replicaRows(reader!, "ring", ["seq"]);
      return ring.some((r) => r.seq === last);
    });
    const got = ring.map((r) => r.seq as number).sort((a, b) => a - b);
    const want = Array.from({ length: LIMIT }, (_, i) => last - LIMIT + 1 + i);
    assert.deepEqual(got, want, `the newest ${LIMIT} rows, each once (${what})`);
    const latest = await replicaRows(reader, "latest", ["key", "seq"]);
    assert.equal(latest.length, Math.min(KEYS, last), `one row per key (${what})`);
    for (const r of latest) {
      const k = Number(String(r.key).slice(1));
      // The newest seq with this key: the largest seq <= last congruent to k modulo KEYS.
      assert.equal(r.seq, last - ((last - k) % KEYS + KEYS) % KEYS, `latest row of ${String(r.key)} (${what})`);
    }
    await reader.terminate().catch(() => undefined);
    reader = undefined;
  }

  async function recover(what: string, hurt: () => void, reason: RegExp): Promise<void> {
    // Not measured: the warm spare compiling Perspective after setup or the last restart.
    await host.engine.spareReady();
    const restarts = host.engine.restarts;
    const connections = watcher.connections;
    const seqAtFault = seq;
    const at = Date.now();
    hurt();
    stopAt = seq + DURING;
    await waitFor(`the engine restarted and refilled (${what})`, () => host.engine.restarts > restarts && host.engine.lastRestart?.upAt !== undefined);
    const r = host.engine.lastRestart!;
    assert.match(r.reason, reason);
    const fedDuring = seq - seqAtFault;
    await checkTables(what);
    startFeed();
    await waitFor(`the replicating client to reconnect (${what})`, () => watcher.connections > connections);
    const updates = watcher.updates;
    await waitFor(`updates after the reconnection (${what})`, () => watcher.updates > updates + 5);
    console.log(`# engine ${what}: back ${r.upAt! - at} ms after the fault (detected after ${r.startedAt - at} ms, refilled in ${r.upAt! - r.startedAt} ms); ${fedDuring} rows fed before it was back; client receiving again ${Date.now() - at} ms after the fault`);
  }

  before(async () => {
    await helper.startServer();
    await helper.load([perspectiveConfig, perspectiveOut], flow);
    for (const id of ["psp", "out-ring", "out-latest"]) helper.getNode(id).on("call:warn", (c: { args: [string] }) => warnings.push(String(c.args[0])));
    host = await getHost("psp");
    await host.engine.ready;
    startFeed();
    watcher = new Watcher(wsUrl());
    await waitFor("the host's tables", async () => {
      try {
        await watcher.start();
        return true;
      } catch {
        return false;
      }
    });
    await waitFor("rows reaching the client", () => watcher.updates > 5);
  });

  after(async () => {
    stopFeed();
    await watcher?.stop();
    await reader?.terminate().catch(() => undefined);
    await helper.unload();
    await helper.stopServer();
  });

  it("starts with both tables exact", async () => {
    await waitFor("more rows than the ring holds, and every key", () => seq > KEYS + LIMIT);
    await checkTables("before any fault");
    startFeed();
  });

  it("a crashed engine is replaced, refilled, and its clients reconnect", async () => {
    await recover("crashed", () => host.crashEngineForTest(), /crashed|exited/);
    assert.ok(watcher.closedWith.length >= 1, "the client was told");
  });

  it("a hung engine (no heartbeat) is replaced, refilled, and its clients reconnect", async () => {
    await recover("hung", () => host.hangEngineForTest(), /no heartbeat/);
  });

  it("says so once per restart in the log, not per row", () => {
    const restarts = warnings.filter((w) => /Perspective engine restarted/.test(w));
    // Our two faults at least (a loaded machine can starve the engine into one more), each said once.
    assert.ok(host.engine.restarts >= 2);
    assert.equal(restarts.length, host.engine.restarts, warnings.join("\n"));
  });
});
