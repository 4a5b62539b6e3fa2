// tdengine-config with several taosAdapter endpoints (emulator cluster): the users' status names the endpoint in
// use and how many are down, a DSN with a password is refused at deploy without leaking it, spreading starts
// config nodes at different endpoints, and Test connection lists every endpoint's result.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulatorCluster, type EmulatorCluster } from "../../emulator";
import { spreadIndex } from "../../lib/tdengine-connection";
import helper from "../support/helper";
import { recordStatuses } from "../support/node-statuses";
import { nodeModule } from "../support/package-info";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");
const CREDS = { cfg: { user: "root", password: "taosdata" } };

let cluster: EmulatorCluster;
const host = (i: number): string => `127.0.0.1:${cluster.endpoints[i].port}`;

function flow(cfg: Record<string, unknown> = {}): object[] {
  return [
    { id: "cfg", type: "tdengine-config", url: cluster.wsUrls, database: "cdb", timeout: 2000, maxBackoff: 100, ...cfg },
    { id: "w", type: "tdengine-write", server: "cfg", stable: "meters", subtable: "d_${groupid}", columns: "ts TIMESTAMP, v INT", tags: "groupid INT", autoCreate: true, wires: [] },
  ];
}

describe("tdengine-config with several endpoints", () => {
  before(async () => {
    cluster = await startEmulatorCluster({ endpoints: 3 });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await cluster.stop();
  });
  afterEach(async () => {
    await helper.unload();
    for (const e of cluster.endpoints) await e.start();
  });

  it("the status names the endpoint in use and how many are down, and follows a failover", async () => {
    await cluster.endpoints[0].stop();
    await helper.load([configNode, writeNode], flow(), CREDS);
    const seen = recordStatuses("w");
    await waitFor("on endpoint 1", () => cluster.stats().perEndpoint[1] === 1);
    helper.getNode("w").receive({ payload: { ts: Date.now(), v: 1, groupid: 1 } });
    await waitFor("status names endpoint 2 of 3, 1 down", () => seen.some((s) => s.text?.endsWith("· ep 2/3, 1 down")));
    const cfg = helper.getNode("cfg") as unknown as { connectionStatus: { endpoint?: string; down?: string[] } };
    assert.deepEqual([cfg.connectionStatus.endpoint, cfg.connectionStatus.down], [host(1), [host(0)]]);
    await cluster.endpoints[1].stop();
    await waitFor("status names endpoint 3 of 3, 2 down", () => seen.some((s) => s.text?.endsWith("· ep 3/3, 2 down")));
  });

  it("refuses a DSN carrying a password at deploy, without the password in the error", async () => {
    await helper.load([configNode, writeNode], flow({ url: `ws://root:hunter22@${host(0)},${host(1)}` }), CREDS);
    const cfg = helper.getNode("cfg") as unknown as { connectionStatus: { error?: Error } };
    const w = helper.getNode("w");
    const errors: string[] = [];
    w.on("call:error", (c: { args: unknown[] }) => errors.push(String(c.args[0])));
    await waitFor("the config error reported", () => cfg.connectionStatus.error);
    assert.match(String(cfg.connectionStatus.error?.message), /Password field/);
    assert.ok(!String(cfg.connectionStatus.error?.message).includes("hunter22"));
    assert.equal(cluster.stats().connections, 0, "nothing connected with a refused setting");
  });

  it("with spreading, starts at the endpoint chosen by a hash of the config node's id", async () => {
    const ids = ["cfg-a", "cfg-b", "cfg-c", "cfg-d", "cfg-e", "cfg-f"];
    const wanted = ids.map((id) => spreadIndex(id, 3));
    assert.ok(new Set(wanted).size > 1, "the ids spread");
    const nodes: object[] = [];
    ids.forEach((id, k) => {
      nodes.push({ id, type: "tdengine-config", url: cluster.wsUrls, database: "cdb", timeout: 2000, spread: true });
      nodes.push({ id: `w${k}`, type: "tdengine-write", server: id, stable: "meters", subtable: "d_${groupid}", columns: "ts TIMESTAMP, v INT", tags: "groupid INT", autoCreate: true, wires: [] });
    });
    const creds = Object.fromEntries(ids.map((id) => [id, { user: "root", password: "taosdata" }]));
    await helper.load([configNode, writeNode], nodes, creds);
    const expected = [0, 1, 2].map((i) => wanted.filter((w) => w === i).length);
    await waitFor("each endpoint holds the connections hashed to it", () => JSON.stringify(cluster.stats().perEndpoint) === JSON.stringify(expected));
  });

  it("Test connection tries every endpoint and lists each one, marking the one in use", async () => {
    await helper.load([configNode, writeNode], flow(), CREDS);
    await waitFor("on endpoint 0", () => cluster.stats().perEndpoint[0] === 1);
    await cluster.endpoints[2].stop();
    const r = await helper.request().post("/tdengine-config/cfg/test").send({ url: cluster.wsUrls, user: "root", password: "__PWRD__" }).expect(200);
    const body = r.body as { ok: boolean; warning?: string; endpoints: { endpoint: string; ok: boolean; inUse?: boolean; error?: string }[] };
    assert.equal(body.ok, true);
    assert.deepEqual(body.endpoints.map((e) => [e.endpoint, e.ok, Boolean(e.inUse)]), [
      [`ws://${host(0)}`, true, true],
      [`ws://${host(1)}`, true, false],
      [`ws://${host(2)}`, false, false],
    ]);
    assert.match(body.warning ?? "", new RegExp(`down: ws://${host(2)}`));
    await Promise.all(cluster.endpoints.map((e) => e.stop()));
    const none = await helper.request().post("/tdengine-config/cfg/test").send({ url: cluster.wsUrls, user: "root", password: "__PWRD__" }).expect(200);
    assert.equal((none.body as { ok: boolean }).ok, false);
    assert.match((none.body as { error: string }).error, /no endpoint answered/);
  });
});
