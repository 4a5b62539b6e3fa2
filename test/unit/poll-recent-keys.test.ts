// The bounded memory of emitted keys behind boundary and lookback de-duplication.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentKeys } from "../../lib/poll/recent-keys";

describe("poll: recent keys", () => {
  it("remembers keys per timestamp, also when a late timestamp arrives out of order", () => {
    const k = new RecentKeys(100);
    k.add(10n, "a");
    k.add(10n, "b");
    k.add(30n, "a");
    k.add(20n, "c"); // late
    k.add(10n, "a"); // repeat: no growth
    assert.equal(k.size, 4);
    assert.ok(k.has(10n, "b") && k.has(20n, "c") && k.has(30n, "a"));
    assert.ok(!k.has(20n, "a"));
    assert.equal(k.newest, 30n);
    k.pruneBelow(20n);
    assert.ok(!k.has(10n, "a") && k.has(20n, "c"));
    assert.equal(k.size, 2);
    assert.deepEqual(k.keysAt(30n), ["a"]);
  });

  it("evicts whole oldest groups over the bound, never the newest group, and says up to where", () => {
    const k = new RecentKeys(3);
    for (const ts of [1n, 2n, 3n]) for (const t of ["x", "y"]) k.add(ts, t);
    assert.equal(k.enforceBound(), 2n);
    assert.equal(k.size, 2);
    assert.ok(k.has(3n, "x") && !k.has(2n, "x"));
    // A single group bigger than the bound stays: it is what makes `ts >= watermark` safe.
    for (let i = 0; i < 10; i++) k.add(4n, `t${i}`);
    assert.equal(k.enforceBound(), 3n);
    assert.equal(k.size, 10);
    assert.equal(k.enforceBound(), undefined);
  });

  it("stays correct across many prunes (internal compaction)", () => {
    const k = new RecentKeys(1_000_000);
    for (let i = 0; i < 5000; i++) k.add(BigInt(i), "t");
    for (let f = 0; f <= 4000; f += 7) k.pruneBelow(BigInt(f));
    assert.equal(k.size, 5000 - 3997);
    assert.ok(k.has(3997n, "t") && !k.has(3996n, "t"));
    k.add(3998n, "u");
    assert.ok(k.has(3998n, "u"));
  });
});
