// The streaming read API against a scripted adapter that records every frame: back-pressure (no fetch before the
// consumer took the previous block), free_result on early break, consumer error, row cap, overall deadline and
// abort, and none after the server said finished.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { openClient, TdengineError, type TdengineClientApi } from "../../lib/tdengine/index.js";
import { resultServer, type ResultServer } from "../support/scripted-results.js";
import { BLOCK_TEN_ROWS } from "../support/tdengine-blocks.js";
import { waitFor } from "../support/wait.js";

let server: ResultServer | undefined;
let client: TdengineClientApi | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const FIVE = [BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS, BLOCK_TEN_ROWS];

/** Sends a JSON request and waits for its reply: every frame the client sent before it has reached the server. */
async function flushed(c: TdengineClientApi): Promise<void> {
  await c.schemalessInsert("marker v=1");
}

async function setup(opts: Parameters<typeof resultServer>[0], timeoutMs = 5000): Promise<{ s: ResultServer; c: TdengineClientApi }> {
  server = await resultServer(opts);
  client = await openClient({ url: server.url, timeoutMs });
  return { s: server, c: client };
}

describe("query streams against a scripted adapter", () => {
  it("requests the next block only when the consumer has taken the previous one", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    const stream = await c.queryStream("select v from t");
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    assert.equal(first.value.rows.length, 10);
    await flushed(c);
    assert.equal(s.fetches(), 1, "no fetch ahead of the consumer");
    await it.next();
    await flushed(c);
    assert.equal(s.fetches(), 2);
    let n = 2;
    for (let r = await it.next(); !r.done; r = await it.next()) n++;
    assert.equal(n, 5);
    assert.equal(s.fetches(), 6, "five blocks and the finished reply");
    await flushed(c);
    assert.deepEqual(s.frees(), [], "no free_result once the server said finished");
  });

  it("breaking out of the loop frees the result and fetches nothing more", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    const stream = await c.queryStream("select v from t");
    let blocks = 0;
    for await (const block of stream) {
      blocks += block.index + 1;
      break;
    }
    assert.equal(blocks, 1);
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
    assert.equal(s.fetches(), 1);
  });

  it("an early return from the rows helper frees the result", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    const stream = await c.queryStream("select v from t");
    const seen: unknown[] = [];
    for await (const row of stream.rows()) {
      seen.push(row[0]);
      if (seen.length === 12) break;
    }
    assert.deepEqual(seen, [null, 1, 2, 3, 4, 5, 6, 7, 8, null, null, 1]);
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
    assert.equal(s.fetches(), 2);
  });

  it("an error thrown by the consumer frees the result", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    const stream = await c.queryStream("select v from t");
    await assert.rejects(async () => {
      for await (const _ of stream) throw new Error("consumer failed");
    }, /consumer failed/);
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
  });

  it("query() with a row cap fails clearly once the cap is passed and frees the result", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    await assert.rejects(c.query("select v from t", { maxRows: 15 }), (e: unknown) => e instanceof TdengineError && e.kind === "invalid" && /more than 15 rows/.test(e.message));
    await flushed(c);
    assert.equal(s.fetches(), 2, "stopped at the block that passed the cap");
    assert.deepEqual(s.frees(), [7]);
    const all = await c.query("select v from t", { maxRows: 50 });
    assert.equal(all.rows.length, 50, "a result of exactly the cap is fine");
  });

  it("query() against a server that never says finished stops at the overall deadline and frees the result", async () => {
    const { s, c } = await setup({ blocks: [BLOCK_TEN_ROWS], endless: true });
    const t0 = Date.now();
    await assert.rejects(c.query("select v from t", { deadlineMs: 300 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout" && /deadline of 300 ms/.test(e.message));
    assert.ok(Date.now() - t0 < 4000, "the deadline, not the 5 s request timeout, ended it");
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
    assert.ok(s.fetches() > 1);
  });

  it("a fetch that never comes back is cut at the deadline, not the per-request timeout", async () => {
    const { s, c } = await setup({ blocks: FIVE, hold: true }, 20_000);
    const t0 = Date.now();
    await assert.rejects(c.query("select v from t", { deadlineMs: 300 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout" && /deadline/.test(e.message));
    assert.ok(Date.now() - t0 < 10_000);
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
  });

  it("aborting while a fetch is pending ends the stream at once with kind closed and frees the result", async () => {
    const { s, c } = await setup({ blocks: FIVE, hold: true });
    const ac = new AbortController();
    const stream = await c.queryStream("select v from t", { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    const pending = it.next();
    await waitFor("the fetch at the server", () => s.fetches() === 1);
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof TdengineError && e.kind === "closed" && /cancelled/.test(e.message));
    await flushed(c);
    assert.deepEqual(s.frees(), [7]);
    assert.deepEqual(await it.next(), { done: true, value: undefined }, "the stream stays ended");
    s.release(); // the late block reply is ignored
    await flushed(c);
    assert.equal(s.fetches(), 1);
  });

  it("a signal aborted before the call sends nothing", async () => {
    const { s, c } = await setup({ blocks: FIVE });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(c.queryStream("select v from t", { signal: ac.signal }), (e: unknown) => e instanceof TdengineError && e.kind === "closed");
    await flushed(c);
    assert.equal(s.queries(), 0);
  });

  it("aborting while the query is pending frees the result its late reply created", async () => {
    const { s, c } = await setup({ blocks: FIVE, holdQuery: true });
    const ac = new AbortController();
    const pending = c.queryStream("select v from t", { signal: ac.signal });
    await waitFor("the query at the server", () => s.queries() === 1);
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof TdengineError && e.kind === "closed" && /cancelled/.test(e.message));
    s.release();
    await waitFor("free_result of the late result", () => s.frees().length === 1);
    assert.deepEqual(s.frees(), [7]);
    assert.equal(s.fetches(), 0);
  });
});
