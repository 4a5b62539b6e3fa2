// What the dashboard and the editor learn about a table's health from perspective-out (issue 14, items 2 and 3):
// two nodes publishing one table name are reported on both (status + a warning naming both); config.json
// carries each table's health: its upstream TDengine nodes (found from the wiring) with their current state and
// last error, the age of the newest row and of the last update; a source going down shows there within seconds.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { TableHealth } from "../../lib/health/table-health";
import helper from "../support/helper";
import { FakeTdengineClient } from "../support/fake-tdengine-client";
import { fakeClients, fakeTdengineConfig, type FakeConfigNode } from "../support/fake-tdengine-config";
import { runtimeDir } from "../support/runtime";
import { waitFor } from "../support/wait";
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");

const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

interface Spy {
  getCalls(): Array<{ args: unknown[]; thisValue: { id: string } }>;
}
type SpiedNode = { status: Spy; warn: Spy };

/** The helper's spies are shared by all nodes of a type: the calls made by node `id`, first argument each. */
function callsOf(spy: Spy, id: string): unknown[] {
  return spy.getCalls().filter((c) => c.thisValue?.id === id).map((c) => c.args[0]);
}
const statusText = (id: string): string => {
  const calls = callsOf((helper.getNode(id) as unknown as SpiedNode).status, id) as Array<{ text?: string }>;
  return calls[calls.length - 1]?.text ?? "";
};
const warnings = (id: string): string[] => callsOf((helper.getNode(id) as unknown as SpiedNode).warn, id).map(String);

// node-red-node-test-helper does not mount RED.httpNode on its server: a probe node captures it (as in
// perspective-out.test.ts) so config.json can be fetched.
let httpNode: ((req: unknown, res: unknown, next: () => void) => void) | undefined;
const probe = (RED: { httpNode: typeof httpNode; nodes: { registerType(t: string, f: unknown): void; createNode(n: unknown, c: unknown): void } }): void => {
  httpNode = RED.httpNode;
  RED.nodes.registerType("probe", function (this: unknown, c: unknown) {
    RED.nodes.createNode(this, c);
  });
};

interface ConfigJson {
  tables: Array<{ name: string; entity: string; health?: TableHealth }>;
  waiting?: Array<{ name: string; health: TableHealth }>;
}

async function configJson(path: string): Promise<ConfigJson> {
  const res = await fetch(helper.url() + path + "/config.json");
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ConfigJson;
}

async function tables(path = "/perspective"): Promise<ConfigJson["tables"]> {
  return (await configJson(path)).tables;
}

describe("perspective-out: duplicate table names and per-table health", () => {
  before(async () => {
    await helper.startServer();
    const app = (helper as unknown as { _app: { use(f: unknown): void } })._app;
    app.use((req: unknown, res: unknown, next: () => void) => (httpNode ? httpNode(req, res, next) : next()));
  });
  after(() => helper.stopServer());
  beforeEach(() => fakeClients.set("cfg", new FakeTdengineClient("ms")));
  afterEach(async () => {
    await helper.unload();
    fakeClients.clear();
  });

  it("two nodes publishing one table: both statuses say so and each warns naming both; removing one clears it", async () => {
    const flow = [
      { id: "t1", type: "tab" },
      { id: "a", type: "perspective-out", z: "t1", name: "meters A", table: "dup", schema: '{"i":"integer"}', interval: 10 },
      { id: "b", type: "perspective-out", z: "t1", name: "meters B", table: "dup", schema: '{"i":"integer"}', interval: 10 },
      { id: "c", type: "perspective-out", z: "t1", name: "other", table: "single", schema: '{"i":"integer"}', interval: 10 },
    ];
    await helper.load([perspectiveOut, probe], [...flow, { id: "p", type: "probe" }]);
    for (const id of ["a", "b"]) {
      await waitFor("duplicate status", () => statusText(id) === "duplicate table name", { timeoutMs: 5000 });
      const w = warnings(id);
      assert.equal(w.length, 1, JSON.stringify(w));
      assert.ok(w[0].includes('"meters A" (id a)') && w[0].includes('"meters B" (id b)') && w[0].includes('"dup"'), w[0]);
    }
    await waitFor("the other table's normal status", () => /^0 rows · 0 clients · 0\/s$/.test(statusText("c")), { timeoutMs: 5000 });
    assert.deepEqual(warnings("c"), []);
    const dup = (await tables()).find((t) => t.name === "dup");
    assert.equal(dup?.health?.state, "warn");
    assert.match(dup?.health?.summary ?? "", /published by 2 nodes/);

    const before = warnings("a").length;
    await helper.setFlows([flow[0], flow[1], flow[3], { id: "p", type: "probe" }], "full");
    await waitFor("a normal status once alone", () => /^0 rows · 0 clients · 0\/s$/.test(statusText("a")), { timeoutMs: 5000 });
    assert.equal(warnings("a").length, before, "no new warning");
  });

  it("a table that does not exist yet because its source is down is listed under `waiting` with its health", async () => {
    const flow = [
      { id: "t1", type: "tab" },
      { id: "cfg", type: "tdengine-config", database: "power" },
      { id: "poll", type: "tdengine-poll", z: "t1", name: "poll meters", server: "cfg", mode: "table", table: "meters", columns: "v", start: "everything", interval: 20, timestamps: "ms", wires: [["out"]] },
      { id: "host3", type: "perspective-config", path: "/health3" },
      { id: "out", type: "perspective-out", z: "t1", server: "host3", name: "meters", table: "meters_values", interval: 10 },
    ];
    fakeClients.delete("cfg"); // no client: the source cannot connect
    await helper.load([fakeTdengineConfig, pollNode, perspectiveOut, perspectiveConfig, probe], [...flow, { id: "p", type: "probe" }]);
    const cfg = helper.getNode("cfg") as unknown as FakeConfigNode;
    cfg.setState({ state: "disconnected", error: new Error("connect ECONNREFUSED") });
    const waiting = await waitFor("the table listed as waiting, with the source's error", async () => {
      const c = await configJson("/health3");
      return c.waiting?.[0]?.health.state === "error" ? c : undefined;
    }, { timeoutMs: 3000 });
    assert.deepEqual(waiting.tables, []);
    assert.equal(waiting.waiting?.[0].name, "meters_values");
    assert.equal(waiting.waiting?.[0].health.sources?.[0].lastError?.message, "connect ECONNREFUSED");
  });

  it("config.json gives each table the health of its upstream TDengine nodes and the ages of its rows", async () => {
    const client = fakeClients.get("cfg")!;
    const now = Date.now();
    client.insert("d0", now - 5000, { v: 1 });
    const flow = [
      { id: "t1", type: "tab" },
      { id: "cfg", type: "tdengine-config", database: "power" },
      { id: "poll", type: "tdengine-poll", z: "t1", name: "poll meters", server: "cfg", mode: "table", table: "meters", columns: "v", start: "everything", interval: 20, timestamps: "ms", wires: [["fn"]] },
      { id: "fn", type: "function", z: "t1", func: "return msg;", wires: [["out"]] },
      // A host of its own: the default host of the test before may still linger (it does for 5 s after a close).
      { id: "host2", type: "perspective-config", path: "/health2" },
      { id: "out", type: "perspective-out", z: "t1", server: "host2", name: "meters", table: "meters_values", interval: 10 },
      { id: "lonely", type: "perspective-out", z: "t1", server: "host2", name: "no source", table: "manual", schema: '{"i":"integer"}', interval: 10 },
    ];
    // The function node of the runtime under test (Node-RED 4.1 or 5).
    const functionNode = require(require.resolve("@node-red/nodes/core/function/10-function", { paths: [runtimeDir] }));
    await helper.load([fakeTdengineConfig, pollNode, perspectiveOut, perspectiveConfig, functionNode, probe], [...flow, { id: "p", type: "probe" }]);
    const ok = await waitFor("healthy with rows", async () => {
      const t = (await tables("/health2")).find((x) => x.name === "meters_values");
      return t?.health?.lastRowsAgeMs !== undefined ? t.health : undefined;
    });
    assert.equal(ok.state, "ok");
    assert.deepEqual(ok.sources, [{ id: "poll", name: "poll meters", type: "tdengine-poll", state: "connected" }]);
    assert.ok(ok.newestRowAgeMs! >= 5000 && ok.newestRowAgeMs! < 60000, `newest row age ${ok.newestRowAgeMs}`);
    const lonely = (await tables("/health2")).find((x) => x.name === "manual");
    assert.deepEqual(lonely?.health, { state: "unknown" }, "no source and no rows yet");

    const cfg = helper.getNode("cfg") as unknown as FakeConfigNode;
    cfg.setState({ state: "disconnected", error: new Error("connect ECONNREFUSED 127.0.0.1:6041") });
    // A table whose first message has not come (no schema yet) is listed under `waiting`, with its health.
    assert.equal((await configJson("/health2")).waiting, undefined, "nothing waits while every table exists");
    const down = await waitFor("the source's outage in config.json", async () => {
      const t = (await tables("/health2")).find((x) => x.name === "meters_values");
      return t?.health?.state === "error" ? t.health : undefined;
    }, { timeoutMs: 3000 });
    assert.equal(down.sources?.[0].state, "disconnected");
    assert.equal(down.sources?.[0].lastError?.message, "connect ECONNREFUSED 127.0.0.1:6041");
    assert.ok(down.sources![0].lastError!.ageMs >= 0 && down.sources![0].lastError!.ageMs < 10000);
    assert.match(down.summary ?? "", /poll meters: disconnected \(connect ECONNREFUSED/);

    cfg.setState({ state: "connected" });
    const back = await waitFor("connected again", async () => {
      const t = (await tables("/health2")).find((x) => x.name === "meters_values");
      return t?.health?.state === "ok" ? t.health : undefined;
    }, { timeoutMs: 3000 });
    assert.equal(back.sources?.[0].state, "connected");
    assert.ok(back.sources?.[0].lastError, "the old error stays, with its age");
  });
});
