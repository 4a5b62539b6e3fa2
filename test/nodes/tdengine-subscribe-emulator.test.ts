// tdengine-subscribe with the real tdengine-config node against the emulator (topics, vgroups and consumer groups
// in the emulator's /rest/tmq): a topic created on deploy from a SELECT, redeliveries across full deploys made
// idempotent by an indexed Perspective table (each row exactly once in it), consumers counted with SHOW CONSUMERS
// after every deploy and after the flow is gone, and an emulator restart plus dropped connections mid-stream.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { replicaRows } from "../support/replica";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import subscribeModule = require("../../nodes/tdengine-subscribe/tdengine-subscribe");
const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

type Row = { ts: number; v: number; tbname: string; key?: string };
interface Hooks {
  add(name: string, fn: (ev: unknown) => unknown): void;
  remove(name: string): void;
}
const hooks = (): Hooks => (helper as unknown as { _RED: { hooks: Hooks } })._RED.hooks;
const subscribeNode = (RED: object): void =>
  subscribeModule(Object.assign(Object.create(RED) as object, { hooks: hooks() }) as Parameters<typeof subscribeModule>[0]);
const credentials = { cfg: { user: "root", password: "taosdata" } };
const PATH = "/perspective-subscribe-test";

describe("tdengine-subscribe against the emulator", () => {
  let emu: Emulator;
  let nextTs = Date.now() - 3_600_000;
  let client: Client | undefined;

  before(async () => {
    await helper.startServer();
    await loadPerspective();
  });
  after(async () => {
    await client?.terminate().catch(() => undefined);
    await helper.stopServer();
  });
  beforeEach(async () => {
    emu = await startEmulator({ vgroups: 4 });
    emu.sql("CREATE DATABASE power VGROUPS 4");
    emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, v INT) TAGS (gid INT)");
    for (let i = 0; i < 8; i++) emu.sql(`CREATE TABLE power.d${i} USING power.meters TAGS (${i})`);
  });
  afterEach(async () => {
    await helper.unload();
    await emu.stop();
  });

  function write(perTable: number): string[] {
    const keys: string[] = [];
    for (let i = 0; i < 8; i++) {
      const vals: string[] = [];
      for (let k = 0; k < perTable; k++) {
        vals.push(`(${nextTs}, ${i})`);
        keys.push(`d${i}|${nextTs++}`);
      }
      emu.sql(`INSERT INTO power.d${i} VALUES ${vals.join(" ")}`);
    }
    return keys;
  }

  function flow(label: string, sub: Record<string, unknown>): object[] {
    return [
      { id: "f1", type: "tab", label },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 3000, maxBackoff: 300 },
      { id: "pc", type: "perspective-config", path: PATH },
      {
        id: "sub", z: "f1", type: "tdengine-subscribe", server: "cfg", groupId: "g_node", clientId: "node-client",
        offsetReset: "earliest", timestamps: "ms", pollWait: 100, keyField: "key", ...sub, wires: [["out", "seen"]],
      },
      { id: "out", z: "f1", type: "perspective-out", server: "pc", table: "sub_rows", mode: "index", index: "key", interval: 20 },
      { id: "seen", z: "f1", type: "helper" },
    ];
  }

  function collect(into: string[]): void {
    helper.getNode("seen").on("input", (m: { payload: Row[] }) => into.push(...m.payload.map((r) => String(r.key))));
  }

  const consumers = (): number => emu.sql("SHOW CONSUMERS").rows.filter((r) => r[1] === "g_node").length;

  async function tableKeys(): Promise<string[]> {
    const psp = await loadPerspective();
    client ??= await psp.default.websocket(`${helper.url().replace(/^http/, "ws")}${PATH}/ws`);
    void client.on_error(() => undefined);
    const names = await client.get_hosted_table_names();
    if (!names.includes("sub_rows")) return [];
    return (await replicaRows(client, "sub_rows", ["key"])).map((r) => String(r.key));
  }

  it("a topic from a SELECT; redelivery after deploys (manual commit) stays exactly once in an indexed table; no consumer leaks", async () => {
    const sub = { mode: "select", topicName: "t_node", sql: "SELECT ts, v FROM power.meters WHERE v >= 0", commit: "manual" };
    const expected = write(3);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode, perspectiveConfig, perspectiveOut], flow("deploy 0", sub), credentials);
    collect(seen);
    await waitFor("every row once", () => new Set(seen).size >= expected.length);
    assert.equal(emu.sql("SHOW TOPICS").rows.filter((r) => r[0] === "t_node").length, 1, "the topic was created");
    assert.equal(consumers(), 1);
    for (let deploy = 1; deploy <= 3; deploy++) {
      const before = seen.length;
      await helper.setFlows(flow(`deploy ${deploy}`, sub), "full", credentials);
      collect(seen);
      expected.push(...write(1));
      // Nothing was committed: the new node reads everything again, plus the new rows.
      await waitFor(`deploy ${deploy}: everything again`, () => seen.length >= before + expected.length);
      assert.equal(consumers(), 1, `deploy ${deploy}: one consumer in the group`);
    }
    assert.ok(seen.length > new Set(seen).size, "rows were delivered more than once");
    assert.deepEqual([...new Set(seen)].sort(), [...expected].sort(), "none lost");
    let keys: string[] = [];
    await waitFor("the table holds every row", async () => (keys = await tableKeys()).length >= expected.length);
    assert.equal(keys.length, expected.length, "each row exactly once in the indexed table");
    assert.deepEqual([...keys].sort(), [...expected].sort());
    await helper.unload();
    assert.equal(consumers(), 0, "no consumer left after the flow is gone");
  });

  it("an emulator restart and dropped connections during consumption: every row arrives, few repeats", async () => {
    emu.sql("CREATE TOPIC t_restart AS STABLE power.meters");
    const expected = write(2);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode, perspectiveConfig, perspectiveOut], flow("restart", { topics: "t_restart" }), credentials);
    collect(seen);
    await waitFor("the first rows", () => new Set(seen).size >= expected.length);
    const delivered = seen.length;
    await emu.restart();
    expected.push(...write(2));
    await waitFor("the rows after the restart", () => new Set(seen).size >= expected.length);
    emu.faults.dropConnections();
    expected.push(...write(2));
    await waitFor("the rows after the drop", () => new Set(seen).size >= expected.length);
    assert.deepEqual([...new Set(seen)].sort(), [...expected].sort(), "none lost");
    assert.equal(new Set(seen.slice(0, delivered)).size, delivered, "no repeats before the restart");
    // Committed after each message: only a message whose commit was cut off by one of the two faults comes again
    // (at least once), at most one message of 2 rows per vgroup and fault.
    assert.ok(seen.length - expected.length <= 16, `few repeats (${seen.length - expected.length})`);
    await waitFor("one consumer again", () => consumers() === 1);
  });
});
