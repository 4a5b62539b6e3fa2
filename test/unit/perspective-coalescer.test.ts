// Update coalescing: an operation that finds the engine idle goes at once; operations queued while a flush is
// applied or within one interval reach the table as few calls, in order, and each message's callback reports its
// own outcome.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keepNewest, UpdateCoalescer, type TableSink } from "../../lib/perspective/coalescer";
import { waitFor } from "../support/wait";

function recordingSink(failOn?: string): { sink: TableSink; calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const op = (name: string) => async (arg?: unknown) => {
    calls.push([name, arg]);
    if (name === failOn) throw new Error(`${name} failed`);
  };
  return { calls, sink: { update: op("update"), replace: op("replace"), clear: op("clear"), remove: op("remove") } };
}

function collect(): { cb: (err?: Error) => void; results: (string | undefined)[] } {
  const results: (string | undefined)[] = [];
  return { results, cb: (err) => results.push(err?.message) };
}

describe("UpdateCoalescer", () => {
  it("merges consecutive updates with the same columns into one table.update", async () => {
    const { sink, calls } = recordingSink();
    let flushedRows = 0;
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 1000, onFlushed: (n) => (flushedRows += n) });
    const { cb, results } = collect();
    for (let i = 0; i < 100; i++) c.push({ kind: "update", chunks: [{ a: [i] }], rows: 1 }, cb);
    // The first finds the engine idle and goes at once; the 99 that come while it is applied wait together.
    assert.equal(c.pendingRows, 99);
    await c.flush();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0], ["update", { a: [0] }]);
    assert.deepEqual(calls[1], ["update", { a: Array.from({ length: 99 }, (_, i) => i + 1) }]);
    assert.equal(results.length, 100);
    assert.ok(results.every((r) => r === undefined));
    assert.equal(flushedRows, 100);
    assert.equal(c.pendingRows, 0);
  });

  it("for a table with a row limit, sends only the newest `limit` rows of a flush, and acknowledges every message", async () => {
    const { sink, calls } = recordingSink();
    let flushedRows = 0;
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 1000, limit: 3, onFlushed: (n) => (flushedRows += n) });
    const { cb, results } = collect();
    c.push({ kind: "update", chunks: [{ a: [0, 1, 2, 3, 4] }], rows: 5 }, cb);
    c.push({ kind: "update", chunks: [{ a: [5] }], rows: 1 }, cb);
    c.push({ kind: "update", chunks: [{ a: [6] }, { b: ["x"] }], rows: 2 }, cb);
    c.push({ kind: "update", chunks: [{ a: [8] }], rows: 1 }, cb);
    await c.flush();
    // The first goes alone (engine idle) and is cut to its newest 3; the next three are merged, then cut.
    assert.deepEqual(calls, [
      ["update", { a: [2, 3, 4] }],
      ["update", { a: [6] }],
      ["update", { b: ["x"] }],
      ["update", { a: [8] }],
    ]);
    assert.deepEqual(results, [undefined, undefined, undefined, undefined]);
    assert.equal(flushedRows, 9, "rows accepted count every row sent, not only the ones kept");
  });

  it("a replace of more rows than the limit replaces with its newest rows", async () => {
    const { sink, calls } = recordingSink();
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 0, limit: 2 });
    const { cb, results } = collect();
    c.push({ kind: "replace", chunks: [{ a: [1, 2] }, { a: [3, 4, 5] }], rows: 5 }, cb);
    await c.flush();
    assert.deepEqual(calls, [["replace", { a: [4, 5] }]]);
    assert.deepEqual(results, [undefined]);
  });

  it("keepNewest drops whole older chunks and slices the boundary one", () => {
    assert.deepEqual(keepNewest([{ a: [1, 2] }, { b: [3, 4, 5] }, { a: [6] }], 3), [{ b: [4, 5] }, { a: [6] }]);
    assert.deepEqual(keepNewest([{ a: [1, 2], c: [9, 8] }], 5), [{ a: [1, 2], c: [9, 8] }]);
    assert.deepEqual(keepNewest([{ a: [1, 2], c: [9, 8] }], 1), [{ a: [2], c: [8] }]);
  });

  it("applies an operation that finds the engine idle at once, without waiting for the interval", async () => {
    const { sink, calls } = recordingSink();
    // An interval far longer than the test: only an immediate flush makes the row arrive.
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 60_000 });
    const { cb, results } = collect();
    c.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, cb);
    await waitFor("the row applied", () => results.length === 1);
    assert.deepEqual(calls, [["update", { a: [1] }]]);
    await c.close();
  });

  it("under load, merges what comes while the engine applies a flush, and above the rate what comes within the interval", async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const calls: unknown[][] = [];
    const sink: TableSink = {
      update: async (d) => {
        calls.push(d.a);
        await gate;
      },
      replace: async () => undefined,
      clear: async () => undefined,
      remove: async () => undefined,
    };
    const busy = new UpdateCoalescer(async () => sink, { intervalMs: 0 });
    const { cb, results } = collect();
    busy.push({ kind: "update", chunks: [{ a: [0] }], rows: 1 }, cb);
    await waitFor("the first flush being applied", () => calls.length === 1);
    for (let i = 1; i <= 50; i++) busy.push({ kind: "update", chunks: [{ a: [i] }], rows: 1 }, cb);
    gate = Promise.resolve();
    release();
    await waitFor("all applied", () => results.length === 51);
    assert.deepEqual(calls, [[0], Array.from({ length: 50 }, (_, i) => i + 1)], "the 50 that came while busy: one update");

    calls.length = 0;
    const limited = new UpdateCoalescer(async () => sink, { intervalMs: 60_000 });
    const done = collect();
    limited.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, done.cb);
    await waitFor("the first applied", () => done.results.length === 1);
    limited.push({ kind: "update", chunks: [{ a: [2] }], rows: 1 }, done.cb);
    limited.push({ kind: "update", chunks: [{ a: [3] }], rows: 1 }, done.cb);
    await new Promise((r) => setImmediate(r));
    assert.equal(limited.pendingRows, 2, "within the interval of the last flush: held back");
    await limited.close();
    assert.deepEqual(calls, [[1], [2, 3]]);
  });

  it("keeps the order of clear, replace and remove between updates", async () => {
    const { sink, calls } = recordingSink();
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 1000 });
    const { cb } = collect();
    c.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, cb);
    c.push({ kind: "update", chunks: [{ a: [2], b: [3] }], rows: 1 }, cb);
    c.push({ kind: "clear" }, cb);
    c.push({ kind: "update", chunks: [{ a: [4] }], rows: 1 }, cb);
    c.push({ kind: "remove", keys: ["k"] }, cb);
    c.push({ kind: "replace", chunks: [{ a: [5] }, { b: [6] }], rows: 2 }, cb);
    c.push({ kind: "replace", chunks: [], rows: 0 }, cb);
    await c.flush();
    assert.deepEqual(calls, [
      ["update", { a: [1] }],
      ["update", { a: [2], b: [3] }],
      ["clear", undefined],
      ["update", { a: [4] }],
      ["remove", ["k"]],
      ["replace", { a: [5] }],
      ["update", { b: [6] }],
      ["clear", undefined],
    ]);
  });

  it("reports a failure to the operations it concerns only", async () => {
    const { sink } = recordingSink("remove");
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 1000 });
    const { cb, results } = collect();
    c.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, cb);
    c.push({ kind: "remove", keys: [1] }, cb);
    c.push({ kind: "update", chunks: [{ a: [2] }], rows: 1 }, cb);
    await c.flush();
    assert.deepEqual(results, [undefined, "remove failed", undefined]);
  });

  it("flushes by itself after the interval, and close() writes what is queued and refuses more", async () => {
    const { sink, calls } = recordingSink();
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 0 });
    await new Promise<void>((resolve) => c.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, () => resolve()));
    assert.equal(calls.length, 1);
    const slow = new UpdateCoalescer(async () => sink, { intervalMs: 60000 });
    const { cb, results } = collect();
    slow.push({ kind: "update", chunks: [{ a: [2] }], rows: 1 }, cb);
    await slow.close();
    assert.deepEqual(results, [undefined]);
    slow.push({ kind: "clear" }, cb);
    assert.deepEqual(results, [undefined, "the node is closing"]);
  });

  it("refuses a message's rows with an error once too many wait for a slow engine, and accepts again when it catches up", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const written: number[] = [];
    const sink: TableSink = {
      update: async (d) => {
        await gate;
        written.push(...(d.a as number[]));
      },
      replace: async () => undefined,
      clear: async () => undefined,
      remove: async () => undefined,
    };
    const c = new UpdateCoalescer(async () => sink, { intervalMs: 0, maxPendingRows: 10 });
    const { cb, results } = collect();
    c.push({ kind: "update", chunks: [{ a: [0] }], rows: 1 }, cb);
    const first = c.flush(); // the engine is now busy with row 0
    for (let i = 1; i <= 12; i++) c.push({ kind: "update", chunks: [{ a: [i] }], rows: 1 }, cb);
    assert.equal(c.pendingRows, 10, "no more than the bound waits");
    release();
    await first;
    await c.flush();
    assert.deepEqual(written, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(results.filter((r) => r === undefined).length, 11);
    const refused = results.filter((r) => r !== undefined);
    assert.equal(refused.length, 2);
    assert.match(refused[0]!, /the Perspective engine is behind: 10 rows are waiting to be written \(limit 10\); these 1 rows were not written/);
    c.push({ kind: "update", chunks: [{ a: [13] }], rows: 1 }, cb);
    await c.flush();
    assert.deepEqual(written.slice(-1), [13], "accepted again once the queue drained");
  });

  it("fails every queued operation when there is no table to write to", async () => {
    const c = new UpdateCoalescer(async () => Promise.reject(new Error("no table yet")), { intervalMs: 1000 });
    const { cb, results } = collect();
    c.push({ kind: "clear" }, cb);
    c.push({ kind: "update", chunks: [{ a: [1] }], rows: 1 }, cb);
    await c.flush();
    assert.deepEqual(results, ["no table yet", "no table yet"]);
  });
});
