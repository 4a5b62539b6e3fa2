// The overall deadline of a query: requests get what is left of it, and a request that times out on that rest is
// reported as the deadline (the error users match on), even when its timer fires before Date.now() reaches it.
import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import { TdengineError } from "../../lib/tdengine/errors.js";
import { StopConditions } from "../../lib/tdengine/result-stream.js";

const requestTimeout = (ms: number): TdengineError => new TdengineError("timeout", `fetch_raw_block timed out after ${ms} ms`);

afterEach(() => mock.timers.reset());

describe("StopConditions", () => {
  it("cuts each request's timeout to what is left of the deadline", () => {
    mock.timers.enable({ apis: ["Date"], now: 10_000 });
    const stop = new StopConditions({ deadlineMs: 300 }, 5000);
    assert.equal(stop.timeout(), 300);
    mock.timers.tick(299);
    assert.equal(stop.timeout(), 1);
    mock.timers.tick(1);
    assert.throws(() => stop.timeout(), /deadline of 300 ms/);
  });

  it("a request that timed out on the rest of the deadline is the deadline, even a millisecond before the clock gets there", () => {
    mock.timers.enable({ apis: ["Date"], now: 10_000 });
    const stop = new StopConditions({ deadlineMs: 300 }, 5000);
    mock.timers.tick(299);
    const ms = stop.timeout();
    // The request's 1 ms timer fired on the monotonic clock; the wall clock still reads 1 ms before the deadline.
    const err = stop.explain(requestTimeout(ms));
    assert.ok(err instanceof TdengineError);
    assert.equal(err.kind, "timeout");
    assert.match(err.message, /query exceeded its deadline of 300 ms/);
  });

  it("a request that timed out on its own shorter timeout keeps its own error", () => {
    mock.timers.enable({ apis: ["Date"], now: 10_000 });
    const stop = new StopConditions({ deadlineMs: 60_000, timeoutMs: 50 }, 5000);
    const ms = stop.timeout();
    assert.equal(ms, 50);
    mock.timers.tick(50);
    const original = requestTimeout(ms);
    assert.equal(stop.explain(original), original);
  });

  it("without a deadline, errors pass through unchanged", () => {
    const stop = new StopConditions(undefined, 5000);
    assert.equal(stop.timeout(), 5000);
    const original = requestTimeout(5000);
    assert.equal(stop.explain(original), original);
  });
});
