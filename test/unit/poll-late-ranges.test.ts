// Locating late rows in the lookback window by counting halves (lib/poll/late-ranges.ts): the ranges found must
// hold every late row, be small enough to read cheaply, and cost a bounded number of COUNT queries.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findLateRanges, type LateRangeProbe } from "../../lib/poll/late-ranges";

/** A window of one emitted row per timestamp in [lo, hi], plus rows the database has that were not emitted. */
function probeOf(lo: bigint, hi: bigint, late: bigint[]): LateRangeProbe & { counted: number } {
  const inRange = (a: bigint, b: bigint): bigint => (b < a ? 0n : (b < hi ? b : hi) - (a > lo ? a : lo) + 1n);
  const p = {
    counted: 0,
    async count(a: bigint, b: bigint): Promise<number> {
      p.counted++;
      return Number(inRange(a, b)) + late.filter((t) => t >= a && t <= b).length;
    },
    emitted: (a: bigint, b: bigint): number => Math.max(0, Number(inRange(a, b))),
  };
  return p;
}

const covers = (ranges: [bigint, bigint][], t: bigint): boolean => ranges.some(([a, b]) => t >= a && t <= b);

describe("poll: late ranges", () => {
  it("nothing late: one COUNT, no range", async () => {
    const p = probeOf(0n, 49_999n, []);
    const r = await findLateRanges(p, 0n, 49_999n, { readRows: 1000, maxCounts: 24 });
    assert.deepEqual(r.ranges, []);
    assert.equal(p.counted, 1);
  });

  it("one late row in a 50,000-row window: a range of at most 1,000 rows around it, about ten COUNTs", async () => {
    const p = probeOf(0n, 49_999n, [31_337n]);
    const r = await findLateRanges(p, 0n, 49_999n, { readRows: 1000, maxCounts: 24 });
    assert.equal(r.ranges.length, 1);
    assert.ok(covers(r.ranges, 31_337n), `the range holds the late row: ${String(r.ranges)}`);
    const [a, b] = r.ranges[0];
    assert.ok(b - a + 1n <= 1000n, `at most 1,000 rows to read, got ${b - a + 1n}`);
    assert.ok(r.counts <= 15, `${r.counts} COUNTs`);
    assert.equal(p.counted, r.counts);
  });

  it("late rows at both ends and in the middle: every one covered, ranges in time order", async () => {
    const late = [0n, 1n, 20_000n, 49_999n];
    const r = await findLateRanges(probeOf(0n, 49_999n, late), 0n, 49_999n, { readRows: 500, maxCounts: 64 });
    for (const t of late) assert.ok(covers(r.ranges, t), `late row ${t} covered by ${String(r.ranges)}`);
    for (let i = 1; i < r.ranges.length; i++) assert.ok(r.ranges[i][0] > r.ranges[i - 1][1], "sorted, not overlapping");
    const read = r.ranges.reduce((n, [a, b]) => n + Number(b - a + 1n), 0);
    assert.ok(read <= 3 * 500 + 500, `${read} rows to read for 4 late rows`);
  });

  it("out of COUNTs: what is unresolved is read whole, never left out", async () => {
    const late = [100n, 12_000n, 25_000n, 37_000n, 49_000n];
    const r = await findLateRanges(probeOf(0n, 49_999n, late), 0n, 49_999n, { readRows: 10, maxCounts: 5 });
    assert.ok(r.counts <= 5);
    for (const t of late) assert.ok(covers(r.ranges, t), `late row ${t} covered by ${String(r.ranges)}`);
  });

  it("fewer rows than emitted (a deletion) is a difference too: the range is read", async () => {
    const p = probeOf(0n, 9_999n, []);
    const base = p.count.bind(p);
    p.count = async (a, b) => (await base(a, b)) - (a <= 5_000n && b >= 5_000n ? 1 : 0);
    const r = await findLateRanges(p, 0n, 9_999n, { readRows: 100, maxCounts: 24 });
    assert.ok(covers(r.ranges, 5_000n));
  });
});
