// tdengine-poll with the real tdengine-config node and client against the taosAdapter emulator (in-process,
// ephemeral port): every row exactly once under timestamp ties and page splits, fast writers, slow replies,
// an outage with a server restart, all three precisions, SQL mode, and a restart with a file context store.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import type { TdengineConfigNode } from "../../nodes/shared/tdengine-config-api";
import { fileContextSettings, openContextStores, shutDownContext } from "../support/context-store";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");

type Row = Record<string, unknown> & { tbname: string; ts: Date | number };
type Msg = Record<string, unknown> & { payload: Row[]; watermark: { value: string; precision: string; ms: number } };

const STABLE = "(ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))";

function createDb(emu: Emulator, db: string, precision: "ms" | "us" | "ns" = "ms"): void {
  emu.sql(`CREATE DATABASE ${db} PRECISION '${precision}'`);
  emu.sql(`CREATE STABLE ${db}.meters ${STABLE}`);
}

/** One multi-table INSERT: `rows` = [subtable number, timestamp in the database precision, voltage]. */
function insert(emu: Emulator, db: string, rows: [number, bigint | number, number?][]): void {
  const byTable = new Map<number, string[]>();
  for (const [t, ts, volt] of rows) {
    if (!byTable.has(t)) byTable.set(t, []);
    byTable.get(t)!.push(`(${ts}, ${1 + t / 10}, ${volt ?? 220}, 0.5)`);
  }
  const parts = [...byTable].map(([t, v]) => `${db}.d${t} USING ${db}.meters TAGS (${t}, 'loc${t}') VALUES ${v.join(" ")}`);
  emu.sql(`INSERT INTO ${parts.join(" ")}`);
}

function countRows(emu: Emulator, db: string): number {
  return Number(emu.sql(`SELECT COUNT(*) FROM ${db}.meters`).rows[0][0]);
}

/** Every (tbname, ts in epoch ms) of the super table, from the emulator's engine directly. */
function allKeys(emu: Emulator, db: string, where = "", precision: "ms" | "us" | "ns" = "ms"): string[] {
  const per = { ms: 1n, us: 1000n, ns: 1000000n }[precision];
  return emu.sql(`SELECT ts, tbname FROM ${db}.meters ${where}`).rows.map((r) => `${String(r[1])}@${Number(BigInt(r[0] as bigint) / per)}`);
}

const keyOf = (r: Row): string => `${r.tbname}@${r.ts instanceof Date ? r.ts.getTime() : r.ts}`;

function assertExactlyOnce(emitted: string[], expected: string[]): void {
  assert.equal(new Set(emitted).size, emitted.length, "no row emitted twice");
  assert.equal(emitted.length, expected.length, "every row emitted");
  assert.deepEqual([...emitted].sort(), [...expected].sort());
}

const yieldToIo = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("tdengine-poll against the emulator", () => {
  let emu: Emulator;
  const now = Date.now();

  function flow(poll: Record<string, unknown>, db = "power"): object[] {
    return [
      { id: "f1", type: "tab", label: "poll" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 5000 },
      {
        id: "poll",
        z: "f1",
        type: "tdengine-poll",
        server: "cfg",
        mode: "table",
        table: "meters",
        columns: "current, voltage",
        tags: "location",
        start: "everything",
        interval: 5,
        timestamps: "ms",
        wires: [["out"]],
        ...poll,
      },
      { id: "out", z: "f1", type: "helper" },
      { id: "catcher", z: "f1", type: "catch", scope: ["poll"], wires: [["caught"]] },
      { id: "caught", z: "f1", type: "helper" },
    ];
  }
  const credentials = { cfg: { user: "root", password: "taosdata" } };

  function collect(id = "out"): Msg[] {
    const got: Msg[] = [];
    helper.getNode(id).on("input", (m: Msg) => got.push(m));
    return got;
  }
  const emittedKeys = (msgs: Msg[]): string[] => msgs.flatMap((m) => m.payload.map(keyOf));

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await helper.unload();
    await emu.stop();
  });

  it("many subtables writing identical timestamps at a high rate: every row exactly once (count and keys)", async () => {
    createDb(emu, "power");
    await helper.load([configNode, pollNode], flow({ pageSize: 50 }), credentials);
    const out = collect();
    // 40 subtables x 3 timestamps per batch, 100 batches, while the node polls every 5 ms in pages of 50
    // (not a multiple of 40, so pages end in the middle of a timestamp).
    let ts = now - 60_000;
    for (let b = 0; b < 100; b++) {
      const rows: [number, number][] = [];
      for (let k = 0; k < 3; k++, ts++) for (let t = 0; t < 40; t++) rows.push([t, ts]);
      insert(emu, "power", rows);
      await yieldToIo();
    }
    assert.equal(countRows(emu, "power"), 12_000);
    await waitFor("all 12000 rows", () => emittedKeys(out).length >= 12_000, { timeoutMs: 30_000 });
    const requests = emu.stats().requests;
    await waitFor("more polls after catching up", () => emu.stats().requests > requests + 10);
    assertExactlyOnce(emittedKeys(out), allKeys(emu, "power"));
    const last = out[out.length - 1];
    assert.equal(last.watermark.value, String(ts - 1));
    assert.deepEqual(Object.keys(last.payload[0]), ["ts", "current", "voltage", "location", "tbname"]);
  });

  it("a page boundary inside a timestamp shared by more rows than a page: all read, none repeated", async () => {
    createDb(emu, "power");
    const rows: [number, number][] = [];
    for (let t = 0; t < 25; t++) rows.push([t, now - 1000]);
    for (let t = 0; t < 7; t++) rows.push([t, now - 999]);
    insert(emu, "power", rows);
    await helper.load([configNode, pollNode], flow({ pageSize: 10 }), credentials);
    const out = collect();
    await waitFor("32 rows", () => emittedKeys(out).length === 32);
    insert(emu, "power", [[30, now - 999]]);
    await waitFor("the late subtable at the watermark", () => emittedKeys(out).length === 33);
    assertExactlyOnce(emittedKeys(out), allKeys(emu, "power"));
  });

  for (const precision of ["ms", "us", "ns"] as const) {
    it(`${precision} database: timestamps converted, watermark exact, every row once`, async () => {
      const per = { ms: 1n, us: 1000n, ns: 1000000n }[precision];
      createDb(emu, "prec", precision);
      // Timestamps one millisecond apart with a sub-millisecond part, 6 subtables each.
      const base = BigInt(now - 5000) * per + (precision === "ms" ? 0n : per / 2n + 7n);
      const rows: [number, bigint][] = [];
      for (let i = 0; i < 20; i++) for (let t = 0; t < 6; t++) rows.push([t, base + BigInt(i) * per]);
      insert(emu, "prec", rows);
      await helper.load([configNode, pollNode], flow({ pageSize: 8, timestamps: "date" }, "prec"), credentials);
      const out = collect();
      await waitFor("120 rows", () => emittedKeys(out).length === 120);
      const first = out[0];
      assert.ok(first.payload[0].ts instanceof Date);
      assert.equal((first.payload[0].ts as Date).getTime(), Number(base / per));
      assert.equal((first.columns as { name: string; precision?: string }[])[0].precision, precision);
      const last = out[out.length - 1];
      assert.equal(last.watermark.value, String(base + 19n * per), "the watermark keeps every digit");
      assert.equal(last.watermark.precision, precision);
      const requests = emu.stats().requests;
      await waitFor("more polls after catching up", () => emu.stats().requests > requests + 10);
      assertExactlyOnce(emittedKeys(out), allKeys(emu, "prec", "", precision));
    });
  }

  it("SQL mode: the placeholder is bound, the filter applies, pages follow the LIMIT", async () => {
    createDb(emu, "power");
    const rows: [number, number, number][] = [];
    for (let i = 0; i < 30; i++) for (let t = 0; t < 5; t++) rows.push([t, now - 10_000 + i, (i + t) % 2 === 0 ? 230 : 220]);
    insert(emu, "power", rows);
    const sql = "SELECT ts, current, voltage, tbname FROM power.meters WHERE ts >= $watermark AND voltage > 220 ORDER BY ts LIMIT 7";
    await helper.load([configNode, pollNode], flow({ mode: "sql", sql, pageSize: 7 }), credentials);
    const out = collect();
    const expected = allKeys(emu, "power", "WHERE voltage > 220");
    assert.equal(expected.length, 75);
    await waitFor("75 rows", () => emittedKeys(out).length === 75);
    insert(emu, "power", [[9, now, 231], [8, now, 200]]);
    await waitFor("the new matching row", () => emittedKeys(out).length === 76);
    assertExactlyOnce(emittedKeys(out), allKeys(emu, "power", "WHERE voltage > 220"));
    assert.ok(out.every((m) => m.payload.every((r) => (r.voltage as number) > 220)));
  });

  it("the custom-SQL example's poll node works as shipped (examples/tdengine-poll-sql.json)", async () => {
    const example = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "examples", "tdengine-poll-sql.json"), "utf8")) as Record<string, unknown>[];
    const shipped = example.find((n) => n.type === "tdengine-poll")!;
    createDb(emu, "power");
    insert(emu, "power", [
      [0, now - 13 * 3600_000, 230], // older than the example's 12 h start window
      [0, now - 3600_000, 230],
      [1, now - 3600_000, 200],
      [2, now - 60_000, 240],
    ]);
    const { id: _id, x: _x, y: _y, z: _z, wires: _w, server: _s, ...settings } = shipped;
    await helper.load([configNode, pollNode], flow({ ...settings, interval: 20 }), credentials);
    const out = collect();
    await waitFor("the two matching rows of the last 12 h", () => emittedKeys(out).length === 2);
    assert.deepEqual(emittedKeys(out).sort(), [`d0@${now - 3600_000}`, `d2@${now - 60_000}`].sort());
    assert.deepEqual(Object.keys(out[0].payload[0]), ["ts", "current", "voltage", "phase", "tbname", "location"]);
    assert.ok(out[0].payload[0].ts instanceof Date);
    assert.equal(out[0].topic, "high-voltage");
  });

  it("an interval shorter than the query time skips ticks and never overlaps polls", async () => {
    createDb(emu, "power");
    insert(emu, "power", [[0, now - 100]]);
    await helper.load([configNode, pollNode], flow({ interval: 10 }), credentials);
    const out = collect();
    await waitFor("first row", () => out.length === 1);
    const cfg = helper.getNode("cfg") as unknown as TdengineConfigNode;
    const client = await cfg.getClient();
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const real = client.queryWithParams.bind(client);
    client.queryWithParams = async (sql, params, opts) => {
      calls++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await real(sql, params, opts);
      } finally {
        inFlight--;
      }
    };
    emu.faults.delayReplies(120);
    const poll = helper.getNode("poll");
    await waitFor("skipped ticks in the status", () => String(poll.status.lastCall?.args[0]?.text ?? "").includes("tdengine-poll.status.skipped"), { timeoutMs: 10_000 });
    insert(emu, "power", [[1, now - 50]]);
    await waitFor("row under slow replies", () => out.length === 2, { timeoutMs: 10_000 });
    await waitFor("more slow polls", () => calls >= 4, { timeoutMs: 10_000 });
    emu.faults.delayReplies(0);
    assert.equal(maxInFlight, 1, "one query at a time");
    assertExactlyOnce(emittedKeys(out), allKeys(emu, "power"));
  });

  it("an outage with a server restart mid-stream loses and repeats nothing; errors are reported once per state", async () => {
    createDb(emu, "power");
    await helper.load([configNode, pollNode], flow({ pageSize: 100 }), credentials);
    const out = collect();
    const caught = collect("caught");
    let ts = now - 30_000;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const rows: [number, number][] = [];
        for (let t = 0; t < 20; t++) rows.push([t, ts]);
        ts++;
        insert(emu, "power", rows);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      await waitFor("rows flowing", () => emittedKeys(out).length > 200);
      emu.faults.refuseConnections(1500);
      emu.faults.dropConnections();
      // Seen as a red status (the connection state) and, when a query was in flight, as an error.
      const poll = helper.getNode("poll");
      await waitFor("the outage shown", () => poll.status.getCalls().some((c: { args: [{ fill?: string }] }) => c.args[0]?.fill === "red"), {
        timeoutMs: 10_000,
      });
      const duringOutage = emittedKeys(out).length;
      await emu.restart();
      await waitFor("rows flowing again", () => emittedKeys(out).length > duringOutage + 200, { timeoutMs: 20_000 });
    } finally {
      // Also when a wait fails: a writer left running would keep the test process alive.
      writing = false;
      await writer;
    }
    const total = countRows(emu, "power");
    await waitFor("every row", () => emittedKeys(out).length >= total, { timeoutMs: 20_000 });
    assertExactlyOnce(emittedKeys(out), allKeys(emu, "power"));
    assert.ok(caught.length <= 3, `one error per failure state, got ${caught.length}`);
  });

  describe("with a file context store", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "poll-emu-context-"));
      helper.settings(fileContextSettings(dir));
    });
    after(() => {
      helper.settings({});
      rmSync(dir, { recursive: true, force: true });
    });

    it("a Node-RED restart resumes from the watermark: rows written meanwhile once, earlier rows never again", async () => {
      createDb(emu, "power");
      const rows: [number, number][] = [];
      for (let t = 0; t < 8; t++) rows.push([t, now - 2000]);
      insert(emu, "power", rows);
      await helper.load([configNode, pollNode, openContextStores], flow({ contextStore: "file" }), credentials);
      const first = collect();
      await waitFor("first run", () => emittedKeys(first).length === 8);
      await shutDownContext();
      await helper.unload();

      insert(emu, "power", [[8, now - 2000], [0, now - 1000], [1, now - 1000]]);
      await helper.load([configNode, pollNode, openContextStores], flow({ contextStore: "file" }), credentials);
      const second = collect();
      await waitFor("second run", () => emittedKeys(second).length === 3);
      const before = emu.stats().requests;
      await waitFor("more polls", () => emu.stats().requests > before + 10);
      assertExactlyOnce([...emittedKeys(first), ...emittedKeys(second)], allKeys(emu, "power"));
      await shutDownContext();
    });
  });
});
