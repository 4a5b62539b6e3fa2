// ui-perspective where Dashboard 2.0 is not installed (its own test file: a process that loaded the dashboard
// cannot unload it). The package loads, the other nodes work, and each widget node says on its status that
// Dashboard 2.0 is missing; the log says it once; a message to it is reported, not lost silently.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import helper from "../support/helper";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { waitFor } from "../support/wait";

const uiPerspective = require("../../nodes/ui-perspective/ui-perspective");
const MISSING = "Dashboard 2.0 is not installed: install @flowfuse/node-red-dashboard (Manage palette) to show Perspective viewers in it";

const widget = (id: string) => ({ id, type: "ui-perspective", z: "tab", x: 300, y: 100, group: "group-of-a-missing-dashboard", table: "meters_values", layout: "", wires: [] });

describe("ui-perspective without Dashboard 2.0 (test helper)", () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it("says so on the status of every widget node, in the log once, and reports messages", async () => {
    // Statuses set while a node starts: recorded on Node-RED's Node class (found through a first load).
    await helper.load(uiPerspective, [widget("probe")]);
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(helper.getNode("probe"))) as { status(this: { id: string }, s: unknown): void };
    await helper.unload();
    const statuses: { id: string; status: { text?: string; fill?: string } }[] = [];
    const original = proto.status;
    proto.status = function (s: { text?: string; fill?: string }) {
      statuses.push({ id: this.id, status: s });
      return original.call(this, s);
    };
    try {
      await helper.load(uiPerspective, [
        { id: "tab", type: "tab", label: "t" },
        widget("w1"),
        widget("w2"),
        { id: "c1", type: "catch", z: "tab", x: 100, y: 200, scope: ["w1"], uncaught: false, wires: [["hc"]] },
        { id: "hc", type: "helper", z: "tab", x: 300, y: 200 },
      ] as object[]);
    } finally {
      proto.status = original;
    }
    const caught = new Promise<{ error: { message: string }; _msgid: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("nothing reached the Catch node within 10 s")), 10000);
      helper.getNode("hc").on("input", (m: unknown) => (clearTimeout(timer), resolve(m as never)));
    });
    helper.getNode("w1").receive({ payload: { plugin: "Datagrid" }, _msgid: "m1" } as never);
    const m = await caught;
    assert.ok(m.error.message.includes(MISSING), m.error.message);
    assert.equal(m._msgid, "m1");
    const warnings = (helper.log().args as unknown as { level?: number; msg?: unknown }[][]).map((a) => a[0]).filter((e) => e?.msg === MISSING);
    assert.equal(warnings.length, 1, "logged once for both widget nodes");
    assert.deepEqual(
      statuses.filter((s) => s.id === "w1" || s.id === "w2"),
      ["w1", "w2"].map((id) => ({ id, status: { fill: "red", shape: "ring", text: "Dashboard 2.0 is not installed" } })),
    );
  });
});

describe("ui-perspective without Dashboard 2.0 (a real Node-RED)", () => {
  let nr: NodeRedProcess;
  after(async () => nr?.stop());

  it("the package loads, its other nodes work, and the log says once that Dashboard 2.0 is missing", async () => {
    nr = await startNodeRed({
      flows: [
        { id: "tab", type: "tab", label: "t" },
        { id: "tick", type: "inject", z: "tab", x: 100, y: 40, repeat: "0.5", once: true, onceDelay: 0.1, payload: '{"v": 1}', payloadType: "json", wires: [["out"]] },
        { id: "out", type: "perspective-out", z: "tab", x: 300, y: 40, table: "still_served", mode: "limit", limit: 10, schema: '{"v":"float"}', wires: [] },
        widget("w1"),
        widget("w2"),
      ],
    });
    const res = await nr.admin("GET", "/nodes");
    const sets = (await res.json()) as { types: string[]; enabled: boolean; err?: string }[];
    const ours = sets.find((s) => s.types.includes("ui-perspective"));
    assert.ok(ours?.enabled && !ours.err, `ui-perspective loaded: ${JSON.stringify(ours)}`);
    assert.ok(!sets.some((s) => s.types.includes("ui-base")), "Dashboard 2.0 is not there");
    await waitFor("the perspective table served", async () => {
      const cfg = (await (await fetch(`${nr.url}/perspective/config.json`)).json()) as { tables: { name: string }[] };
      return cfg.tables.some((t) => t.name === "still_served");
    });
    await waitFor("the warning", () => nr.output().includes(MISSING));
    assert.equal(nr.output().split(MISSING).length - 1, 1, "once");
  });
});
