// tdengine-write through a long database outage at a steady 1,000 rows/s: rows keep arriving while the emulator
// refuses every connection for 30 s; after recovery every row is in TDengine exactly once, no message fails and
// memory stays bounded. A second case uses a small buffer bound: messages beyond it fail at once, catchably, and
// everything accepted is still written exactly once.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 30000);
const ROWS_PER_TICK = 50;
const TICK_MS = 50; // 50 rows every 50 ms = 1,000 rows/s

interface Msg {
  topic?: string;
  payload: { written: number; rejected: number; latencyMs: number } | unknown;
  error?: { message: string };
}

function rows(from: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { ts: 1700000000000 + i, current: i % 100, voltage: 220, phase: 0.5, groupid: i % 8, location: `loc${i % 8}` };
  });
}

export const figures: Record<string, unknown> = {};

describe("tdengine-write through a database outage", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await emu.stop();
    console.log(`# write outage figures: ${JSON.stringify(figures)}`);
  });
  afterEach(async () => {
    await helper.unload();
    emu.faults.reset();
  });

  function flow(db: string, write: Record<string, unknown> = {}): object[] {
    return [
      { id: "tab", type: "tab", label: "outage" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 2000, maxBackoff: 500 },
      {
        id: "w", type: "tdengine-write", z: "tab", server: "cfg", stable: "meters", subtableMode: "template", subtable: "d_${groupid}",
        tsField: "ts", tsUnit: "ms", columns: "ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT", tags: "groupid INT, location VARCHAR(16)",
        autoCreate: true, precision: "ms", batchSize: 1000, flushInterval: 20, output: true, wires: [["out"]], ...write,
      },
      { id: "out", type: "helper", z: "tab" },
      { id: "catcher", type: "catch", z: "tab", scope: ["w"], wires: [["caught"]] },
      { id: "caught", type: "helper", z: "tab" },
    ];
  }
  const CREDS = { cfg: { user: "root", password: "taosdata" } };

  /** Sends ROWS_PER_TICK rows every TICK_MS until `until()` is true; returns the messages sent. */
  async function pump(until: () => boolean, onTick: () => void = () => undefined): Promise<number> {
    const w = helper.getNode("w");
    let sent = 0;
    let next = Date.now();
    while (!until()) {
      w.receive({ topic: `m${sent}`, payload: rows(sent * ROWS_PER_TICK, ROWS_PER_TICK) });
      sent++;
      onTick();
      next += TICK_MS;
      // Pacing the load generator (not synchronisation): hold the 1,000 rows/s rate.
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    return sent;
  }

  /** Rows written again over an existing (table, ts): duplicates the table itself cannot show. */
  function overwritten(db: string): number {
    return Object.entries(emu.stats().tables)
      .filter(([t]) => t.startsWith(`${db}.`))
      .reduce((n, [, c]) => n + c.overwritten, 0);
  }

  function keys(db: string): string[] {
    return emu.sql(`SELECT tbname, ts FROM ${db}.meters`).rows.map((r) => `${String(r[0])}@${Number(r[1])}`);
  }

  it(`holds 1,000 rows/s through a ${OUTAGE_MS / 1000} s outage and writes every row exactly once`, async () => {
    const db = "outage";
    await helper.load([configNode, writeNode], flow(db), CREDS);
    const out: Msg[] = [];
    const caught: Msg[] = [];
    helper.getNode("out").on("input", (m: Msg) => out.push(m));
    helper.getNode("caught").on("input", (m: Msg) => caught.push(m));
    await waitFor("connected", () => emu.stats().connections === 1);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const phases = { before: 0, outageStart: 0, outageEnd: 0 };
    const started = Date.now();
    let outageStarted = 0;
    const sent = await pump(
      () => phases.outageEnd > 0 && Date.now() > phases.outageEnd + 2000,
      () => {
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        const t = Date.now() - started;
        if (!outageStarted && t > 2000) {
          outageStarted = Date.now();
          phases.outageStart = outageStarted;
          emu.faults.refuseConnections(OUTAGE_MS);
          emu.faults.dropConnections();
        }
        if (outageStarted && !phases.outageEnd && Date.now() >= outageStarted + OUTAGE_MS) phases.outageEnd = Date.now();
      },
    );
    // The outage itself is one error (issue 14); no message failed.
    const failures = caught.filter((m) => !/errors\.outage/.test(m.error?.message ?? ""));
    await waitFor("every message completed", () => out.length + failures.length >= sent, { timeoutMs: 60000 });
    assert.equal(failures.length, 0, failures[0]?.error?.message);
    const total = sent * ROWS_PER_TICK;
    const landed = keys(db);
    assert.equal(landed.length, total, "every row is there");
    assert.equal(new Set(landed).size, total, "each exactly once");
    assert.equal(overwritten(db), 0, "no row written twice");
    assert.equal(Number(emu.sql(`SELECT COUNT(*) FROM ${db}.meters`).rows[0][0]), total);
    const written = out.reduce((s, m) => s + (m.payload as { written: number }).written, 0);
    assert.equal(written, total, "every message reported all of its rows written");
    const maxLatency = Math.max(...out.map((m) => (m.payload as { latencyMs: number }).latencyMs));
    assert.ok(maxLatency >= OUTAGE_MS * 0.9, `some rows waited through the whole outage (max latency ${maxLatency} ms)`);
    // 30k buffered rows of ~6 fields: a few MB at most; a leak or an unbounded copy would show as far more.
    const grewMB = (heapPeak - heapBefore) / 2 ** 20;
    assert.ok(grewMB < 150, `heap grew by ${grewMB.toFixed(1)} MB while buffering`);
    Object.assign(figures, { outageMs: OUTAGE_MS, rowsPerSecond: 1000, rowsSent: total, rowsWritten: landed.length, rowsLost: total - new Set(landed).size, duplicates: overwritten(db), maxLatencyMs: maxLatency, heapPeakGrowthMB: grewMB.toFixed(1) });
  });

  it("with a small buffer bound, refuses the overflow catchably and writes everything it accepted exactly once", async () => {
    const db = "bounded";
    const BOUND = 1000;
    await helper.load([configNode, writeNode], flow(db, { maxBuffered: BOUND }), CREDS);
    const out: Msg[] = [];
    const caught: Msg[] = [];
    helper.getNode("out").on("input", (m: Msg) => out.push(m));
    helper.getNode("caught").on("input", (m: Msg) => caught.push(m));
    await waitFor("connected", () => emu.stats().connections === 1);
    emu.faults.refuseConnections(3000);
    emu.faults.dropConnections();
    const outageEnds = Date.now() + 3000;
    const sent = await pump(() => Date.now() > outageEnds + 1000);
    // A refused message is either the first of its episode (an error to Catch) or sent on marked `refused`
    // (issue 14: the repeats are summarised, not one error each).
    const firstRefusals = (): Msg[] => caught.filter((m) => /write buffer full/.test(m.error?.message ?? ""));
    const markedRefused = (): Msg[] => out.filter((m) => typeof (m.payload as { refused?: unknown }).refused === "string");
    await waitFor("every message completed", () => out.length + firstRefusals().length >= sent, { timeoutMs: 30000 });
    assert.ok(firstRefusals().length > 0, "the bound was hit");
    for (const c of firstRefusals()) assert.match(c.error?.message ?? "", /write buffer full: \d+ rows are waiting for TDengine \(bound 1000\); refused 50 new rows/);
    for (const m of markedRefused()) assert.match((m.payload as { refused: string }).refused, /write buffer full: \d+ rows are waiting for TDengine \(bound 1000\); refused 50 new rows/);
    const refused = new Set([...firstRefusals(), ...markedRefused()].map((c) => c.topic));
    const accepted = out.filter((m) => !refused.has(m.topic));
    assert.equal(accepted.length + refused.size, sent, "each message either written or refused, never both or neither");
    const landed = keys(db);
    const expected = new Set<string>();
    for (let m = 0; m < sent; m++) {
      if (refused.has(`m${m}`)) continue;
      for (const r of rows(m * ROWS_PER_TICK, ROWS_PER_TICK)) expected.add(`d_${String(r.groupid)}@${String(r.ts)}`);
    }
    assert.equal(landed.length, expected.size, "nothing accepted was lost, nothing refused was written");
    assert.deepEqual(new Set(landed), expected);
    assert.equal(overwritten(db), 0, "no row written twice");
    Object.assign(figures, { boundRows: BOUND, boundMessagesRefused: refused.size, boundRowsAccepted: expected.size, boundRowsLost: 0 });
  });
});
