// examples/tdengine-write.json is consistent and works: its function node's rows pass the write node's mapping
// without a single rejection, and its config + write nodes, deployed against the emulator, create power.meters
// and write them (the inject and function nodes are replaced by feeding the function's output directly).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { pipelineSettings, RowMapper } from "../../lib/write";
import helper from "../support/helper";
import { nodeModule, root } from "../support/package-info";
import { waitFor } from "../support/wait";

type ExampleNode = Record<string, unknown> & { id: string; type: string };
const example: ExampleNode[] = JSON.parse(readFileSync(join(root, "examples", "tdengine-write.json"), "utf8"));
const byType = (t: string): ExampleNode => example.find((n) => n.type === t)!;

/** Runs the example's function node body on an inject timestamp. */
function producerRows(now: number): Record<string, unknown>[] {
  const body = String(byType("function").func);
  const fn = new Function("msg", body) as (m: { payload: unknown }) => { payload: Record<string, unknown>[] };
  return fn({ payload: now }).payload;
}

describe("examples/tdengine-write.json", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await emu.stop();
  });
  afterEach(() => helper.unload());

  it("wires inject -> function -> tdengine-write with a connection, and every produced row maps cleanly", () => {
    const write = byType("tdengine-write");
    const cfg = byType("tdengine-config");
    assert.equal(write.server, cfg.id);
    assert.deepEqual(byType("inject").wires, [[byType("function").id]]);
    assert.deepEqual(byType("function").wires, [[write.id]]);
    const settings = pipelineSettings(write as never, String(cfg.database));
    assert.equal(settings.database, "power");
    const mapper = new RowMapper(settings.schema!, settings.map);
    const { rows, errors } = mapper.map(producerRows(Date.now()));
    assert.deepEqual(errors, []);
    assert.equal(rows.length, 250);
    assert.equal(new Set(rows.map((r) => r.table)).size, 10);
  });

  it("creates power.meters and writes the producer's rows", async () => {
    const nodes = example
      .filter((n) => n.type === "tab" || n.type === "tdengine-config" || n.type === "tdengine-write")
      .map((n) => (n.type === "tdengine-config" ? { ...n, url: emu.wsUrl } : n.type === "tdengine-write" ? { ...n, wires: [["sink"]] } : n));
    nodes.push({ id: "sink", type: "helper", z: "tw-tab" });
    await helper.load([nodeModule("tdengine-config"), nodeModule("tdengine-write")], nodes, { "tw-cfg": { user: "root", password: "taosdata" } });
    const done: unknown[] = [];
    helper.getNode("sink").on("input", (m: unknown) => done.push(m));
    const w = helper.getNode("tw-write");
    const now = Date.now();
    w.receive({ payload: producerRows(now) });
    w.receive({ payload: producerRows(now + 250) });
    await waitFor("both messages written", () => done.length === 2);
    assert.equal(Number(emu.sql("SELECT COUNT(*) FROM power.meters").rows[0][0]), 500);
  });
});
