// tdengine-poll woken by a tdengine-write of the same Node-RED: with a poll interval far longer than the test,
// rows written locally still arrive (the write's acknowledged batch wakes the poller), each exactly once, also
// when the write goes through another tdengine-config node naming the same server.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");
import writeNode = require("../../nodes/tdengine-write/tdengine-write");

type Row = Record<string, unknown> & { tbname: string; ts: number };

describe("tdengine-poll woken by a local tdengine-write", () => {
  let emu: Emulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await helper.unload();
    await emu.stop();
  });

  /** The demo's write and poll settings, except a poll interval of 60 s: only a wake can deliver in time. */
  function flow(writeServer: string): object[] {
    return [
      { id: "f1", type: "tab", label: "wake" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      { id: "cfg2", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      {
        id: "w", z: "f1", type: "tdengine-write", server: writeServer, stable: "meters", subtableMode: "template", subtable: "d_${groupid}", tsField: "ts", tsUnit: "ms",
        columns: "ts TIMESTAMP, current FLOAT, voltage INT", tags: "groupid INT", autoCreate: true, precision: "ms", batchSize: 1000, flushInterval: 100, wires: [],
      },
      {
        id: "poll", z: "f1", type: "tdengine-poll", server: "cfg", mode: "table", table: "meters", columns: "current, voltage", tags: "groupid", includeTbname: true,
        tsColumn: "ts", interval: 60_000, start: "lookback", startWindow: 1, startWindowUnit: "h", lookback: 1000, timestamps: "ms", wires: [["out"]],
      },
      { id: "out", z: "f1", type: "helper" },
    ];
  }
  const credentials = { cfg: { user: "root", password: "taosdata" }, cfg2: { user: "root", password: "taosdata" } };

  it("a message written as several batches reaches the poller's output as one message, not batch by batch", async () => {
    await helper.load([configNode, writeNode, pollNode], flow("cfg"), credentials);
    const messages: Row[][] = [];
    helper.getNode("out").on("input", (m: { payload: Row[] }) => messages.push(m.payload));
    const w = helper.getNode("w");
    const base = Date.now() - 5000;
    const message = (from: number, n: number): Record<string, unknown>[] =>
      Array.from({ length: n }, (_, i) => ({ ts: base + Math.floor((from + i) / 10), current: 1.5, voltage: 220, groupid: (from + i) % 10 }));
    w.receive({ payload: message(0, 10) });
    await waitFor("the first message polled", () => messages.flat().length === 10, { timeoutMs: 15_000 });
    // 3,000 rows, batches of 1,000, each reply 10 ms late (a network): the batches land one by one over tens of
    // ms, and no batch's wake may make a poll that sends part of the message.
    emu.faults.delayReplies(10);
    w.receive({ payload: message(10, 3000) });
    await waitFor("the large message polled", () => messages.flat().length >= 3010, { timeoutMs: 15_000 });
    assert.deepEqual(messages.map((m) => m.length), [10, 3000]);
  });

  for (const writeServer of ["cfg", "cfg2"]) {
    it(`delivers every locally written row exactly once without waiting for the interval (write through ${writeServer === "cfg" ? "the same" : "another"} tdengine-config)`, async () => {
      await helper.load([configNode, writeNode, pollNode], flow(writeServer), credentials);
      const got: Row[] = [];
      helper.getNode("out").on("input", (m: { payload: Row[] }) => got.push(...m.payload));
      const w = helper.getNode("w");
      const base = Date.now() - 5000;
      // 20 messages of 10 meters x 5 ms, back to back: many batches and wakes, polls never overlapping.
      let ts = base;
      for (let m = 0; m < 20; m++) {
        const payload: Record<string, unknown>[] = [];
        for (let k = 0; k < 5; k++, ts++) for (let g = 0; g < 10; g++) payload.push({ ts, current: 1.5, voltage: 220, groupid: g });
        w.receive({ payload });
      }
      await waitFor("the 1000 written rows delivered by the poller", () => got.length >= 1000, { timeoutMs: 15_000 });
      const keys = got.map((r) => `${r.tbname}@${r.ts}`);
      assert.equal(new Set(keys).size, keys.length, "no row delivered twice");
      const stored = emu.sql("SELECT tbname, ts FROM power.meters").rows.map((r) => `${String(r[0])}@${Number(r[1])}`);
      assert.deepEqual([...keys].sort(), [...stored].sort());
    });
  }
});
