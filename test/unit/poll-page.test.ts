// The poll's page handling on its fast path (table mode, ordered safe-integer epochs) and where it must leave
// it: rows repeated inside a page, pages out of timestamp order, bigint (ns) epochs; and the next page asked for
// before this one is converted (at the row cap, it becomes the next poll's first page), never more than one page ahead.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { epochToMs, Poller, type PollerOptions } from "../../lib/poll";
import type { ColumnMeta, QueryResult } from "../../lib/tdengine/api";
import { FakeTdengineClient, seeded } from "../support/fake-tdengine-client";

const table = { database: "power", table: "meters", tsColumn: "ts", columns: ["v"], tags: [] };

function poller(opts: Partial<PollerOptions> = {}): Poller {
  return new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" }, timestamps: "ms", ...opts });
}

const keysOf = (rows: Record<string, unknown>[]): string[] => rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`);

const COLUMNS: ColumnMeta[] = [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
  { name: "v", type: 4, typeName: "INT", length: 4 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];

/** A table-mode answer with exactly these rows (ts, v, tbname), whatever the bound. */
function fixedPage(rows: [number, number, string][]): (sql: string) => QueryResult {
  return (sql) => {
    assert.match(sql, /^SELECT `ts`, `v`, tbname FROM `power`\.`meters` WHERE `ts` >= \? ORDER BY `ts` LIMIT \d+$/);
    return { columns: COLUMNS, rows: rows.map((r) => [...r]), precision: "ms" };
  };
}

describe("poll: pages", () => {
  it("a row repeated inside an ordered page (same tbname and ts) is emitted once, also between the remembered ends", async () => {
    const c = new FakeTdengineClient();
    c.handler = fixedPage([
      [1000, 1, "d0"],
      [1001, 2, "d0"],
      [1001, 3, "d1"],
      [1001, 4, "d0"], // the same key as the second row, in the middle of the page
      [1002, 5, "d0"],
      [1003, 6, "d0"],
    ]);
    const r = await poller({ pageSize: 100 }).poll(c);
    assert.deepEqual(keysOf(r.rows), ["d0@1000", "d0@1001", "d1@1001", "d0@1002", "d0@1003"]);
    assert.equal(r.rows[1].v, 2, "the first of the repeated rows");
  });

  it("a page out of timestamp order is de-duplicated row by row: a key already emitted earlier in it is not repeated", async () => {
    const c = new FakeTdengineClient();
    c.handler = fixedPage([
      [1000, 1, "d0"],
      [1005, 2, "d0"],
      [1002, 3, "d1"],
      [1005, 4, "d1"],
      [1002, 5, "d1"], // out of order and a repeat of the third row
      [1009, 6, "d0"],
    ]);
    const r = await poller({ pageSize: 100 }).poll(c);
    assert.deepEqual(keysOf(r.rows), ["d0@1000", "d0@1005", "d1@1002", "d1@1005", "d0@1009"]);
    assert.equal(r.watermark?.ms, 1009);
  });

  it("bigint (ns) epochs over many pages with ties: every row exactly once", async () => {
    const c = new FakeTdengineClient("ns", undefined, 4);
    const rnd = seeded(9);
    // Epochs beyond 2^53 (bigints), one ms and a few ns apart so that each row has its own key in ms.
    let ts = 1_700_000_000_000_000_123n;
    for (let i = 0; i < 120; i++, ts += 1_000_007n) for (let t = 0; t < 4; t++) if (rnd() < 0.7) c.insert(`d${t}`, ts);
    const p = poller({ pageSize: 7 });
    const emitted: string[] = [];
    for (let i = 0; i < 500; i++) {
      const r = await p.poll(c);
      emitted.push(...keysOf(r.rows));
      if (r.caughtUp) break;
    }
    assert.equal(new Set(emitted).size, emitted.length, "no row emitted twice");
    assert.equal(emitted.length, c.rows.length, "as many rows emitted as exist");
    const expected = c.rows.map((r) => `${r.tbname}@${epochToMs(r.ts, "ns")}`).sort();
    assert.deepEqual([...emitted].sort(), expected);
  });

  it("the page after the one that reaches the row cap is asked for before that page's objects are built", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) c.insert(`d${i % 2}`, 1000 + i);
    // Each answer's value column records how many queries had been sent when the converter read it.
    const answer = c.queryWithParams.bind(c);
    const sentWhenBuilt: number[][] = [];
    c.queryWithParams = async (sql, params, opts) => {
      const res = await answer(sql, params, opts);
      const v = res.columns.findIndex((col) => col.name === "v");
      const seen: number[] = [];
      sentWhenBuilt.push(seen);
      const rows = res.rows.map((row) => new Proxy(row, { get: (t, k) => (k === String(v) && seen.push(c.queries.length), Reflect.get(t, k)) }));
      return { ...res, rows };
    };
    const r = await poller({ pageSize: 10, maxRowsPerPoll: 30 }).poll(c);
    assert.equal(r.caughtUp, false);
    assert.equal(sentWhenBuilt.length, 5, "four pages and the next poll's first");
    // The fourth page reached the cap: the fifth query was on its way while its rows were built.
    assert.ok(sentWhenBuilt[3].length > 0 && sentWhenBuilt[3].every((n) => n === 5), `queries sent while page 4 was built: ${sentWhenBuilt[3].join(",")}`);
  });

  it("asks for the next page while the poll is sure to go on; at the row cap, only the next poll's first page", async () => {
    const c = new FakeTdengineClient();
    for (let i = 0; i < 100; i++) c.insert(`d${i % 2}`, 1000 + i);
    const p = poller({ pageSize: 10, maxRowsPerPoll: 30 });
    const r = await p.poll(c);
    // Pages of ten from the newest timestamp of the last: 10 + 9 + 9 + 9 new rows reach the cap of 30.
    assert.equal(r.rows.length, 37);
    assert.equal(r.caughtUp, false);
    assert.equal(c.queries.length, 5, "four pages, and the next poll's first page asked ahead");
    assert.equal(c.maxInFlight, 1, "one query at a time on the connection");
    // The rest follows without loss or repeat.
    const emitted = keysOf(r.rows);
    for (let i = 0; i < 50; i++) {
      const next = await p.poll(c);
      emitted.push(...keysOf(next.rows));
      if (next.caughtUp) break;
    }
    assert.equal(new Set(emitted).size, 100);
    assert.equal(emitted.length, 100);
  });
});
