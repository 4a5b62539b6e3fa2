// The shared connection: opened by the first user, closed by the last, reconnected with backoff, one event
// per state change (not per retry), getClient waits for a connection or fails with a transport error.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type { TdengineClientApi } from "../../lib/tdengine/api";
import { TdengineError } from "../../lib/tdengine/errors";
import { backoffDelay, displayUrl, redactSecrets, SharedConnection, type ConnectionStatus } from "../../lib/tdengine-connection";
import { waitFor } from "../support/wait";

class StubClient extends EventEmitter {
  closed = false;
  readonly serverVersion = "3.3.6.0";
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit("close");
  }
  drop(): void {
    this.closed = true;
    this.emit("close", new Error("socket dropped"));
  }
}

function opener(failures: number): { open: () => Promise<TdengineClientApi>; opened: StubClient[]; attempts: () => number } {
  const opened: StubClient[] = [];
  let n = 0;
  return {
    opened,
    attempts: () => n,
    open: async () => {
      n++;
      if (n <= failures) throw new Error(`refused #${n}`);
      const c = new StubClient();
      opened.push(c);
      return c as unknown as TdengineClientApi;
    },
  };
}

describe("backoffDelay", () => {
  it("grows exponentially up to the cap and keeps jitter within its fraction", () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    assert.equal(backoffDelay(0, o, () => 1), 100);
    assert.equal(backoffDelay(0, o, () => 0), 50);
    assert.equal(backoffDelay(3, o, () => 1), 800);
    assert.equal(backoffDelay(10, o, () => 1), 1000);
    assert.equal(backoffDelay(10, o, () => 0), 500);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(2, o)));
    assert.ok(spread.size > 5, "random jitter spreads retries");
    for (const d of spread) assert.ok(d >= 200 && d <= 400);
  });
});

describe("SharedConnection", () => {
  it("opens on the first acquire, shares one client, closes on the last release", async () => {
    const o = opener(0);
    const conn = new SharedConnection({ open: o.open });
    assert.equal(conn.status.state, "closed");
    conn.acquire("a");
    conn.acquire("b");
    const c1 = await conn.getClient(1000);
    const c2 = await conn.getClient(1000);
    assert.equal(c1, c2);
    assert.equal(o.attempts(), 1);
    await conn.release("a");
    assert.equal(conn.status.state, "connected");
    await conn.release("b");
    assert.equal(conn.status.state, "closed");
    assert.equal(o.opened[0].closed, true);
    await assert.rejects(conn.getClient(10), (e: TdengineError) => e instanceof TdengineError && e.kind === "closed" && e.retryable);
  });

  it("retries with backoff and reports one state change per transition, not per retry", async () => {
    const o = opener(5);
    const conn = new SharedConnection({ open: o.open, backoff: { initialMs: 1, maxMs: 5 } });
    const seen: ConnectionStatus[] = [];
    conn.onState((s) => seen.push(s));
    conn.acquire("a");
    await conn.getClient(5000);
    assert.equal(o.attempts(), 6);
    assert.deepEqual(seen.map((s) => s.state), ["connecting", "disconnected", "connected"]);
    assert.match(seen[1].error?.message ?? "", /refused #1/);
    // A drop reconnects by itself.
    o.opened[0].drop();
    await waitFor("reconnected", () => conn.status.state === "connected" && o.opened.length === 2);
    assert.deepEqual(seen.map((s) => s.state), ["connecting", "disconnected", "connected", "disconnected", "connected"]);
    await conn.release("a");
  });

  it("getClient waits for a late connection and times out with a transport error naming the last failure", async () => {
    const o = opener(1_000_000);
    const conn = new SharedConnection({ open: o.open, backoff: { initialMs: 1, maxMs: 2 } });
    conn.acquire("a");
    await assert.rejects(conn.getClient(50), (e: TdengineError) => {
      assert.ok(e instanceof TdengineError);
      assert.equal(e.kind, "timeout");
      assert.equal(e.retryable, true);
      assert.match(e.message, /refused/);
      return true;
    });
    await conn.release("a");
    const attemptsAtClose = o.attempts();
    // No retry timer survives the close.
    await new Promise((r) => setImmediate(r));
    assert.ok(o.attempts() <= attemptsAtClose + 1);
  });

  it("closes a client whose open was still in flight when the last user left", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const made: StubClient[] = [];
    let started = false;
    const conn = new SharedConnection({
      open: async () => {
        started = true;
        await gate;
        const c = new StubClient();
        made.push(c);
        return c as unknown as TdengineClientApi;
      },
    });
    conn.acquire("a");
    await waitFor("open in flight", () => started);
    const closing = conn.release("a");
    release();
    await closing;
    assert.equal(made.length, 1);
    assert.equal(made[0].closed, true);
  });

  it("whenUnused resolves when the last user leaves", async () => {
    const conn = new SharedConnection({ open: opener(0).open });
    conn.acquire("a");
    let done = false;
    const p = conn.whenUnused(10000).then(() => (done = true));
    await conn.getClient(1000);
    assert.equal(done, false);
    await conn.release("a");
    await p;
    assert.equal(done, true);
  });
});

describe("keeping secrets out of text", () => {
  it("redacts every occurrence of each secret and shows URLs without user info or query", () => {
    assert.equal(redactSecrets("auth failed for s3cret (s3cret)", ["s3cret", undefined, ""]), "auth failed for *** (***)");
    assert.equal(displayUrl("wss://user:pw@cloud.example:6041/ws?token=abc"), "wss://cloud.example:6041/ws");
    assert.equal(displayUrl("ws://127.0.0.1:6041"), "ws://127.0.0.1:6041");
    assert.equal(displayUrl("not a url"), "(invalid URL)");
  });
});
