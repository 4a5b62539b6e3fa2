// Two polls read back to back go out as one message: rows in order, the later poll's state, counts summed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergePollResults, type PollResult } from "../../lib/poll";

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
