// tdengine-query against a scripted adapter that records every frame: per-block output asks for the next block
// only after it has the previous one (one block ahead, to know which message is the last), a query still running
// when the flow is stopped is cancelled (fetching stops, the result is freed, nothing is sent), and the emulator's
// slow replies cancelled the same way.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator } from "../../emulator";
import helper from "../support/helper";
import { resultServer, type ResultServer } from "../support/scripted-results";
import { BLOCK_TEN_ROWS } from "../support/tdengine-blocks";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import queryNode = require("../../nodes/tdengine-query/tdengine-query");

type Msg = Record<string, unknown> & { payload: unknown };
interface NodeLike {
  on(event: "input", cb: (msg: Msg) => void): void;
  receive(msg: Record<string, unknown>): void;
}

function flow(url: string, query: Record<string, unknown>): object[] {
  return [
    { id: "f1", type: "tab", label: "query" },
    { id: "cfg", type: "tdengine-config", url, database: "", timeout: 5000 },
    { id: "q", z: "f1", type: "tdengine-query", server: "cfg", sql: "select v from t", output: "block", wires: [["out"]], ...query },
    { id: "out", z: "f1", type: "helper" },
  ];
}

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as unknown as NodeLike).on("input", (m: Msg) => got.push(m));
  return got;
}

describe("tdengine-query cancellation and back-pressure", () => {
  let server: ResultServer | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await server?.close();
    server = undefined;
  });

  it("per-block output fetches block by block: never more than one block ahead of what it sent", async () => {
    server = await resultServer({ blocks: [BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS], hold: true });
    await helper.load([configNode, queryNode], flow(server.url, {}), { cfg: { user: "root", password: "taosdata" } });
    const out = collect("out");
    (helper.getNode("q") as unknown as NodeLike).receive({ payload: 1 });
    // Each fetch is answered only when released: the node must not ask for block n+2 before sending block n.
    for (let n = 1; n <= 4; n++) {
      await waitFor(`fetch ${n}`, () => server!.fetches() === n);
      assert.equal(server.fetches(), n);
      assert.ok(out.length >= n - 2, `sent ${out.length} messages when asking for block ${n}`);
      server.release();
    }
    await waitFor("three messages", () => out.length === 3);
    assert.equal(server.fetches(), 4, "three blocks and the finished reply");
    assert.deepEqual(server.frees(), []);
  });

  it("stopping the flow while a fetch is pending cancels the query: the result is freed, nothing is sent", async () => {
    server = await resultServer({ blocks: [BLOCK_TEN_ROWS, BLOCK_TEN_ROWS], hold: true });
    await helper.load([configNode, queryNode], flow(server.url, { output: "all" }), { cfg: { user: "root", password: "taosdata" } });
    const out = collect("out");
    (helper.getNode("q") as unknown as NodeLike).receive({ payload: 1 });
    await waitFor("the first fetch", () => server!.fetches() === 1);
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 5000, "close did not wait for the 5 s request timeout");
    await waitFor("free_result", () => server!.frees().length === 1);
    assert.deepEqual(server.frees(), [7]);
    server.release();
    assert.equal(out.length, 0);
    assert.equal(server.fetches(), 1, "no fetch after the cancel");
  });

  it("the row cap stops reading at the block that passes it and frees the result", async () => {
    server = await resultServer({ blocks: [BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS] });
    const nodes = [...flow(server.url, { output: "all", maxRows: 15 }), { id: "c", z: "f1", type: "catch", scope: ["q"], wires: [["caught"]] }, { id: "caught", z: "f1", type: "helper" }];
    await helper.load([configNode, queryNode], nodes, { cfg: { user: "root", password: "taosdata" } });
    const out = collect("out");
    const caught = collect("caught");
    (helper.getNode("q") as unknown as NodeLike).receive({ payload: 1 });
    await waitFor("the row-cap error", () => caught.length === 1);
    assert.match(String((caught[0].error as { message: string }).message), /more than 15 rows/);
    await waitFor("free_result", () => server!.frees().length === 1);
    assert.ok(server.fetches() <= 3, `stopped early (${server.fetches()} fetches for 4 blocks + finished)`);
    assert.equal(out.length, 0);
  });

  it("a query slowed down by the emulator is cancelled by a redeploy", async () => {
    const emu = await startEmulator();
    try {
      emu.sql("CREATE DATABASE power");
      emu.sql("CREATE TABLE power.t (ts TIMESTAMP, v INT)");
      emu.sql("INSERT INTO power.t VALUES (1700000000000, 1)");
      await helper.load([configNode, queryNode], flow(emu.wsUrl, { sql: "SELECT v FROM power.t", output: "all" }), { cfg: { user: "root", password: "taosdata" } });
      const out = collect("out");
      // Let the connection come up before slowing every reply down.
      (helper.getNode("q") as unknown as NodeLike).receive({ payload: 1 });
      await waitFor("a first result", () => out.length === 1);
      emu.faults.delayReplies(3000);
      const requests = emu.stats().requests;
      (helper.getNode("q") as unknown as NodeLike).receive({ payload: 2 });
      await waitFor("the query at the emulator", () => emu.stats().requests > requests);
      const t0 = Date.now();
      await helper.unload();
      assert.ok(Date.now() - t0 < 2500, `close took ${Date.now() - t0} ms: it waited for the slow reply`);
      assert.equal(out.length, 1, "nothing sent for the cancelled query");
    } finally {
      await emu.stop();
    }
  });
});
