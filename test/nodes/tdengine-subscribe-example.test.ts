// examples/tdengine-subscribe.json works as shipped: deployed against the emulator, its tdengine-write node
// creates power.meters, its tdengine-subscribe node creates the topic from its SELECT (retrying until the super
// table exists) and receives the rows, and its slot function and indexed perspective-out node keep each row once
// in meters_values, also when the subscription delivers rows again after a redeploy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { root } from "../support/package-info";
import { replicaRows } from "../support/replica";
import { runtimeDir } from "../support/runtime";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import writeNode = require("../../nodes/tdengine-write/tdengine-write");
import subscribeNode = require("../../nodes/tdengine-subscribe/tdengine-subscribe");
const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");
const functionNode = require(require.resolve("@node-red/nodes/core/function/10-function", { paths: [runtimeDir] }));

type ExampleNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };
const example: ExampleNode[] = JSON.parse(readFileSync(join(root, "examples", "tdengine-subscribe.json"), "utf8"));
const byId = (id: string): ExampleNode => example.find((n) => n.id === id)!;
const byType = (t: string): ExampleNode => example.find((n) => n.type === t)!;

describe("examples/tdengine-subscribe.json", () => {
  let emu: Emulator;
  let client: Client | undefined;
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
    await loadPerspective();
  });
  after(async () => {
    await client?.terminate().catch(() => undefined);
    await helper.unload();
    await helper.stopServer();
    await emu.stop();
  });

  it("subscribes in place of polling and keeps every row once in the indexed meters_values table", async () => {
    const sub = byType("tdengine-subscribe");
    const out = byType("perspective-out");
    assert.equal(byType("tdengine-poll"), undefined, "no poll node");
    assert.equal(sub.mode, "select");
    assert.deepEqual(sub.wires, [["pms-slot"]]);
    assert.deepEqual(byId("pms-slot").wires, [[out.id]]);
    assert.equal(out.mode, "index");
    assert.equal(out.index, "slot");
    assert.deepEqual(byId("pms-write").wires ?? [[]], [[]]);

    const cfg = byType("tdengine-config");
    // The producer is driven by the test (no inject timer); everything else as shipped, pointed at the emulator.
    const nodes = () =>
      example
        .filter((n) => !["inject", "catch", "debug", "comment"].includes(n.type) && n.id !== "pms-produce")
        .map((n) => (n.type === "tdengine-config" ? { ...n, url: emu.wsUrl } : n.type === "tdengine-subscribe" ? { ...n, offsetReset: "earliest" } : n));
    await helper.load([configNode, writeNode, subscribeNode, functionNode, perspectiveConfig, perspectiveOut], nodes(), { [cfg.id]: { user: "root", password: "taosdata" } });

    const base = Date.now() - 10_000;
    const send = (from: number, n: number): void => {
      const rows = [];
      for (let k = 0; k < n; k++) {
        for (let g = 0; g < 3; g++) rows.push({ ts: base + from + k, current: 1 + g, voltage: 220, phase: 0.5, groupid: g, location: `L${g}` });
      }
      helper.getNode("pms-write").receive({ payload: rows });
    };
    send(0, 20);
    const psp = await loadPerspective();
    client = await psp.default.websocket(`${helper.url().replace(/^http/, "ws")}${String(byType("perspective-config").path)}/ws`);
    void client.on_error(() => undefined);
    const count = async (): Promise<number> => {
      if (!(await client!.get_hosted_table_names()).includes("meters_values")) return 0;
      return (await replicaRows(client!, "meters_values", ["slot"])).length;
    };
    await waitFor("60 rows in meters_values", async () => (await count()) >= 60, { timeoutMs: 20_000 });
    const rows = await replicaRows(client, "meters_values");
    assert.deepEqual(Object.keys(rows[0]).sort(), ["current", "groupid", "location", "phase", "slot", "tbname", "ts", "voltage"]);

    // A redeploy with a new group (offsets from the earliest): every row comes again, the table stays at 60.
    await helper.setFlows(nodes().map((n) => (n.type === "tdengine-subscribe" ? { ...n, groupId: "again" } : n)), "full", { [cfg.id]: { user: "root", password: "taosdata" } });
    send(20, 5);
    await waitFor("75 rows", async () => (await count()) >= 75, { timeoutMs: 20_000 });
    assert.equal(await count(), 75, "rows delivered again replaced themselves");
  });
});
