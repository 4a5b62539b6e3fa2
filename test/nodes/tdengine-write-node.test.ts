// tdengine-write in a real flow (node-red-node-test-helper) against the emulator on an ephemeral port: what
// landed is checked by querying the emulator. Covers auto-create, mapping and overrides, batching, the
// optional output, rejected rows reaching a Catch node, server errors, an outage with exactly-once delivery,
// the buffer bound, flush on close and cleanup on redeploy; and what an operator sees during an outage (first
// failure reported once, refusals summarised, status and health after recovery).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { trackTimers } from "../support/timer-tracker";
import { waitFor } from "../support/wait";
import { sourceHealth } from "../../lib/health/source-health";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");

let emu: Emulator;
let dbSeq = 0;

interface Msg {
  payload: unknown;
  errors?: Array<{ index: number; field?: string; reason: string }>;
  error?: { message: string };
  [k: string]: unknown;
}

function meterRows(n: number, start = 0, base = 1700000000000): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: base + start + i,
    current: 10 + ((start + i) % 7) * 0.5,
    voltage: 200 + ((start + i) % 30),
    phase: 0.25,
    groupid: (start + i) % 10,
    location: `loc_${(start + i) % 10}`,
  }));
}

/** A flow: config -> write (-> out helper), plus a Catch node scoped to the write node. */
function flow(db: string, write: Record<string, unknown> = {}, cfg: Record<string, unknown> = {}): object[] {
  return [
    { id: "tab", type: "tab", label: "test" },
    { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 2000, maxBackoff: 200, ...cfg },
    {
      id: "w",
      type: "tdengine-write",
      z: "tab",
      server: "cfg",
      stable: "meters",
      subtableMode: "template",
      subtable: "d_${groupid}",
      tsField: "ts",
      tsUnit: "ms",
      columns: "ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT",
      tags: "groupid INT, location VARCHAR(16)",
      autoCreate: true,
      precision: "ms",
      batchSize: 100,
      flushInterval: 10,
      output: true,
      wires: [["out"]],
      ...write,
    },
    { id: "out", type: "helper", z: "tab" },
    { id: "catcher", type: "catch", z: "tab", scope: ["w"], wires: [["caught"]] },
    { id: "caught", type: "helper", z: "tab" },
  ];
}

const CREDS = { cfg: { user: "root", password: "taosdata" } };

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on("input", (m: Msg) => got.push(m));
  return got;
}

function count(db: string, stable = "meters"): number {
  return Number(emu.sql(`SELECT COUNT(*) FROM ${db}.${stable}`).rows[0][0]);
}

type Status = { fill?: string; shape?: string; text?: string };

/** Records every status the node sets. */
function statuses(id: string): Status[] {
  const n = helper.getNode(id) as unknown as { status: (s: Status) => void };
  const seen: Status[] = [];
  const orig = n.status.bind(n);
  n.status = (st: Status) => {
    seen.push(st);
    orig(st);
  };
  return seen;
}

function nextDb(): string {
  return `wdb${++dbSeq}`;
}

describe("tdengine-write node", () => {
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await emu.stop();
  });
  afterEach(async () => {
    await helper.unload();
    emu.faults.reset();
    await waitFor("sockets closed after unload", () => emu.stats().connections === 0);
  });

  it("creates the database and super table, writes the demo's rows via stmt2 and reports per message", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db), CREDS);
    const out = collect("out");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(250, 0), topic: "a" });
    w.receive({ payload: meterRows(250, 250), topic: "b" });
    await waitFor("two outputs", () => out.length === 2);
    assert.deepEqual(out.map((m) => [m.topic, (m.payload as { written: number }).written, (m.payload as { rejected: number }).rejected]), [
      ["a", 250, 0],
      ["b", 250, 0],
    ]);
    assert.equal(typeof (out[0].payload as { latencyMs: number }).latencyMs, "number");
    assert.equal(count(db), 500);
    const desc = emu.sql(`DESCRIBE ${db}.meters`).rows.map((r) => [r[0], r[1], r[3]]);
    assert.deepEqual(desc, [
      ["ts", "TIMESTAMP", ""],
      ["current", "FLOAT", ""],
      ["voltage", "INT", ""],
      ["phase", "FLOAT", ""],
      ["groupid", "INT", "TAG"],
      ["location", "VARCHAR", "TAG"],
    ]);
    const tables = emu.sql(`SHOW ${db}.TABLES`).rows.map((r) => String(r[0])).sort();
    assert.deepEqual(tables, ["d_0", "d_1", "d_2", "d_3", "d_4", "d_5", "d_6", "d_7", "d_8", "d_9"]);
    const one = emu.sql(`SELECT ts, current, voltage, phase, groupid, location FROM ${db}.d_3 WHERE ts = 1700000000013`).rows;
    assert.deepEqual(one.map((r) => r.map((v) => (typeof v === "bigint" ? Number(v) : v))), [[1700000000013, 13, 213, 0.25, 3, "loc_3"]]);
  });

  it("lets msg.stable, msg.table and msg.tags override the configuration", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db), CREDS);
    const out = collect("out");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(3), stable: "other", table: "fixed_one", tags: { location: "Texas" } });
    await waitFor("output", () => out.length === 1);
    assert.equal(count(db, "other"), 3);
    const rows = emu.sql(`SELECT tbname, groupid, location FROM ${db}.other`).rows;
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [
      ["fixed_one", 0, "Texas"],
      ["fixed_one", 0, "Texas"],
      ["fixed_one", 0, "Texas"],
    ]);
  });

  it("rejects bad rows with reasons: a Catch node gets the original msg with msg.errors, batch-mates are written", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { strict: true }), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const payload = meterRows(6);
    payload[1].ts = "not a time";
    payload[3].voltage = "220";
    payload[4].location = "far too long a location";
    payload[5].bogus = 1;
    helper.getNode("w").receive({ payload, topic: "mixed" });
    await waitFor("caught message", () => caught.length === 1);
    const c = caught[0];
    assert.equal(c.topic, "mixed");
    assert.deepEqual(c.payload, payload, "the original payload, untouched");
    assert.deepEqual(c.errors?.map((e) => [e.index, e.field]), [
      [1, "ts"],
      [3, "voltage"],
      [4, "location"],
      [5, "bogus"],
    ]);
    // The test helper's RED._ returns message keys; the English text is in the locale catalog.
    assert.match(c.error?.message ?? "", /tdengine-write\.errors\.rejected/);
    assert.match(c.errors?.[0].reason ?? "", /timestamp: "not a time" is not an ISO-8601 timestamp/);
    assert.match(c.errors?.[1].reason ?? "", /column voltage: expected an integer for INT, got string/);
    assert.match(c.errors?.[2].reason ?? "", /tag location: string of 23 bytes is longer than VARCHAR\(16\)/);
    assert.match(c.errors?.[3].reason ?? "", /unknown field bogus \(strict mode\)/);
    await waitFor("output", () => out.length === 1);
    assert.deepEqual(out[0].payload && { ...(out[0].payload as object), latencyMs: 0 }, { written: 2, rejected: 4, latencyMs: 0 });
    assert.equal(count(db), 2);
  });

  it("refuses a message with a bad override as a whole, catchably", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db), CREDS);
    const caught = collect("caught");
    helper.getNode("w").receive({ payload: meterRows(2), stable: "bad name; DROP" });
    await waitFor("caught", () => caught.length === 1);
    assert.match(caught[0].error?.message ?? "", /msg.stable: invalid super table name/);
  });

  it("does not drop good rows when the server refuses a batch", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(10) });
    await waitFor("warm-up written", () => out.length === 1);
    emu.faults.failNext(1, 0x0224, "value out of range");
    w.receive({ payload: meterRows(80, 10) });
    await waitFor("second output", () => out.length === 2);
    assert.equal((out[1].payload as { written: number }).written, 80);
    assert.equal(caught.length, 0);
    assert.equal(count(db), 90);
  });

  it("writes columns and tags named like Object.prototype members (missing ones as NULL), msg.tags {} overriding nothing", async () => {
    const db = nextDb();
    const write = { stable: "proto", subtable: "d_${toString}", columns: "ts TIMESTAMP, constructor INT, valueOf DOUBLE, hasOwnProperty INT", tags: "toString INT, isPrototypeOf VARCHAR(8)" };
    await helper.load([configNode, writeNode], flow(db, write), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const w = helper.getNode("w");
    w.receive({ payload: [{ ts: 1700000000000, constructor: 1, valueOf: 2.5, toString: 1, isPrototypeOf: "a" }, { ts: 1700000000001, toString: 2 }] });
    w.receive({ payload: { ts: 1700000000002, hasOwnProperty: 5, toString: 3, isPrototypeOf: "c" }, tags: {} });
    await waitFor("both messages done", () => out.length + caught.length === 2);
    assert.equal(caught.length, 0, caught[0]?.error?.message);
    const names = ["constructor", "valueOf", "hasOwnProperty", "toString", "isPrototypeOf"].map((n) => "`" + n + "`").join(", ");
    const rows = emu.sql(`SELECT tbname, ts, ${names} FROM ${db}.proto ORDER BY ts`).rows;
    assert.deepEqual(
      rows.map((r) => r.map((v) => (typeof v === "bigint" ? Number(v) : v))),
      [
        ["d_1", 1700000000000, 1, 2.5, null, 1, "a"],
        ["d_2", 1700000000001, null, null, null, 2, null],
        ["d_3", 1700000000002, null, null, 5, 3, "c"],
      ],
    );
  });

  it("says which field the client could not encode, and never blames TDengine for it", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { precision: "ns" }), CREDS);
    const caught = collect("caught");
    const w = helper.getNode("w");
    const good = meterRows(2);
    // 1e300 ms is refused while mapping; 2300 fits a Date but not an int64 of nanoseconds: the encoder refuses it.
    w.receive({ payload: [good[0], { ...good[1], ts: 1e300 }, { ...good[1], ts: "2300-01-01T00:00:00Z" }, good[1]] });
    await waitFor("the message failed catchably", () => caught.length === 1);
    const errors = caught[0].errors ?? [];
    assert.deepEqual(errors.map((e) => [e.index, e.field]), [[1, "ts"], [2, "ts"]]);
    assert.match(errors[0].reason, /^timestamp: epoch 1e\+300 ms is out of range/);
    assert.match(errors[1].reason, /^not sent: the client could not encode the row for TDengine: .*column "ts" expects an integer in/);
    for (const e of errors) assert.doesNotMatch(e.reason, /TDengine refused|0x0064/);
    assert.equal(count(db), 2, "the batch-mates were written");
  });

  it("calls done() exactly once per message: written, partly rejected, refused as a whole, over the bound", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { maxBuffered: 30 }), CREDS);
    const w = helper.getNode("w") as unknown as { receive(m: object): void; _complete(m: { topic?: string }, err?: Error): void };
    const calls = new Map<string, number>();
    const complete = w._complete.bind(w);
    w._complete = (m, err) => {
      calls.set(String(m.topic), (calls.get(String(m.topic)) ?? 0) + 1);
      complete(m, err);
    };
    const msgs = [
      { topic: "good", payload: meterRows(10) },
      { topic: "partly-bad", payload: [...meterRows(2, 10), { ts: "not a time", groupid: 1 }] },
      { topic: "bad-override", payload: meterRows(1, 20), stable: "no such; table" },
      { topic: "over-bound", payload: meterRows(40, 30) },
      { topic: "empty", payload: [] },
    ];
    for (const m of msgs) w.receive(m);
    await waitFor("every message completed", () => calls.size === msgs.length);
    // Late second calls would come after the first ones: give the writer time to settle everything it holds.
    await waitFor("nothing left buffered", () => count(db) === 12);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(Object.fromEntries(calls), { good: 1, "partly-bad": 1, "bad-override": 1, "over-bound": 1, empty: 1 });
  });

  it("keeps rows through dropped and refused connections; afterwards every row is there exactly once", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { batchSize: 50, flushInterval: 5 }), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const w = helper.getNode("w");
    await waitFor("connected", () => emu.stats().connections === 1);
    const seen = statuses("w");
    const perMsg = 20;
    let sent = 0;
    const send = (): void => {
      w.receive({ payload: meterRows(perMsg, sent * perMsg) });
      sent++;
    };
    // Rows keep coming before, during and after a ~1.5 s outage.
    for (let i = 0; i < 10; i++) send();
    await waitFor("first rows written", () => out.length >= 5);
    emu.faults.refuseConnections(1500);
    emu.faults.dropConnections();
    const outageEnds = Date.now() + 1500;
    while (Date.now() < outageEnds + 300) {
      send();
      await new Promise((r) => setTimeout(r, 30));
    }
    for (let i = 0; i < 5; i++) send();
    await waitFor("every message completed", () => out.length === sent, { timeoutMs: 20000 });
    // The outage itself is reported once (issue 14); no message failed.
    const failures = caught.filter((m) => !/errors\.outage/.test(m.error?.message ?? ""));
    assert.equal(failures.length, 0, failures[0]?.error?.message);
    assert.ok(caught.length - failures.length <= 1, "the outage is reported at most once");
    assert.equal(out.reduce((s, m) => s + (m.payload as { written: number }).written, 0), sent * perMsg);
    const total = sent * perMsg;
    assert.equal(count(db), total);
    const keys = new Set(emu.sql(`SELECT tbname, ts FROM ${db}.meters`).rows.map((r) => `${String(r[0])}|${String(r[1])}`));
    const expected = new Set(meterRows(total).map((r) => `d_${String(r.groupid)}|${String(r.ts)}`));
    assert.equal(keys.size, total);
    assert.deepEqual(keys, expected);
    const overwritten = Object.entries(emu.stats().tables).filter(([t]) => t.startsWith(`${db}.`)).reduce((n, [, c]) => n + c.overwritten, 0);
    assert.equal(overwritten, 0, "no row written twice");
    assert.ok(seen.some((st) => st.fill === "red" && st.shape === "ring"), "the status showed the outage");
    assert.equal(seen[seen.length - 1].fill, "green", "and recovered");
    assert.ok(out.some((m) => (m.payload as { latencyMs: number }).latencyMs > 500), "some messages waited through the outage");
  });

  it("past the buffer bound refuses new messages with a catchable error and keeps the buffered ones", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { maxBuffered: 50, flushInterval: 5 }), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(5) });
    await waitFor("warm-up", () => out.length === 1);
    emu.faults.refuseConnections(1000);
    emu.faults.dropConnections();
    w.receive({ payload: meterRows(40, 5), topic: "kept" });
    w.receive({ payload: meterRows(20, 45), topic: "refused" });
    // The outage is reported too (once, as its own error): the refusal is the one caught with its message's topic.
    await waitFor("refusal caught", () => caught.some((m) => m.topic === "refused"));
    const refusals = caught.filter((m) => m.topic === "refused");
    assert.equal(refusals.length, 1);
    assert.ok(caught.filter((m) => m.topic !== "refused").every((m) => /outage/.test(String(m.error?.message))), "nothing else but the outage is reported");
    assert.match(refusals[0].error?.message ?? "", /write buffer full: 40 rows are waiting for TDengine \(bound 50\); refused 20 new rows/);
    await waitFor("kept rows written after the outage", () => out.length === 2, { timeoutMs: 10000 });
    assert.equal(out[1].topic, "kept");
    assert.equal(count(db), 45);
  });

  it("on close reports rows it could not write in time, with their count, and fails their messages", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { closeTimeout: 300, flushInterval: 5 }), CREDS);
    const out = collect("out");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(5) });
    await waitFor("warm-up", () => out.length === 1);
    const errors: Array<{ text: unknown; msg: unknown }> = [];
    const n = w as unknown as { error: (text: unknown, msg?: unknown) => void };
    const orig = n.error.bind(n);
    n.error = (text: unknown, msg?: unknown) => {
      errors.push({ text, msg });
      orig(text, msg);
    };
    emu.faults.refuseConnections(60000);
    emu.faults.dropConnections();
    w.receive({ payload: meterRows(12, 5), topic: "late" });
    await helper.clearFlows();
    const summary = errors.find((e) => String(e.text).includes("unwritten"));
    assert.ok(summary, `a summary error, got ${JSON.stringify(errors.map((e) => e.text))}`);
    assert.deepEqual((summary.msg as { payload: unknown }).payload, { unwritten: 12 });
    assert.equal(count(db), 5, "nothing written silently or twice");
  });

  it("flushes buffered rows on redeploy and leaves no socket or timer behind", async () => {
    const db = nextDb();
    const timers = trackTimers();
    await helper.load([configNode, writeNode], flow(db, { batchSize: 100000, flushInterval: 600000 }), CREDS);
    const w = helper.getNode("w");
    await waitFor("connected", () => emu.stats().connections === 1);
    w.receive({ payload: meterRows(30) });
    const early = ((): number => {
      try {
        return count(db);
      } catch {
        return 0; // the database is created at the first flush
      }
    })();
    assert.equal(early, 0, "nothing written yet: the batch is neither full nor due");
    await helper.clearFlows();
    assert.equal(count(db), 30, "the buffer was written before the node closed");
    await waitFor("socket closed", () => emu.stats().connections === 0);
    try {
      await waitFor("no timer of the flow left pending", () => timers.live().length === 0).catch(() => assert.deepEqual(timers.live(), [], "pending timers"));
    } finally {
      timers.stop();
    }
  });
  // What an operator sees while TDengine is unreachable (issue 14, items 3 and 4).
  it("reports the first failure once within seconds, summarises refusals of a full buffer, and recovers to the current state", async () => {
    const db = nextDb();
    await helper.load([configNode, writeNode], flow(db, { maxBuffered: 50, flushInterval: 5, name: "writer" }), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const seen = statuses("w");
    const w = helper.getNode("w");
    w.receive({ payload: meterRows(5) });
    await waitFor("warm-up written", () => out.length === 1);
    assert.equal(sourceHealth("w")?.state, "connected");

    emu.faults.refuseConnections(60000);
    emu.faults.dropConnections();
    const outageAt = Date.now();
    w.receive({ payload: meterRows(20, 100), topic: "kept1" });
    w.receive({ payload: meterRows(20, 200), topic: "kept2" });
    // The first failure: one catchable error, while the rows stay buffered (their messages are not done yet).
    await waitFor("the outage reported to Catch", () => caught.find((m) => /tdengine-write\.errors\.outage/.test(m.error?.message ?? "")), { timeoutMs: 8000 });
    assert.ok(Date.now() - outageAt < 8000);
    const health = await waitFor("health: not connected, with the error", () => {
      const h = sourceHealth("w");
      return h && h.state !== "connected" && h.lastError ? h : undefined;
    });
    assert.equal(health.name, "writer");
    assert.equal(health.type, "tdengine-write");

    // Five messages that do not fit: the first refusal is caught, the other four only counted.
    for (let i = 0; i < 5; i++) w.receive({ payload: meterRows(20, 300 + i * 20), topic: `refused${i}` });
    await waitFor("the first refusal caught", () => caught.some((m) => m.topic === "refused0"));
    await waitFor("the status says rows are refused", () => seen[seen.length - 1]?.text === "tdengine-write.status.refusing");
    const refusalsCaught = caught.filter((m) => /^refused/.test(String(m.topic)));
    assert.deepEqual(refusalsCaught.map((m) => m.topic), ["refused0"], "only the first refusal is an error of its own");
    // The others are not lost from sight: each goes out on the output, marked refused.
    const marked = out.filter((m) => typeof (m.payload as { refused?: unknown }).refused === "string");
    assert.deepEqual(marked.map((m) => m.topic), ["refused1", "refused2", "refused3", "refused4"]);
    assert.match((marked[0].payload as { refused: string }).refused, /write buffer full/);
    assert.equal(caught.filter((m) => /errors\.outage/.test(m.error?.message ?? "")).length, 1, "the outage is reported once");

    // TDengine comes back: buffered rows are written, the refusals are summarised once, the status is current.
    emu.faults.reset();
    await waitFor("buffered rows written", () => out.length === 7, { timeoutMs: 10000 });
    const summary = await waitFor("a summary of the repeated refusals", () => caught.find((m) => /refused-summary/.test(m.error?.message ?? "")));
    assert.deepEqual(summary.payload, { refusedMessages: 4, refusedRows: 80, bound: 50 });
    const st = await waitFor("a healthy status with the old error's age", () => {
      const s = seen[seen.length - 1];
      return s && s.shape === "dot" && /^tdengine-write\.status\.rate · tdengine-write\.status\.error-age$/.test(s.text ?? "") ? s : undefined;
    });
    assert.equal(st.fill, "green", "the current state: healthy");
    assert.equal(sourceHealth("w")?.state, "connected");
    assert.equal(Number(emu.sql(`SELECT COUNT(*) FROM ${db}.meters`).rows[0][0]), 45);
  });

  it("forgets its health entry when it closes", async () => {
    await helper.load([configNode, writeNode], flow(nextDb()), CREDS);
    await waitFor("health published", () => sourceHealth("w"));
    await helper.clearFlows();
    assert.equal(sourceHealth("w"), undefined);
  });
});
