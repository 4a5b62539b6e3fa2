// Two polls read back to back go out as one message: rows in order, the later poll's state, counts summed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergePollResults, pollMessage, Poller, type PollResult } from "../../lib/poll";
import { FakeTdengineClient } from "../support/fake-tdengine-client";

const columns = [{ name: "ts", type: "TIMESTAMP", length: 8 }] as unknown as PollResult["columns"];

function result(over: Partial<PollResult>): PollResult {
  return { rows: [], columns, caughtUp: true, pages: 1, rowsRead: 0, rowsWithoutTs: 0, stalled: false, ...over };
}

describe("poll: merging two back-to-back polls", () => {
  it("keeps every row in order, takes the later poll's watermark, catch-up state and error, sums the counts", () => {
    const err = new Error("page 2 failed");
    const first = result({ rows: [{ ts: 1 }, { ts: 2 }], watermark: { value: "2", precision: "ms", ms: 2 }, rowsRead: 2, newestMs: 2, rowsWithoutTs: 1 });
    const later = result({ rows: [{ ts: 3 }], watermark: { value: "3", precision: "ms", ms: 3 }, caughtUp: false, rowsRead: 4, pages: 2, newestMs: 3, stalled: true, error: err });
    const m = mergePollResults(first, later);
    assert.deepEqual(m.rows, [{ ts: 1 }, { ts: 2 }, { ts: 3 }]);
    assert.equal(m.watermark, later.watermark);
    assert.equal(m.caughtUp, false);
    assert.equal(m.error, err);
    assert.equal(m.rowsRead, 6);
    assert.equal(m.pages, 3);
    assert.equal(m.newestMs, 3);
    assert.equal(m.rowsWithoutTs, 1);
    assert.equal(m.stalled, true);
  });

  it("a later poll that found nothing keeps the first poll's rows and newest timestamp", () => {
    const first = result({ rows: [{ ts: 5 }], newestMs: 5, rowsRead: 1 });
    const m = mergePollResults(first, result({ pages: 1 }));
    assert.deepEqual(m.rows, [{ ts: 5 }]);
    assert.equal(m.newestMs, 5);
    assert.equal(m.caughtUp, true);
    assert.equal(m.error, undefined);
  });
});

describe("poll: one message from a poll and the rows that landed while it ran", () => {
  const table = { database: "power", table: "meters", tsColumn: "ts", columns: ["v"], tags: [] };
  const poller = (): Poller =>
    new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" }, timestamps: "ms", pageSize: 10, maxRowsPerPoll: 50 });
  const keysOf = (rows: Record<string, unknown>[]): string[] => rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`);
  const insert = (c: FakeTdengineClient, from: number, n: number): void => {
    for (let i = from; i < from + n; i++) c.insert(`d${i % 3}`, 1000 + Math.floor(i / 3));
  };

  it("joins rows that landed meanwhile, but never past Max rows/msg: the rest is the next message's, none lost or repeated", async () => {
    const c = new FakeTdengineClient();
    insert(c, 0, 30);
    const p = poller();
    let asked = 0;
    // 200 rows land while the first poll runs (it read the 30 before them).
    const landed = async (): Promise<boolean> => {
      asked++;
      insert(c, 30, 200);
      return true;
    };
    const m = await pollMessage(p, c, { lateRows: true, landed, closing: () => false });
    assert.equal(asked, 1);
    // Pages of 10: a poll ends after the page that reaches the cap, so a message holds fewer than 50 + 10 rows.
    assert.ok(m.rows.length >= 50 && m.rows.length < 60, `${m.rows.length} rows in one message (max 50)`);
    assert.equal(m.caughtUp, false, "the rest follows at once");
    const all = keysOf(m.rows);
    for (;;) {
      const next = await pollMessage(p, c, { lateRows: true, landed: async () => false, closing: () => false });
      assert.ok(next.rows.length < 60);
      all.push(...keysOf(next.rows));
      if (next.caughtUp) break;
    }
    assert.equal(all.length, 230);
    assert.equal(new Set(all).size, 230, "each row once");
  });

  it("does not ask whether rows landed when the first poll was cut short, and reads nothing more while closing", async () => {
    const c = new FakeTdengineClient();
    insert(c, 0, 80);
    let asked = 0;
    const capped = await pollMessage(poller(), c, { lateRows: true, landed: async () => (asked++, true), closing: () => false });
    assert.equal(capped.caughtUp, false);
    assert.equal(asked, 0, "a capped poll continues at once anyway");
    const c2 = new FakeTdengineClient();
    insert(c2, 0, 20);
    const p = poller();
    const closing = await pollMessage(p, c2, { lateRows: true, landed: async () => (insert(c2, 20, 20), true), closing: () => true });
    assert.equal(closing.rows.length, 20);
  });

  it("a second read that fails leaves the first read's rows in the message, with the error", async () => {
    const c = new FakeTdengineClient();
    insert(c, 0, 20);
    const m = await pollMessage(poller(), c, {
      lateRows: true,
      landed: async () => {
        c.failNext = { n: 1, error: new Error("connection lost") };
        return true;
      },
      closing: () => false,
    });
    assert.equal(m.rows.length, 20);
    assert.equal(m.error?.message, "connection lost");
  });
});
