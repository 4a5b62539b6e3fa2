// tdengine-poll inside Node-RED, against a stand-in config node and client: output messages, control
// messages, done()/Catch behaviour, status, and clean close. (Emulator-backed tests: tdengine-poll-emulator.)
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import helper from "../support/helper";
import { FakeTdengineClient } from "../support/fake-tdengine-client";
import { fakeClients, fakeTdengineConfig, type FakeConfigNode } from "../support/fake-tdengine-config";
import { waitFor } from "../support/wait";
import { sourceHealth } from "../../lib/health/source-health";
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");

type Msg = Record<string, unknown> & { payload: Record<string, unknown>[] };

function flow(poll: Record<string, unknown> = {}): object[] {
  const z = "f1";
  return [
    { id: z, type: "tab", label: "poll" },
    { id: "cfg", type: "tdengine-config", database: "power" },
    {
      id: "poll",
      type: "tdengine-poll",
      z,
      server: "cfg",
      mode: "table",
      table: "meters",
      columns: "v",
      start: "everything",
      interval: 10,
      timestamps: "ms",
      topic: "meters",
      wires: [["out"]],
      ...poll,
    },
    { id: "out", type: "helper", z },
    { id: "catcher", type: "catch", z, scope: ["poll"], wires: [["caught"]] },
    { id: "caught", type: "helper", z },
    { id: "completer", type: "complete", z, scope: ["poll"], wires: [["completed"]] },
    { id: "completed", type: "helper", z },
  ];
}

/** Collects what a helper node receives. */
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on("input", (m: Msg) => got.push(m));
  return got;
}

const keys = (msgs: Msg[]): string[] => msgs.flatMap((m) => m.payload.map((r) => `${String(r.tbname)}@${String(r.ts)}`));

describe("tdengine-poll node (stand-in connection)", () => {
  let client: FakeTdengineClient;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    client = new FakeTdengineClient("ms");
    fakeClients.set("cfg", client);
  });
  afterEach(async () => {
    await helper.unload();
    fakeClients.clear();
  });

  it("sends new rows once per poll with columns, watermark and topic; empty polls send nothing", async () => {
    for (let t = 0; t < 3; t++) client.insert(`d${t}`, 1000, { v: t });
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    await waitFor("first rows", () => out.length === 1);
    assert.equal(out[0].topic, "meters");
    assert.deepEqual(keys(out).sort(), ["d0@1000", "d1@1000", "d2@1000"]);
    assert.deepEqual((out[0].columns as { name: string }[]).map((c) => c.name), ["ts", "v", "tbname"]);
    assert.deepEqual(out[0].watermark, { value: "1000", precision: "ms", ms: 1000 });
    const before = client.queries.length;
    await waitFor("several empty polls", () => client.queries.length >= before + 5);
    assert.equal(out.length, 1, "empty polls send nothing");
    client.insert("d3", 1000, { v: 3 });
    client.insert("d0", 1001, { v: 0 });
    await waitFor("second message", () => out.length === 2);
    assert.deepEqual(keys([out[1]]).sort(), ["d0@1001", "d3@1000"]);
    // Every poll bound the watermark as a parameter.
    assert.ok(client.queries.every((q) => q.sql.includes("WHERE `ts` >= ?") && typeof q.params[0] === "bigint"));
  });

  it("an input message polls now and completes after it; with 'send empty' an empty poll sends []", async () => {
    await helper.load([fakeTdengineConfig, pollNode], flow({ interval: 0, emitEmpty: true }));
    const out = collect("out");
    const completed = collect("completed");
    helper.getNode("poll").receive({ payload: "go" });
    await waitFor("completion", () => completed.length === 1);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0].payload, []);
    client.insert("d0", 5, { v: 1 });
    helper.getNode("poll").receive({ payload: "again" });
    await waitFor("second completion", () => completed.length === 2);
    assert.deepEqual(keys(out), ["d0@5"]);
    assert.equal(client.queries.length, 2, "interval 0: polls only when triggered");
  });

  it("polls once at deploy, not an interval later", async () => {
    client.insert("d0", 7, { v: 1 });
    // An hour's interval: rows within the test's time can only come from a poll at deploy.
    await helper.load([fakeTdengineConfig, pollNode], flow({ interval: 3_600_000 }));
    const out = collect("out");
    await waitFor("the rows of the first poll", () => out.length === 1);
    assert.deepEqual(keys(out), ["d0@7"]);
  });

  it("reset forgets the watermark; pause stops interval polls, resume restarts them", async () => {
    client.insert("d0", 10, { v: 1 });
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    const completed = collect("completed");
    const poll = helper.getNode("poll");
    await waitFor("rows", () => out.length === 1);
    poll.receive({ pause: true });
    await waitFor("pause handled", () => completed.length === 1);
    await waitFor("paused status", () => poll.status.lastCall?.args[0]?.text === "tdengine-poll.status.paused");
    poll.receive({ topic: "reset" });
    await waitFor("reset handled", () => completed.length === 2);
    poll.receive({ topic: "resume" });
    await waitFor("all rows again after the reset", () => out.length === 2);
    assert.deepEqual(keys(out), ["d0@10", "d0@10"]);
  });

  it("a failing interval poll reaches Catch once per failure state and recovers without loss", async () => {
    client.insert("d0", 1, { v: 1 });
    client.failNext = { n: 2, error: Object.assign(new Error("Table does not exist"), { kind: "server", code: 0x2603 }) };
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    const caught = collect("caught");
    await waitFor("recovered and sent the row", () => out.length === 1, { timeoutMs: 10000 });
    assert.equal(client.failNext.n, 0, "both failures happened");
    assert.equal(caught.length, 1, "one error for two failures of the same kind");
    assert.match(String((caught[0].error as { message: string }).message), /tdengine-poll\.errors\.poll/);
    assert.deepEqual(keys(out), ["d0@1"]);
  });

  it("a failing triggered poll ends its message with done(err): Catch gets the original message", async () => {
    await helper.load([fakeTdengineConfig, pollNode], flow({ interval: 0 }));
    const caught = collect("caught");
    const completed = collect("completed");
    client.failNext = { n: 1, error: new Error("boom") };
    helper.getNode("poll").receive({ payload: "x", topic: "mine" });
    await waitFor("catch", () => caught.length === 1);
    assert.equal(caught[0].topic, "mine");
    assert.match((caught[0].error as { message: string }).message, /boom/);
    assert.equal(completed.length, 0);
  });

  it("shows the connection state and polls again once connected", async () => {
    client.insert("d0", 1, { v: 1 });
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    const cfg = helper.getNode("cfg") as unknown as FakeConfigNode;
    const poll = helper.getNode("poll");
    await waitFor("rows", () => out.length === 1);
    cfg.setState({ state: "disconnected", error: new Error("refused") });
    assert.deepEqual(poll.status.lastCall.args[0], { fill: "red", shape: "ring", text: "node-red:common.status.disconnected" });
    client.insert("d0", 2, { v: 2 });
    cfg.setState({ state: "connected" });
    await waitFor("row after reconnect", () => out.length === 2);
    await waitFor("running status: rows/s and lag (short: no clock time)", () => {
      const st = poll.status.lastCall?.args[0];
      return st?.fill === "green" && /^tdengine-poll\.status\.rate · tdengine-poll\.status\.lag$/.test(st.text);
    });
    assert.ok(cfg.users.has(poll as never), "registered with the connection");
  });

  it("after an outage polls as soon as the connection is back (not after the back-off) and publishes its health", async () => {
    client.insert("d0", 1, { v: 1 });
    await helper.load([fakeTdengineConfig, pollNode], flow({ name: "poller" }));
    const out = collect("out");
    const cfg = helper.getNode("cfg") as unknown as FakeConfigNode & { getClient: () => Promise<unknown> };
    const poll = helper.getNode("poll");
    await waitFor("rows", () => out.length === 1);
    assert.deepEqual(sourceHealth("poll"), { id: "poll", name: "poller", type: "tdengine-poll", state: "connected" });
    let attempts = 0;
    const getClient = cfg.getClient;
    cfg.getClient = () => {
      attempts++;
      return getClient();
    };
    // Three failed polls: the back-off is now 4 s (1 s, 2 s, 4 s).
    cfg.setState({ state: "disconnected", error: new Error("connect ECONNREFUSED") });
    await waitFor("three failed polls", () => attempts >= 3, { timeoutMs: 8000 });
    const down = sourceHealth("poll");
    assert.equal(down?.state, "disconnected");
    assert.equal(down?.lastError?.message, "connect ECONNREFUSED");
    client.insert("d0", 2, { v: 2 });
    cfg.setState({ state: "connected" });
    // Within the poll interval plus a second, far inside the 4 s back-off.
    await waitFor("the row after reconnecting", () => out.length === 2, { timeoutMs: 1000 });
    await waitFor("green again", () => poll.status.lastCall?.args[0]?.fill === "green", { timeoutMs: 1500 });
    const up = sourceHealth("poll");
    assert.equal(up?.state, "connected", "the current state");
    assert.ok(up?.lastError, "the old error is kept, with its time");
    await helper.clearFlows();
    assert.equal(sourceHealth("poll"), undefined, "forgotten on close");
  });

  it("a failure that ends without a reconnect (a table created later) is retried within 2 s, not after a growing back-off", async () => {
    client.insert("d0", 1, { v: 1 });
    // Four failures in a row: with a doubling back-off the fifth poll would come 1 + 2 + 4 + 8 = 15 s later.
    client.failNext = { n: 4, error: Object.assign(new Error("Table does not exist"), { kind: "server", code: 0x2603 }) };
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    const poll = helper.getNode("poll");
    await waitFor("the row once the table exists", () => out.length === 1, { timeoutMs: 9000 });
    await waitFor("green", () => poll.status.lastCall?.args[0]?.fill === "green", { timeoutMs: 1500 });
  });

  it("keeps a failure's status short: whole words, at most about 30 characters", async () => {
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const poll = helper.getNode("poll");
    client.failNext = { n: 100, error: Object.assign(new Error("Table does not exist in the database power at all"), { kind: "server", code: 0x2603 }) };
    const st = await waitFor("error status", () => {
      const s = poll.status.lastCall?.args[0];
      return s?.fill === "red" ? s : undefined;
    });
    // In this harness RED._ returns the key (26 characters), so the message keeps only its 12-character minimum,
    // cut after a whole word.
    assert.equal(st.text, "tdengine-poll.status.errorTable does…");
  });

  it("a bad configuration is reported and every input ends with done(err)", async () => {
    await helper.load([fakeTdengineConfig, pollNode], flow({ table: "bad name;" }));
    const caught = collect("caught");
    const poll = helper.getNode("poll");
    assert.deepEqual(poll.status.lastCall.args[0], { fill: "red", shape: "ring", text: "tdengine-poll.status.config-error" });
    poll.receive({ payload: 1 });
    await waitFor("catch", () => caught.length === 1);
    assert.equal(client.queries.length, 0);
  });

  it("close waits for a running poll, does not send its rows, and deregisters", async () => {
    let release!: () => void;
    client.gate = new Promise<void>((r) => (release = r));
    client.insert("d0", 1, { v: 1 });
    await helper.load([fakeTdengineConfig, pollNode], flow());
    const out = collect("out");
    const cfg = helper.getNode("cfg") as unknown as FakeConfigNode;
    await waitFor("poll in flight", () => client.inFlight === 1);
    const closing = helper.clearFlows();
    release();
    await closing;
    assert.equal(out.length, 0, "rows of a poll finishing during close are not sent");
    assert.equal(cfg.users.size, 0, "deregistered");
    assert.equal(client.maxInFlight, 1, "never two polls at once");
  });
});
