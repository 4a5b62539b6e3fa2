// The watermark engine against an in-memory super table: every row exactly once, whatever the page size,
// timestamp ties, late rows, restarts and failures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { epochToMs, Poller, type PollerOptions, type PollResult } from "../../lib/poll";
import { FakeTdengineClient, seeded } from "../support/fake-tdengine-client";

const table = { database: "power", table: "meters", tsColumn: "ts", columns: ["v"], tags: [] };

function poller(opts: Partial<PollerOptions> = {}): Poller {
  return new Poller({
    source: { mode: "table", table, includeTbname: true },
    start: { kind: "everything" },
    timestamps: "ms",
    ...opts,
  });
}

/** Polls until caught up; returns every emitted row key. */
async function drain(p: Poller, c: FakeTdengineClient): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = await p.poll(c);
    keys.push(...r.rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`));
    if (r.caughtUp) return keys;
  }
  throw new Error("never caught up");
}

const keysOf = (rows: Record<string, unknown>[]): string[] => rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`);

/** Checks that `emitted` holds each key of the table (minus `except`) exactly once; keys use epoch ms. */
function assertExactlyOnce(emitted: string[], c: FakeTdengineClient, except: string[] = []): void {
  const expected = c.rows
    .map((r) => `${r.tbname}@${epochToMs(r.ts, c.precision)}`)
    .filter((k) => !except.includes(k));
  assert.equal(new Set(emitted).size, emitted.length, "no row emitted twice");
  assert.equal(emitted.length, expected.length, "as many rows emitted as exist");
  assert.deepEqual([...emitted].sort(), [...expected].sort(), "the same keys");
}

describe("poll: watermark paging", () => {
  it("emits each row of many subtables sharing timestamps exactly once, with pages splitting the ties", async () => {
    const c = new FakeTdengineClient("ms", undefined, 7);
    const p = poller({ pageSize: 7 });
    const emitted: string[] = [];
    let ts = 1_700_000_000_000;
    const rnd = seeded(3);
    for (let round = 0; round < 30; round++) {
      // A burst: a few timestamps, each written by many of 10 subtables.
      for (let k = 0; k < 3; k++, ts++) for (let t = 0; t < 10; t++) if (rnd() < 0.8) c.insert(`d${t}`, ts, { v: t });
      emitted.push(...(await drain(p, c)));
    }
    assertExactlyOnce(emitted, c);
    // The watermark is bound as a parameter, never written into the statement.
    for (const q of c.queries) {
      assert.ok(!/\d{6,}/.test(q.sql), q.sql);
      assert.equal(typeof q.params[0], "bigint");
    }
  });

  it("reads a timestamp shared by more rows than a page holds, then continues after it", async () => {
    const c = new FakeTdengineClient();
    for (let t = 0; t < 25; t++) c.insert(`d${t}`, 1000, { v: t });
    for (let t = 0; t < 5; t++) c.insert(`d${t}`, 1001, { v: t });
    const p = poller({ pageSize: 10 });
    const r = await p.poll(c);
    assert.equal(r.rows.length, 30);
    assert.ok(r.caughtUp);
    assert.ok(c.queries.some((q) => / = \? ORDER BY `ts`$/.test(q.sql)), "whole-timestamp read");
    assert.ok(c.queries.some((q) => / > \? ORDER BY `ts` LIMIT 10$/.test(q.sql)), "then strictly after it");
    const again = await p.poll(c);
    assert.equal(again.rows.length, 0);
    c.insert("d9", 1001, { v: 9 });
    assert.deepEqual((await p.poll(c)).rows.map((x) => x.tbname), ["d9"]);
  });

  it("returns the watermark (decimal epoch in the precision) and the newest row time", async () => {
    const c = new FakeTdengineClient("ns");
    c.insert("d0", 1700000000123456789n);
    const r = await poller().poll(c);
    assert.deepEqual(r.watermark, { value: "1700000000123456789", precision: "ns", ms: 1700000000123 });
    assert.equal(r.newestMs, 1700000000123);
    assert.equal(r.rows[0].ts, 1700000000123);
    assert.deepEqual(r.columns.map((x) => x.name), ["ts", "v", "tbname"]);
  });

  it("stops at maxRowsPerPoll and reports that it has not caught up; the next poll continues without loss", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) for (let t = 0; t < 3; t++) c.insert(`d${t}`, 1000 + i);
    const p = poller({ pageSize: 20, maxRowsPerPoll: 50 });
    const first = await p.poll(c);
    assert.equal(first.caughtUp, false);
    assert.ok(first.rows.length >= 50 && first.rows.length < 70);
    const rest = await drain(p, c);
    assertExactlyOnce([...first.rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`), ...rest], c);
  });

  it("a poll given maxRows (its rows join an earlier poll's message) stops there, below maxRowsPerPoll; nothing is lost", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) for (let t = 0; t < 3; t++) c.insert(`d${t}`, 1000 + i);
    const p = poller({ pageSize: 10, maxRowsPerPoll: 200 });
    const joined = await p.poll(c, { maxRows: 30 });
    assert.equal(joined.caughtUp, false);
    assert.ok(joined.rows.length >= 30 && joined.rows.length < 40, `${joined.rows.length} rows`);
    const rest = await drain(p, c);
    assertExactlyOnce([...keysOf(joined.rows), ...rest], c);
  });

  it("a poll stopped by maxRowsPerPoll has asked for the next page, which the next poll reads: no page asked twice", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) c.insert(`d${i % 2}`, 1000 + i);
    const p = poller({ pageSize: 10, maxRowsPerPoll: 30 });
    const first = await p.poll(c);
    assert.equal(first.caughtUp, false);
    const sent = c.queries.length;
    const ahead = c.queries[sent - 1];
    // The last query sent starts at the newest row emitted: the next poll's first page.
    assert.equal(ahead.params[0], BigInt(Math.max(...first.rows.map((r) => Number(r.ts)))));
    const rest = await drain(p, c);
    const asked = c.queries.map((q) => `${q.sql}|${String(q.params)}`);
    assert.equal(new Set(asked).size, asked.length, "no page asked twice");
    assert.notEqual(`${c.queries[sent].sql}|${String(c.queries[sent].params)}`, `${ahead.sql}|${String(ahead.params)}`, "the second poll begins after the carried page");
    assertExactlyOnce([...first.rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`), ...rest], c);
  });

  it("a page asked for ahead that failed is asked again; one asked on another connection is not used", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) c.insert(`d${i % 2}`, 1000 + i);
    /** A connection over the table that records its queries and fails the ones listed (1-based). */
    const connection = (failing: number[] = []) => {
      const asked: string[] = [];
      return {
        asked,
        queryWithParams: (sql: string, params: unknown[]) => {
          asked.push(String(params));
          return failing.includes(asked.length) ? Promise.reject(new Error("connection lost")) : c.queryWithParams(sql, params);
        },
      };
    };
    // Four pages reach the cap; the fifth query, asked ahead, fails: the next poll asks for it again.
    const a = connection([5]);
    const p = poller({ pageSize: 10, maxRowsPerPoll: 30 });
    const emitted = keysOf((await p.poll(a)).rows);
    assert.equal(a.asked.length, 5);
    const second = await p.poll(a);
    assert.equal(second.error, undefined);
    assert.equal(a.asked[5], a.asked[4], "the failed page is asked again");
    emitted.push(...keysOf(second.rows));
    // A page asked ahead on one connection is not used by a poll on another: it is asked there.
    const b = connection();
    const before = a.asked.length;
    emitted.push(...keysOf((await p.poll(b)).rows));
    assert.equal(a.asked.length, before, "nothing more asked on the first connection");
    assert.equal(b.asked[0], a.asked[before - 1], "the second connection asks for the page itself");
    emitted.push(...(await drain(p, c)));
    assertExactlyOnce(emitted, c);
  });

  it("hides the internal tbname unless asked for", async () => {
    const c = new FakeTdengineClient();
    c.insert("d0", 5);
    const p = new Poller({ source: { mode: "table", table, includeTbname: false }, start: { kind: "everything" } });
    const r = await p.poll(c);
    assert.deepEqual(Object.keys(r.rows[0]), ["ts", "v"]);
    assert.ok(r.rows[0].ts instanceof Date, "timestamps are Dates by default");
  });
});

describe("poll: start position", () => {
  it("'now' learns the precision with an empty probe and emits only rows from now on", async () => {
    for (const precision of ["ms", "us", "ns"] as const) {
      const per = { ms: 1n, us: 1000n, ns: 1000000n }[precision];
      const c = new FakeTdengineClient(precision);
      const now = 1_700_000_000_000;
      c.insert("d0", BigInt(now - 1) * per);
      c.insert("d0", BigInt(now) * per);
      c.insert("d1", BigInt(now + 5) * per + per / 2n);
      const p = poller({ start: { kind: "now" }, now: () => now });
      const r = await p.poll(c);
      assert.deepEqual(r.rows.map((x) => x.ts), [now, now + 5], precision);
      assert.equal(c.queries[0].params[0], 9223372036854775807n, "probe bound");
      assert.equal(c.queries[1].params[0], BigInt(now) * per, "first bound in the database precision");
    }
  });

  it("the start position is a watermark at once, so a restart before any row still resumes from it", async () => {
    const c = new FakeTdengineClient();
    let now = 50_000;
    const p1 = poller({ start: { kind: "now" }, now: () => now });
    assert.equal((await p1.poll(c)).rows.length, 0);
    const saved = p1.snapshot();
    assert.equal(saved?.watermark, "50000");
    c.insert("d0", 50_100); // written while "Node-RED is down"
    now = 60_000;
    const p2 = poller({ start: { kind: "now" }, now: () => now });
    assert.ok(p2.restore(saved));
    assert.deepEqual((await p2.poll(c)).rows.map((x) => x.ts), [50_100]);
  });

  it("a start window reads the last N ms, like the demo's 12 h", async () => {
    const c = new FakeTdengineClient();
    const now = 100 * 3600_000;
    const h12 = 12 * 3600_000;
    c.insert("d0", now - h12 - 1);
    c.insert("d0", now - h12);
    c.insert("d0", now - 1);
    const r = await poller({ start: { kind: "lookback", ms: h12 }, now: () => now }).poll(c);
    assert.deepEqual(r.rows.map((x) => x.ts), [now - h12, now - 1]);
  });
});

describe("poll: late rows", () => {
  it("a lookback catches rows written behind the watermark, without repeating the others", async () => {
    const c = new FakeTdengineClient();
    const p = poller({ lookbackMs: 100, pageSize: 4 });
    for (let i = 0; i < 10; i++) c.insert(`d${i % 3}`, 1000 + i * 10);
    const emitted = await drain(p, c);
    c.insert("d7", 1085); // late: behind the watermark (1090) but inside the lookback
    c.insert("d7", 950); // too late: outside the lookback (older than 1090 - 100)
    c.insert("d0", 1100);
    emitted.push(...(await drain(p, c)));
    assertExactlyOnce(emitted, c, ["d7@950"]);
    assert.ok(emitted.includes("d7@1085"));
  });

  it("without a lookback a late row behind the watermark is not read (documented)", async () => {
    const c = new FakeTdengineClient();
    const p = poller();
    c.insert("d0", 1000);
    await p.poll(c);
    c.insert("d1", 999);
    assert.equal((await p.poll(c)).rows.length, 0);
  });

  it("when the key memory bound is hit, the lookback shrinks instead of repeating rows", async () => {
    const c = new FakeTdengineClient();
    const p = poller({ lookbackMs: 1_000_000, maxRecentKeys: 10, pageSize: 5 });
    for (let i = 0; i < 40; i++) c.insert("d0", 1000 + i);
    const emitted = await drain(p, c);
    assert.ok(p.rememberedKeys <= 10);
    c.insert("d1", 1039); // inside the kept window: caught
    c.insert("d1", 1001); // evicted region: not read again, and nothing is repeated
    emitted.push(...(await drain(p, c)));
    assertExactlyOnce(emitted, c, ["d1@1001"]);
  });
});

describe("poll: persistence and reset", () => {
  it("a restored state resumes after the watermark without repeating the rows at it", async () => {
    const c = new FakeTdengineClient("us");
    for (let t = 0; t < 5; t++) c.insert(`d${t}`, 1_000_000);
    const p1 = poller({ lookbackMs: 50 });
    const first = await drain(p1, c);
    const saved = JSON.parse(JSON.stringify(p1.snapshot()));
    assert.equal(saved.watermark, "1000000");
    assert.equal(saved.boundary.length, 5);

    for (let t = 5; t < 8; t++) c.insert(`d${t}`, 1_000_000); // same timestamp, new subtables
    c.insert("d0", 1_010_000);
    const p2 = poller({ lookbackMs: 50 });
    assert.equal(p2.restore(saved), true);
    const second = await drain(p2, c);
    assertExactlyOnce([...first, ...second], c);
  });

  it("ignores a state written for another query or malformed", () => {
    const p = poller();
    const other = new Poller({ source: { mode: "table", table: { ...table, table: "other" }, includeTbname: true }, start: { kind: "everything" } });
    assert.equal(p.restore({ v: 1, fingerprint: other.fingerprint, precision: "ms", watermark: "5", boundary: [] }), false);
    assert.equal(p.restore({ v: 1, fingerprint: p.fingerprint, precision: "ms", watermark: "5; DROP", boundary: [] }), false);
    assert.equal(p.restore(null), false);
    assert.equal(p.restore({ v: 1, fingerprint: p.fingerprint, precision: "ms", watermark: "5", boundary: [] }), true);
  });

  it("reset goes back to the start position", async () => {
    const c = new FakeTdengineClient();
    c.insert("d0", 10);
    const p = poller();
    assert.equal((await p.poll(c)).rows.length, 1);
    assert.equal((await p.poll(c)).rows.length, 0);
    p.reset();
    assert.equal(p.snapshot(), undefined);
    assert.equal((await p.poll(c)).rows.length, 1);
  });
});

describe("poll: failures", () => {
  it("a failing first page throws and changes nothing; the next poll reads the same rows", async () => {
    const c = new FakeTdengineClient();
    c.insert("d0", 10);
    const p = poller();
    c.failNext = { n: 1, error: new Error("down") };
    await assert.rejects(p.poll(c), /down/);
    assert.equal((await p.poll(c)).rows.length, 1);
  });

  it("a page failing after earlier pages hands out their rows with the error, and loses nothing", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 30; i++) c.insert("d0", 100 + i);
    const p = poller({ pageSize: 10 });
    const real = c.queryWithParams.bind(c);
    let n = 0;
    c.queryWithParams = (sql, params, o) => (++n === 2 ? Promise.reject(new Error("dropped")) : real(sql, params, o));
    const r: PollResult = await p.poll(c);
    assert.equal(r.error?.message, "dropped");
    assert.equal(r.caughtUp, false);
    assert.equal(r.rows.length, 10);
    const rest = await drain(p, c);
    assertExactlyOnce([...r.rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`), ...rest], c);
  });

  it("names the missing timestamp column", async () => {
    const c = new FakeTdengineClient();
    c.handler = () => ({ columns: [{ name: "x", type: 4, typeName: "INT", length: 4 }], rows: [[1]], precision: "ms" });
    const p = new Poller({ source: { mode: "sql", sql: "SELECT x FROM t WHERE ts >= ?", tsColumn: "ts" }, start: { kind: "everything" } });
    await assert.rejects(p.poll(c), /no timestamp column "ts"/);
  });
});

describe("poll: SQL mode", () => {
  it("binds the watermark to every placeholder, de-duplicates on (tbname, ts) or on the whole row", async () => {
    const c = new FakeTdengineClient();
    const data = [
      [1000, 1, "a"],
      [1000, 2, "b"],
      [1001, 3, "a"],
    ];
    c.handler = (sql, params) => {
      assert.equal(sql, "SELECT ts, v, loc FROM db.t WHERE ts >= ? AND ts < ? + 1000");
      assert.equal(params.length, 2);
      assert.equal(params[0], params[1]);
      const b = params[0] as bigint;
      return {
        columns: [
          { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
          { name: "v", type: 4, typeName: "INT", length: 4 },
          { name: "loc", type: 8, typeName: "VARCHAR", length: 8 },
        ],
        rows: data.filter((r) => BigInt(r[0]) >= b),
        precision: "ms",
      };
    };
    const p = new Poller({
      source: { mode: "sql", sql: "SELECT ts, v, loc FROM db.t WHERE ts >= $watermark AND ts < $watermark + 1000", tsColumn: "ts" },
      start: { kind: "everything" },
      timestamps: "ms",
    });
    assert.equal((await p.poll(c)).rows.length, 3);
    assert.equal((await p.poll(c)).rows.length, 0, "the row at the watermark is not repeated");
    data.push([1001, 4, "b"]);
    assert.deepEqual((await p.poll(c)).rows, [{ ts: 1001, v: 4, loc: "b" }]);
  });

  it("never emits a row below the floor, even when the query returns it (rows before a restored watermark)", async () => {
    const c = new FakeTdengineClient();
    // A query that ignores its bound: it returns old rows every time, as a careless SQL can.
    const data = [
      [900, 1, "old"],
      [999, 2, "old"],
      [1000, 3, "at"],
      [1001, 4, "new"],
    ];
    c.handler = () => ({
      columns: [
        { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
        { name: "v", type: 4, typeName: "INT", length: 4 },
        { name: "loc", type: 8, typeName: "VARCHAR", length: 8 },
      ],
      rows: data,
      precision: "ms",
    });
    const p = new Poller({ source: { mode: "sql", sql: "SELECT ts, v, loc FROM db.t WHERE ts >= $watermark", tsColumn: "ts" }, start: { kind: "everything" }, timestamps: "ms" });
    // Resumed at 1000 (the row at 1000 already sent): the rows of 900 and 999 were sent before and are forgotten.
    assert.equal(p.restore({ v: 1, fingerprint: p.fingerprint, precision: "ms", watermark: "1000", boundary: ["3\u0001at\u0001"] }), true);
    const r = await p.poll(c);
    assert.deepEqual(r.rows, [{ ts: 1001, v: 4, loc: "new" }], "only the new row: nothing below the floor, nor the row at it again");
    assert.equal((await p.poll(c)).rows.length, 0, "and nothing on the next poll either");
  });
});
