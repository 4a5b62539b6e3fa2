// Prepared-statement reuse of the poller over the real client and the taosAdapter emulator: an idle poll is
// bind + exec + result + 2 fetches (5 requests; without reuse also stmt2_init, stmt2_prepare and stmt2_close,
// 8), a statement error or a new connection prepares again,
// and closing the node closes its kept statement.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { Poller } from "../../lib/poll";
import { openClient } from "../../lib/tdengine";
import type { Stmt2, TdengineClientApi } from "../../lib/tdengine/api";
import type { TdengineConfigNode } from "../../nodes/shared/tdengine-config-api";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");

const table = { database: "power", table: "meters", tsColumn: "ts", columns: ["voltage"], tags: [] };

function setUp(emu: Emulator): void {
  emu.sql("CREATE DATABASE power PRECISION 'ms'");
  emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, voltage INT) TAGS (groupid INT)");
}

function insert(emu: Emulator, ts: number): void {
  emu.sql(`INSERT INTO power.d0 USING power.meters TAGS (0) VALUES (${ts}, 220)`);
}

/** Counts prepares on a client and the closes of the statements it prepared. */
function spy(client: TdengineClientApi): { prepares: number; closed: number } {
  const counts = { prepares: 0, closed: 0 };
  const prepare = client.prepare.bind(client);
  client.prepare = async (sql, opts) => {
    const stmt: Stmt2 = await prepare(sql, opts);
    counts.prepares++;
    const close = stmt.close.bind(stmt);
    stmt.close = () => (counts.closed++, close());
    return stmt;
  };
  return counts;
}

describe("tdengine-poll: prepared statement reuse (emulator)", () => {
  let emu: Emulator;
  const clients: TdengineClientApi[] = [];
  const now = Date.now();

  beforeEach(async () => {
    emu = await startEmulator();
    setUp(emu);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await emu.stop();
  });

  async function client(): Promise<TdengineClientApi> {
    const c = await openClient({ url: emu.wsUrl, timeoutMs: 5000 });
    clients.push(c);
    return c;
  }

  // An idle table-mode poll re-reads the row at the watermark (`ts >= watermark`, de-duplicated), so its
  // result has one block: fetch (block) + fetch (finished).
  it("an idle poll costs 5 requests (bind, exec, result, 2 fetches) and prepares once", async () => {
    const c = await client();
    const counts = spy(c);
    const p = new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" } });
    insert(emu, now - 10);
    assert.equal((await p.poll(c)).rows.length, 1);
    const before = emu.stats().requests;
    for (let i = 0; i < 10; i++) assert.equal((await p.poll(c)).rows.length, 0);
    assert.equal(emu.stats().requests - before, 50, "5 requests per idle poll");
    insert(emu, now - 5);
    const r = await p.poll(c);
    assert.equal(r.rows.length, 1, "a re-bound statement sees the new row");
    assert.equal(counts.prepares, 1);
    assert.equal(counts.closed, 0);
    await p.close();
    assert.equal(counts.closed, 1, "close() closes the kept statement");
  });

  it("after a statement error the next poll prepares again and reads on", async () => {
    const c = await client();
    const counts = spy(c);
    const p = new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" } });
    insert(emu, now - 10);
    await p.poll(c);
    emu.faults.failNext(1, 0x2603, "injected");
    await assert.rejects(p.poll(c), /injected/);
    assert.equal(counts.closed, 1, "the failed statement is closed");
    insert(emu, now - 5);
    const r = await p.poll(c);
    assert.equal(r.rows.length, 1);
    assert.equal(counts.prepares, 2);
    await p.close();
  });

  it("a new connection gets its own statement; ids of the dropped socket are not reused", async () => {
    const first = await client();
    const firstCounts = spy(first);
    const p = new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" } });
    insert(emu, now - 10);
    await p.poll(first);
    const gone = new Promise((r) => first.once("close", r));
    emu.faults.dropConnections();
    await gone;
    const second = await client();
    const secondCounts = spy(second);
    insert(emu, now - 5);
    const r = await p.poll(second);
    assert.equal(r.rows.length, 1);
    assert.equal(secondCounts.prepares, 1, "prepared on the new connection");
    assert.equal(firstCounts.closed, 0, "nothing sent for the dead socket's statement");
    const before = emu.stats().requests;
    await p.poll(second);
    assert.equal(emu.stats().requests - before, 5, "reused on the new connection");
    await p.close();
    assert.equal(secondCounts.closed, 1);
  });
});

describe("tdengine-poll node: prepared statement lifetime", () => {
  let emu: Emulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    emu = await startEmulator();
    setUp(emu);
  });
  afterEach(async () => {
    await helper.unload();
    await emu.stop();
  });

  it("polls with one prepared statement and closes it when the node closes", async () => {
    const flow = [
      { id: "f1", type: "tab", label: "poll" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      { id: "poll", z: "f1", type: "tdengine-poll", server: "cfg", mode: "table", table: "meters", columns: "voltage", start: "everything", interval: 5, timestamps: "ms", wires: [["out"]] },
      { id: "out", z: "f1", type: "helper" },
    ];
    await helper.load([configNode, pollNode], flow, { cfg: { user: "root", password: "taosdata" } });
    const out: unknown[] = [];
    helper.getNode("out").on("input", (m: unknown) => out.push(m));
    const cfg = helper.getNode("cfg") as unknown as TdengineConfigNode;
    const c = await cfg.getClient();
    const counts = spy(c);
    // The statement prepared before the spy was installed is replaced by failing it once.
    emu.faults.failNext(1, 0x2603, "injected");
    const start = emu.stats().requests;
    await waitFor("polls after the failure", () => counts.prepares === 1 && emu.stats().requests > start + 40, { timeoutMs: 10_000 });
    insert(emu, Date.now() - 10);
    await waitFor("the row", () => out.length === 1);
    assert.equal(counts.prepares, 1, "many polls, one prepare");
    assert.equal(counts.closed, 0);
    await (helper.getNode("poll") as unknown as { close(removed: boolean): Promise<void> }).close(true);
    assert.equal(counts.closed, 1, "closed with the node");
  });
});
