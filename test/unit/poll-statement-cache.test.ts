// The poller's prepared-statement cache: one prepare per (connection, SQL), reused while it works; closed on
// failure, eviction and close(); forgotten (never reused, never closed on the new socket) when the client
// is replaced or its socket closes.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { StatementCache } from "../../lib/poll/statement-cache";
import type { Stmt2, TdengineClientApi } from "../../lib/tdengine/api";

class FakeStmt {
  closes = 0;
  constructor(
    readonly id: number,
    readonly sql: string,
  ) {}
  close(): Promise<void> {
    this.closes++;
    return Promise.resolve();
  }
}

/** Just enough client for the cache: identity, `closed` and the "close" event. */
class FakeClient extends EventEmitter {
  closed = false;
  readonly prepared: FakeStmt[] = [];
  private next = 1;
  prepare(sql: string): () => Promise<Stmt2> {
    return () => {
      const s = new FakeStmt(this.next++, sql);
      this.prepared.push(s);
      return Promise.resolve(s as unknown as Stmt2);
    };
  }
  die(): void {
    this.closed = true;
    this.emit("close", new Error("socket closed"));
  }
}

const api = (c: FakeClient): TdengineClientApi => c as unknown as TdengineClientApi;

async function use(cache: StatementCache, c: FakeClient, sql: string, ok = true): Promise<FakeStmt> {
  const s = await cache.acquire(api(c), sql, c.prepare(sql));
  cache.release(s, ok);
  return s as unknown as FakeStmt;
}

describe("poll: statement cache", () => {
  it("prepares once per SQL and reuses the statement on later calls", async () => {
    const cache = new StatementCache();
    const c = new FakeClient();
    const a = await use(cache, c, "A");
    for (let i = 0; i < 5; i++) assert.equal(await use(cache, c, "A"), a);
    const b = await use(cache, c, "B");
    assert.notEqual(b, a);
    assert.equal(await use(cache, c, "B"), b);
    assert.equal(c.prepared.length, 2);
    assert.equal(a.closes + b.closes, 0);
    assert.equal(cache.size, 2);
  });

  it("closes a statement that failed and prepares a new one next time", async () => {
    const cache = new StatementCache();
    const c = new FakeClient();
    const a = await use(cache, c, "A", false);
    assert.equal(a.closes, 1);
    assert.equal(cache.size, 0);
    const a2 = await use(cache, c, "A");
    assert.notEqual(a2, a);
    assert.equal(c.prepared.length, 2);
  });

  it("a replaced client: its statements are closed on it if still open and never handed out for the new one", async () => {
    const cache = new StatementCache();
    const old = new FakeClient();
    const a = await use(cache, old, "A");
    const fresh = new FakeClient();
    const a2 = await use(cache, fresh, "A");
    assert.notEqual(a2, a);
    assert.equal(a.closes, 1, "closed on the still-open old connection");
    assert.equal(fresh.prepared.length, 1);
    assert.equal(old.listenerCount("close"), 0, "no listener left on the old client");
  });

  it("a closed socket: its statement ids are forgotten without a stmt2_close, the next use prepares again", async () => {
    const cache = new StatementCache();
    const c = new FakeClient();
    const a = await use(cache, c, "A");
    c.die();
    assert.equal(cache.size, 0);
    assert.equal(a.closes, 0);
    const fresh = new FakeClient();
    const a2 = await use(cache, fresh, "A");
    assert.notEqual(a2, a);
    assert.equal(a.closes, 0, "nothing sent for an id of the dead socket");
  });

  it("the same SQL while its statement is in use gets a one-off statement, closed after use", async () => {
    const cache = new StatementCache();
    const c = new FakeClient();
    const first = await cache.acquire(api(c), "A", c.prepare("A"));
    const second = await cache.acquire(api(c), "A", c.prepare("A"));
    assert.notEqual(second, first);
    cache.release(second, true);
    assert.equal((second as unknown as FakeStmt).closes, 1);
    cache.release(first, true);
    assert.equal((first as unknown as FakeStmt).closes, 0);
    assert.equal(await use(cache, c, "A"), first as unknown as FakeStmt);
  });

  it("keeps at most the configured number of statements, closing the least recently used", async () => {
    const cache = new StatementCache(2);
    const c = new FakeClient();
    const a = await use(cache, c, "A");
    const b = await use(cache, c, "B");
    await use(cache, c, "A"); // B is now the least recently used
    await use(cache, c, "C");
    assert.equal(b.closes, 1);
    assert.equal(a.closes, 0);
    assert.equal(cache.size, 2);
  });

  it("close() closes idle statements now and the one in use when it is released; nothing is kept after", async () => {
    const cache = new StatementCache();
    const c = new FakeClient();
    const a = await use(cache, c, "A");
    const busy = await cache.acquire(api(c), "B", c.prepare("B"));
    await cache.close();
    assert.equal(a.closes, 1);
    assert.equal((busy as unknown as FakeStmt).closes, 0);
    cache.release(busy, true);
    assert.equal((busy as unknown as FakeStmt).closes, 1);
    assert.equal(c.listenerCount("close"), 0);
    const late = await use(cache, c, "A");
    assert.equal(late.closes, 1, "a statement prepared after close() is not kept");
    assert.equal(cache.size, 0);
  });
});
