// The dashboard's per-table health, without Node-RED: the source registry stays bounded and forgets closed
// nodes; the upstream walk follows wires backwards a few hops, through cycles; the table state is the worst
// of its sources', with ages on the server's clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clearSourceHealth, publishSourceHealth, sourceHealth, sourceHealthCount } from "../../lib/health/source-health";
import { computeTableHealth, newestTimestamp } from "../../lib/health/table-health";
import { upstreamOfType } from "../../lib/health/upstream";

describe("health", () => {
  it("the source registry keeps at most 10,000 entries, dropping the longest unchanged, and forgets a closed node", () => {
    assert.equal(sourceHealthCount(), 0);
    for (let i = 0; i < 10_005; i++) publishSourceHealth({ id: `n${i}`, name: `n${i}`, type: "tdengine-poll", state: "connected" });
    assert.equal(sourceHealthCount(), 10_000);
    assert.equal(sourceHealth("n4"), undefined, "the oldest went first");
    assert.ok(sourceHealth("n5"));
    assert.ok(sourceHealth("n10004"));
    publishSourceHealth({ id: "n10004", name: "x", type: "tdengine-poll", state: "error", lastError: { message: "m".repeat(1000), at: 1 } });
    assert.equal(sourceHealth("n10004")?.lastError?.message.length, 300, "messages are capped");
    for (let i = 0; i < 10_005; i++) clearSourceHealth(`n${i}`);
    assert.equal(sourceHealthCount(), 0);
  });

  it("finds TDengine nodes upstream within the hop limit, through cycles, nearest first", () => {
    const nodes = [
      { id: "poll", type: "tdengine-poll", wires: [["f1"]] },
      { id: "f1", type: "function", wires: [["f2"], ["out"]] },
      { id: "f2", type: "function", wires: [["f1", "out"]] },
      { id: "write", type: "tdengine-write", wires: [["poll"]] },
      { id: "far", type: "tdengine-poll", wires: [["a"]] },
      { id: "a", type: "x", wires: [["b"]] },
      { id: "b", type: "x", wires: [["c"]] },
      { id: "c", type: "x", wires: [["d"]] },
      { id: "d", type: "x", wires: [["out"]] },
      { id: "out", type: "perspective-out" },
    ];
    const types = new Set(["tdengine-poll", "tdengine-write"]);
    assert.deepEqual(upstreamOfType(nodes, "out", types), ["poll", "write"]);
    assert.deepEqual(upstreamOfType(nodes, "out", types, 5), ["poll", "write", "far"]);
  });

  it("the table state is the worst source state, with ages at the time of the answer", () => {
    const now = 1_000_000;
    assert.deepEqual(computeTableHealth({ sources: [] }, now), { state: "unknown" });
    assert.deepEqual(computeTableHealth({ sources: [], lastRowsAt: now - 10 }, now), { state: "ok", lastRowsAgeMs: 10 });
    const h = computeTableHealth(
      {
        sources: [
          { id: "w", name: "write", type: "tdengine-write", state: "connecting" },
          { id: "p", name: "poll", type: "tdengine-poll", state: "disconnected", lastError: { message: "ECONNREFUSED", at: now - 3000 } },
        ],
        newestRowMs: now - 60_000,
        lastRowsAt: now - 5000,
      },
      now,
    );
    assert.equal(h.state, "error");
    assert.equal(h.summary, "poll: disconnected (ECONNREFUSED)");
    assert.deepEqual(h.sources?.[1].lastError, { message: "ECONNREFUSED", ageMs: 3000 });
    assert.equal(h.newestRowAgeMs, 60_000);
    assert.equal(h.lastRowsAgeMs, 5000);
    assert.equal(computeTableHealth({ sources: [{ id: "w", name: "write", type: "tdengine-write", state: "connecting" }] }, now).state, "warn");
    assert.equal(newestTimestamp([{ ts: [5, 9, 7] }, { ts: [8], v: [100] }, { v: [1] }], "ts"), 9);
    assert.equal(newestTimestamp([{ ts: [5] }], undefined), undefined);
  });
});
