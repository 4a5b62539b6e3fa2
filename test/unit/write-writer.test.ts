// Batching across messages, one bind per batch covering many subtables, per-message completion, isolation of
// rows the server refuses, outage buffering with retry, the buffer bound, and flush on close.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TdengineClientApi } from "../../lib/tdengine/api";
import { TdengineError } from "../../lib/tdengine/errors";
import { BufferFullError, declaredSchema, WritePipeline, type PipelineOptions, type WriterEvent } from "../../lib/write";
import { FakeWriteClient } from "../support/fake-write-client";
import { waitFor } from "../support/wait";

const METERS = declaredSchema("ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT", "groupid INT, location VARCHAR(16)");

function rows(n: number, start = 0, groups = 10): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1700000000000 + start + i,
    current: 1.5,
    voltage: 220,
    phase: 0.5,
    groupid: (start + i) % groups,
    location: "California",
  }));
}

function setup(over: Partial<PipelineOptions> = {}, client = new FakeWriteClient(METERS)) {
  const events: WriterEvent[] = [];
  const p = new WritePipeline({
    database: "power",
    stable: "meters",
    schema: METERS,
    autoCreate: { precision: "ms" },
    map: { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "d_${groupid}" }, strict: false },
    batchRows: 100,
    // Batches of exactly batchRows, as these tests count them; catching up in larger binds has its own test.
    catchUpRows: 100,
    flushMs: 20,
    retry: { initialMs: 5, maxMs: 20 },
    connectWaitMs: 50,
    getClient: async () => {
      if (client.down) throw new TdengineError("timeout", "not connected");
      return client as unknown as TdengineClientApi;
    },
    onEvent: (e) => events.push(e),
    ...over,
  });
  return { p, client, events };
}

describe("Writer batching", () => {
  it("creates the database and super table once, then binds whole batches covering many subtables", async () => {
    const { p, client } = setup();
    const out = await Promise.all([p.write({ payload: rows(60, 0) }), p.write({ payload: rows(60, 60) }), p.write({ payload: rows(80, 120) })]);
    assert.deepEqual(out.map((o) => [o.written, o.failed.length]), [[60, 0], [60, 0], [80, 0]]);
    assert.deepEqual(client.execs, [
      "CREATE DATABASE IF NOT EXISTS `power` PRECISION 'ms'",
      "CREATE STABLE IF NOT EXISTS `power`.`meters` (`ts` TIMESTAMP, `current` FLOAT, `voltage` INT, `phase` FLOAT) TAGS (`groupid` INT, `location` VARCHAR(16))",
      "USE `power`",
    ]);
    assert.deepEqual(client.prepares, ["INSERT INTO ? USING `power`.`meters` TAGS (?,?) VALUES (?,?,?,?)"], "one statement, reused");
    // The first message finds the writer idle and goes at once; the two that arrive meanwhile gather into a full
    // batch (100) and the rest (40).
    assert.deepEqual(client.batches.map((b) => b.reduce((s, t) => s + t.columns[0].length, 0)), [60, 100, 40], "200 rows from 3 messages in binds of at most N=100");
    assert.equal(client.batches[1].length, 10, "one bind covers the 10 subtables");
    assert.deepEqual(client.batches[1][0], { table: "d_0", tags: [0, "California"], columns: [[1700000000060, 1700000000070, 1700000000080, 1700000000090, 1700000000100, 1700000000110, 1700000000120, 1700000000130, 1700000000140, 1700000000150], Array(10).fill(1.5), Array(10).fill(220), Array(10).fill(0.5)] });
    assert.equal(client.rows.size, 200);
    await p.close(1000);
  });

  it("writes a message that finds the writer idle at once, without waiting for the flush interval, and resolves it only when its rows are written", async () => {
    // A flush interval far longer than the test: only an immediate write can make the row land.
    const { p, client } = setup({ flushMs: 60_000 });
    let resolved = false;
    let storedWhenResolved = -1;
    const w = p.write({ payload: rows(5) }).then((o) => {
      resolved = true;
      storedWhenResolved = client.rows.size;
      return o;
    });
    await waitFor("the message written", () => client.rows.size === 5);
    const o = await w;
    assert.equal(resolved, true);
    assert.equal(storedWhenResolved, 5, "the message resolved only once its rows were written");
    assert.equal(o.written, 5);
    assert.equal(client.execAttempts, 1, "one write for the message");
    assert.ok(o.latencyMs >= 0);
    // Idle again: the next message goes at once too.
    await p.write({ payload: rows(3, 5) });
    assert.equal(client.rows.size, 8);
    assert.equal(client.execAttempts, 2);
    await p.close(1000);
  });

  it("announces each batch before it goes and says whether more rows of the same write follow at once (a reader may wait for them)", async () => {
    const { p, events } = setup({ flushMs: 60_000 });
    // One message of 250 rows in batches of at most 100: three batches back to back, the last says "no more".
    await p.write({ payload: rows(250) });
    const seen = events.filter((e) => e.type === "sending" || e.type === "written").map((e) => (e.type === "written" ? `written ${e.rows} more=${e.more}` : e.type));
    assert.deepEqual(seen, ["sending", "written 100 more=true", "sending", "written 100 more=true", "sending", "written 50 more=false"]);
    assert.ok(events.every((e) => e.type !== "sending" || (e.database === "power" && e.stable === "meters")));
    await p.close(1000);
  });

  it("a writer more than one batch behind catches up in binds of up to catchUpRows, each message resolved once its rows are in", async () => {
    const { p, client } = setup({ flushMs: 60_000, catchUpRows: 1000 });
    let release!: () => void;
    client.hold = new Promise((r) => (release = r));
    const first = p.write({ payload: rows(10, 0) });
    await waitFor("the first batch in flight", () => client.execAttempts === 1);
    // 2,500 rows from 25 messages wait while the first batch is in flight: 25 batches of 100 without catching up.
    const behind = Array.from({ length: 25 }, (_, i) => p.write({ payload: rows(100, 10 + i * 100) }));
    await waitFor("the backlog buffered", () => p.pendingRows === 2510);
    client.hold = undefined;
    release();
    const out = await Promise.all([first, ...behind]);
    assert.ok(out.every((o, i) => o.written === (i === 0 ? 10 : 100) && o.failed.length === 0));
    assert.deepEqual(client.batches.map((b) => b.reduce((s, t) => s + t.columns[0].length, 0)), [10, 1000, 1000, 500], "three binds for the backlog, the last one what was left");
    assert.equal(client.rows.size, 2510);
    await p.close(1000);
  });

  it("gathers the rows that arrive while a batch is in flight: into the next batch once it is full, or after the flush interval", async () => {
    const { p, client } = setup({ flushMs: 60_000 });
    let release!: () => void;
    client.hold = new Promise((r) => (release = r));
    const first = p.write({ payload: rows(10, 0) });
    await waitFor("the first batch in flight", () => client.execAttempts === 1);
    // Under load: 2 messages of 20 rows arrive while the first batch is in flight. They are not a full batch, and
    // the flush interval is far away: they wait for more rows instead of going out as a small batch.
    const more = [p.write({ payload: rows(20, 10) }), p.write({ payload: rows(20, 30) })];
    await waitFor("the two messages buffered", () => p.pendingRows === 50);
    client.hold = undefined;
    release();
    await first;
    more.push(p.write({ payload: rows(60, 50) }));
    await Promise.all(more);
    assert.deepEqual(client.batches.map((b) => b.reduce((s, t) => s + t.columns[0].length, 0)), [10, 100], "the gathered rows went as one full batch, not one write per message");
    // Rows short of a full batch wait for the flush interval; closing writes them at once.
    const last = p.write({ payload: rows(5, 110) });
    await p.close(1000);
    assert.equal((await last).written, 5);
    assert.equal(client.rows.size, 115);
  });

  it("with a flush interval of 0, rows gathered while a batch was in flight go as soon as it returns", async () => {
    const { p, client } = setup({ flushMs: 0 });
    let release!: () => void;
    client.hold = new Promise((r) => (release = r));
    const first = p.write({ payload: rows(10, 0) });
    await waitFor("the first batch in flight", () => client.execAttempts === 1);
    const more = [p.write({ payload: rows(20, 10) }), p.write({ payload: rows(20, 30) })];
    client.hold = undefined;
    release();
    await Promise.all([first, ...more]);
    assert.deepEqual(client.batches.map((b) => b.reduce((s, t) => s + t.columns[0].length, 0)), [10, 40]);
    await p.close(1000);
  });

  it("converts timestamps to the precision the prepared statement reports", async () => {
    const client = new FakeWriteClient(METERS, "us");
    const { p } = setup({ autoCreate: undefined }, client);
    await p.write({ payload: [{ ...rows(1)[0], ts: "2024-05-01T03:04:05.123456Z" }] });
    assert.deepEqual([...client.rows.keys()], [`d_0|${Date.UTC(2024, 4, 1, 3, 4, 5, 123) * 1000 + 456}`]);
    await p.close(1000);
  });

  it("reads the schema with DESCRIBE when none is declared, and honours msg.stable", async () => {
    const { p, client } = setup({ schema: undefined, autoCreate: undefined });
    const o = await p.write({ payload: rows(3), stable: "other" });
    assert.equal(o.written, 3);
    assert.deepEqual(client.prepares, ["INSERT INTO ? USING `power`.`other` TAGS (?,?) VALUES (?,?,?,?)"]);
    await assert.rejects(p.write({ payload: rows(1), stable: "bad name" }), /msg.stable: invalid super table name/);
    await p.close(1000);
  });
});

describe("Writer failures", () => {
  it("isolates the row the server refuses; its batch-mates are written", async () => {
    const { p, client, events } = setup();
    client.poison = 666;
    const payload = rows(40);
    payload[17].voltage = 666;
    const other = p.write({ payload: rows(40, 40) });
    const o = await p.write({ payload });
    assert.equal(o.written, 39);
    assert.deepEqual(o.failed.map((f) => f.index), [17]);
    assert.match(o.failed[0].reason, /TDengine refused the row: value out of range \(code 0x0224\)/);
    assert.equal((await other).written, 40);
    assert.equal(client.rows.size, 79);
    assert.ok(events.some((e) => e.type === "rejected" && e.rows === 1));
    await p.close(1000);
  });

  it("narrows a refusal down to the single row, also in the smallest batch (two rows)", async () => {
    const { p, client } = setup();
    client.poison = 666;
    const pair = rows(2);
    pair[1].voltage = 666;
    const o = await p.write({ payload: pair });
    assert.equal(o.written, 1, "the good row of the pair is written");
    assert.deepEqual(o.failed.map((f) => f.index), [1]);
    await p.close(1000);
  });

  it("re-prepares once after a statement-level error (table dropped) and writes the batch", async () => {
    const { p, client } = setup();
    await p.write({ payload: rows(10) });
    client.missingTable = 1;
    const o = await p.write({ payload: rows(10, 10) });
    assert.equal(o.written, 10);
    assert.equal(client.execs.length, 6, "auto-create DDL (and USE) ran again before the retry");
    assert.equal(client.prepares.length, 2);
    client.missingTable = 2;
    const bad = await p.write({ payload: rows(10, 20) });
    assert.equal(bad.written, 0);
    assert.equal(bad.failed.length, 10);
    assert.match(bad.failed[0].reason, /Table does not exist \(code 0x2603\)/);
    assert.equal(client.execAttempts, 1 + 2 + 2, "no bisection of a statement-level failure");
    await p.close(1000);
  });

  it("keeps rows through an outage and writes each exactly once afterwards", async () => {
    const { p, client, events } = setup();
    client.down = true;
    const pending = [p.write({ payload: rows(150, 0) }), p.write({ payload: rows(150, 150) })];
    await waitFor("a few failed attempts", () => events.some((e) => e.type === "outage"));
    assert.equal(p.pendingRows, 300);
    assert.equal(client.rows.size, 0);
    client.down = false;
    const out = await Promise.all(pending);
    assert.deepEqual(out.map((o) => o.written), [150, 150]);
    assert.equal(client.rows.size, 300);
    assert.equal(p.pendingRows, 0);
    assert.deepEqual(events.filter((e) => e.type === "outage" || e.type === "recovered").map((e) => e.type), ["outage", "recovered"]);
    await p.close(1000);
  });

  it("a socket closed in the middle of a write ('closed' transport error) retries the batch instead of rejecting rows", async () => {
    const { p, client, events } = setup();
    client.dropExecs = 2;
    const o = await p.write({ payload: rows(30) });
    assert.deepEqual([o.written, o.failed.length], [30, 0]);
    assert.equal(client.execAttempts, 3, "two failed attempts, then the retry that landed");
    assert.equal(client.rows.size, 30);
    assert.ok(!events.some((e) => e.type === "rejected"));
    assert.deepEqual(events.filter((e) => e.type === "outage" || e.type === "recovered").map((e) => e.type), ["outage", "recovered"]);
    await p.close(1000);
  });

  it("a write lost while the connection fails over to another endpoint is retried there, not reported as an outage", async () => {
    const { p, client, events } = setup({ failingOver: () => true });
    client.dropExecs = 1;
    const o = await p.write({ payload: rows(30) });
    assert.deepEqual([o.written, o.failed.length], [30, 0]);
    assert.equal(client.execAttempts, 2, "the lost attempt, then the retry that landed");
    assert.deepEqual(events.filter((e) => e.type === "outage" || e.type === "recovered"), [], "a failover is no outage");
    await p.close(1000);
  });

  it("during a failover, a second failure in a row is an outage, reported once", async () => {
    const { p, client, events } = setup({ failingOver: () => true });
    client.dropExecs = 3;
    const o = await p.write({ payload: rows(30) });
    assert.equal(o.written, 30);
    assert.equal(client.execAttempts, 4);
    assert.deepEqual(events.filter((e) => e.type === "outage" || e.type === "recovered").map((e) => e.type), ["outage", "recovered"]);
    await p.close(1000);
  });

  it("the buffer bound counts rows in flight, not only rows waiting in the buffer", async () => {
    let release!: () => void;
    let asked = 0;
    const client = new FakeWriteClient(METERS);
    const gate = new Promise<TdengineClientApi>((r) => (release = () => r(client as unknown as TdengineClientApi)));
    const getClient = (): Promise<TdengineClientApi> => {
      asked++;
      return gate;
    };
    const { p } = setup({ maxBufferedRows: 250, flushMs: 1, getClient }, client);
    const first = p.write({ payload: rows(200) });
    await waitFor("the batch is in flight (waiting for the connection)", () => asked > 0);
    await assert.rejects(p.write({ payload: rows(100, 200) }), /write buffer full: 200 rows are waiting for TDengine \(bound 250\); refused 100 new rows/);
    release();
    assert.equal((await first).written, 200);
    await p.close(1000);
  });

  it("refuses new messages beyond the buffer bound with a catchable error, and accepts again once drained", async () => {
    const { p, client } = setup({ maxBufferedRows: 250 });
    client.down = true;
    const first = p.write({ payload: rows(200) });
    await assert.rejects(p.write({ payload: rows(100, 200) }), (e: unknown) => {
      assert.ok(e instanceof BufferFullError);
      assert.match((e as Error).message, /write buffer full: 200 rows are waiting for TDengine \(bound 250\); refused 100 new rows/);
      return true;
    });
    client.down = false;
    assert.equal((await first).written, 200);
    assert.equal((await p.write({ payload: rows(100, 200) })).written, 100);
    await p.close(1000);
  });

  it("flushes on close, and reports rows it could not write before the deadline", async () => {
    const { p, client } = setup({ flushMs: 60000 });
    const a = p.write({ payload: rows(10) });
    const r = await p.close(1000);
    assert.deepEqual(r, { unwritten: 0 });
    assert.equal((await a).written, 10);
    assert.equal(client.rows.size, 10);

    const s = setup({ flushMs: 60000 });
    s.client.down = true;
    const b = s.p.write({ payload: rows(7) });
    const r2 = await s.p.close(100);
    assert.deepEqual(r2, { unwritten: 7 });
    const ob = await b;
    assert.equal(ob.written, 0);
    assert.equal(ob.failed.length, 7);
    assert.match(ob.failed[0].reason, /the node closed before TDengine accepted the row/);
    await assert.rejects(s.p.write({ payload: rows(1) }), /closing/);
  });
});
