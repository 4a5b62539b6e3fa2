// Refusals of a full write buffer: the first of an episode is reported alone, the repeats are summarised
// every interval (not per message), and what is left is reported when the episode ends.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RefusalTracker } from "../../lib/write";

describe("RefusalTracker", () => {
  it("reports the first refusal, then one summary per interval, then the rest at the end", () => {
    let now = 1000;
    const t = new RefusalTracker(30000, () => now);
    assert.equal(t.refuse(250), true, "the first refusal is reported on its own");
    assert.equal(t.refusingSince, 1000);
    for (let i = 0; i < 119; i++) {
      now += 250;
      assert.equal(t.refuse(250), false);
      if (now - 1000 < 30000) assert.equal(t.due(), undefined, "no summary before the interval");
    }
    now = 31000;
    assert.deepEqual(t.due(), { messages: 119, rows: 119 * 250, since: 1250 });
    assert.equal(t.due(), undefined, "counting restarts after a summary");
    now += 1000;
    t.refuse(100);
    t.refuse(100);
    assert.equal(t.due(), undefined, "the next summary waits for the next interval");
    assert.deepEqual(t.end(), { messages: 2, rows: 200, since: 32000 });
    assert.equal(t.refusingSince, undefined);
    assert.equal(t.end(), undefined);
    assert.equal(t.refuse(10), true, "a new episode starts with a reported refusal");
  });
});
