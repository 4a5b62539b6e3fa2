// What an operator sees from tdengine-write while TDengine is unreachable (issue 14, items 3 and 4): the first
// failure reaches a Catch node within seconds and only once; a full buffer's refusals are reported once, then
// summarised (not one error per message); the status says rows are refused; after recovery the status shows
// the current state with the old error's age only; the node publishes its state to the health registry.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { sourceHealth } from "../../lib/health/source-health";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");
const CREDS = { cfg: { user: "root", password: "taosdata" } };

let emu: Emulator;
let dbSeq = 0;

interface Msg {
  payload: unknown;
  topic?: string;
  error?: { message: string };
}
type Status = { fill?: string; shape?: string; text?: string };

function rows(n: number, start: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ ts: 1700000000000 + start + i, current: 1, voltage: 220, phase: 0.5, groupid: 1, location: "x" }));
}

function flow(db: string, write: Record<string, unknown> = {}): object[] {
  return [
    { id: "tab", type: "tab", label: "test" },
    { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 1000, maxBackoff: 200 },
    {
      id: "w",
      type: "tdengine-write",
      name: "writer",
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
      flushInterval: 5,
      output: true,
      wires: [["out"]],
      ...write,
    },
    { id: "out", type: "helper", z: "tab" },
    { id: "catcher", type: "catch", z: "tab", scope: ["w"], wires: [["caught"]] },
    { id: "caught", type: "helper", z: "tab" },
  ];
}

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on("input", (m: Msg) => got.push(m));
  return got;
}

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

const last = <T>(a: T[]): T | undefined => a[a.length - 1];

describe("tdengine-write under an outage: first failure, refusals, recovery", () => {
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
  });

  it("reports the first failure once within seconds, summarises refusals of a full buffer, and recovers to the current state", async () => {
    const db = `wout${++dbSeq}`;
    await helper.load([configNode, writeNode], flow(db, { maxBuffered: 50 }), CREDS);
    const out = collect("out");
    const caught = collect("caught");
    const seen = statuses("w");
    const w = helper.getNode("w");
    w.receive({ payload: rows(5, 0) });
    await waitFor("warm-up written", () => out.length === 1);
    assert.equal(sourceHealth("w")?.state, "connected");

    emu.faults.refuseConnections(60000);
    emu.faults.dropConnections();
    const outageAt = Date.now();
    w.receive({ payload: rows(20, 100), topic: "kept1" });
    w.receive({ payload: rows(20, 200), topic: "kept2" });
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
    for (let i = 0; i < 5; i++) w.receive({ payload: rows(20, 300 + i * 20), topic: `refused${i}` });
    await waitFor("the first refusal caught", () => caught.some((m) => m.topic === "refused0"));
    await waitFor("the status says rows are refused", () => last(seen)?.text === "tdengine-write.status.refusing");
    const refusalsCaught = caught.filter((m) => /^refused/.test(m.topic ?? ""));
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
      const s = last(seen);
      return s && s.shape === "dot" && /^tdengine-write\.status\.rate · tdengine-write\.status\.error-age$/.test(s.text ?? "") ? s : undefined;
    });
    assert.equal(st.fill, "green", "the current state: healthy");
    assert.equal(sourceHealth("w")?.state, "connected");
    assert.equal(Number(emu.sql(`SELECT COUNT(*) FROM ${db}.meters`).rows[0][0]), 45);
  });

  it("forgets its health entry when it closes", async () => {
    await helper.load([configNode, writeNode], flow(`wout${++dbSeq}`), CREDS);
    await waitFor("health published", () => sourceHealth("w"));
    await helper.clearFlows();
    assert.equal(sourceHealth("w"), undefined);
  });
});
