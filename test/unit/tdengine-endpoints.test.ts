// Several taosAdapter endpoints: parsing the URL field (lists, DSN host lists, refused passwords) and the shared
// connection's rotation (next endpoint at once after a loss, backoff only after a whole round failed, spreading).
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type { TdengineClientApi } from "../../lib/tdengine/api";
import { parseEndpoints, SharedConnection, spreadIndex, type ConnectionStatus } from "../../lib/tdengine-connection";
import { waitFor } from "../support/wait";

describe("parseEndpoints", () => {
  it("takes one URL as before", () => {
    assert.deepEqual(parseEndpoints("ws://127.0.0.1:6041"), { urls: ["ws://127.0.0.1:6041"] });
  });

  it("takes a list, one per line or comma-separated, ws and wss mixed, duplicates once", () => {
    assert.deepEqual(parseEndpoints(" ws://a:6041\n wss://b\r\nws://c:6041/ws , ws://a:6041 ,").urls, ["ws://a:6041", "wss://b", "ws://c:6041/ws"]);
  });

  it("takes the official connector's DSN host list: bare hosts share scheme, user, path and query", () => {
    assert.deepEqual(parseEndpoints("ws://root@h1:6041,h2:6041,h3"), { urls: ["ws://h1:6041", "ws://h2:6041", "ws://h3"], user: "root" });
    assert.deepEqual(parseEndpoints("wss://h1:443,h2:443/ws?x=1").urls, ["wss://h1:443/ws?x=1", "wss://h2:443/ws?x=1"]);
  });

  it("refuses a password in the URL, saying where it belongs, without echoing it", () => {
    assert.throws(() => parseEndpoints("ws://root:s3cret@h1:6041,h2:6041"), (e: Error) => /Password field/.test(e.message) && !e.message.includes("s3cret"));
    assert.throws(() => parseEndpoints("ws://h1:6041,root:s3cret@h2:6041"), (e: Error) => /Password field/.test(e.message) && !e.message.includes("s3cret"));
  });

  it("refuses other schemes, a bare first host, an empty field and more than 32 endpoints", () => {
    assert.throws(() => parseEndpoints("http://h1:6041"), /ws:\/\/ or wss:\/\//);
    assert.throws(() => parseEndpoints("h1:6041,ws://h2"), /not a URL/);
    assert.throws(() => parseEndpoints(" \n , "), /no taosAdapter address/);
    assert.throws(() => parseEndpoints(Array.from({ length: 33 }, (_, i) => `ws://h${i}`).join(",")), /at most 32/);
  });

  it("spreadIndex is stable and spreads ids over the endpoints", () => {
    assert.equal(spreadIndex("abc", 3), spreadIndex("abc", 3));
    const seen = new Set(Array.from({ length: 60 }, (_, i) => spreadIndex(`node-${i}`, 3)));
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });
});

class StubClient extends EventEmitter {
  closed = false;
  constructor(readonly endpoint: string) {
    super();
  }
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

/** Endpoints that can be taken down and brought back; records every attempt. */
function cluster(names: string[]): { open: (ep: string) => Promise<TdengineClientApi>; up: Set<string>; attempts: string[]; clients: StubClient[] } {
  const up = new Set(names);
  const attempts: string[] = [];
  const clients: StubClient[] = [];
  return {
    up,
    attempts,
    clients,
    open: async (ep: string) => {
      attempts.push(ep);
      if (!up.has(ep)) throw new Error(`${ep} refused`);
      const c = new StubClient(ep);
      clients.push(c);
      return c as unknown as TdengineClientApi;
    },
  };
}

describe("SharedConnection over several endpoints", () => {
  it("connects to the first endpoint that answers and reports it and the ones down", async () => {
    const c = cluster(["a", "b", "c"]);
    c.up.delete("a");
    const conn = new SharedConnection({ endpoints: ["a", "b", "c"], open: c.open, backoff: { initialMs: 10000 } });
    conn.acquire("u");
    const client = (await conn.getClient(2000)) as unknown as StubClient;
    assert.equal(client.endpoint, "b");
    assert.deepEqual(c.attempts, ["a", "b"]);
    assert.equal(conn.status.endpoint, "b");
    assert.deepEqual(conn.status.down, ["a"]);
    assert.deepEqual(conn.endpointHealth.map((h) => [h.endpoint, h.inUse, Boolean(h.error)]), [["a", false, true], ["b", true, false], ["c", false, false]]);
    await conn.release("u");
  });

  it("on a loss moves to the next endpoint at once (no backoff wait), and on to the one after", async () => {
    const c = cluster(["a", "b", "c"]);
    // A backoff of 10 s: any wait for it would time the test out.
    const conn = new SharedConnection({ endpoints: ["a", "b", "c"], open: c.open, backoff: { initialMs: 10000, jitter: 0 } });
    const events: ConnectionStatus[] = [];
    conn.onState((s) => events.push(s));
    conn.acquire("u");
    const first = (await conn.getClient(2000)) as unknown as StubClient;
    assert.equal(first.endpoint, "a");
    c.up.delete("a");
    c.up.delete("b");
    first.drop();
    const next = (await conn.getClient(2000)) as unknown as StubClient;
    assert.equal(next.endpoint, "c", "b was down too, so c");
    assert.deepEqual(c.attempts, ["a", "b", "c"]);
    assert.deepEqual(
      events.map((e) => `${e.state}@${e.endpoint}`),
      ["connecting@a", "connected@a", "connecting@b", "connected@c"],
      "one event per change, not one per endpoint tried",
    );
    // A switch with endpoints left to try is a failover, not an outage: never "disconnected".
    assert.equal(events[2].failingOver, true);
    assert.equal(events[3].failingOver, undefined);
    assert.deepEqual(conn.status.down, ["a", "b"]);
    await conn.release("u");
  });

  it("backs off only after a whole round over the list failed, then starts a new round", async () => {
    const c = cluster(["a", "b", "c"]);
    const conn = new SharedConnection({ endpoints: ["a", "b", "c"], open: c.open, backoff: { initialMs: 300, jitter: 0 } });
    const events: ConnectionStatus[] = [];
    conn.onState((s) => events.push(s));
    conn.acquire("u");
    const first = (await conn.getClient(2000)) as unknown as StubClient;
    c.up.clear();
    const lostAt = Date.now();
    first.drop();
    await waitFor("a whole round tried", () => c.attempts.length >= 3);
    assert.deepEqual(c.attempts.slice(1), ["b", "c"], "b and c tried at once after a was lost");
    c.up.add("b");
    const back = (await conn.getClient(5000)) as unknown as StubClient;
    const waited = Date.now() - lostAt;
    assert.equal(back.endpoint, "b");
    assert.deepEqual(c.attempts.slice(3, 5), ["a", "b"], "the new round starts over the list");
    assert.ok(waited >= 250, `the backoff applied after the round (${waited} ms)`);
    assert.deepEqual(conn.status.down, ["c", "a"], "b is up again, no longer listed as down");
    // The whole round failing is the outage: "disconnected" once (not again in the next round), then connected.
    assert.deepEqual(events.map((e) => e.state), ["connecting", "connected", "connecting", "disconnected", "connected"]);
    assert.equal(events[3].failingOver, undefined);
    await conn.release("u");
  });

  it("with startIndex (spreading) starts at that endpoint and wraps around the list", async () => {
    const c = cluster(["a", "b", "c"]);
    const conn = new SharedConnection({ endpoints: ["a", "b", "c"], startIndex: 2, open: c.open, backoff: { initialMs: 10000 } });
    conn.acquire("u");
    const first = (await conn.getClient(2000)) as unknown as StubClient;
    assert.equal(first.endpoint, "c");
    first.drop();
    const next = (await conn.getClient(2000)) as unknown as StubClient;
    assert.equal(next.endpoint, "a");
    await conn.release("u");
  });
});

describe("npm start's TDENGINE_URL", () => {
  it("takes several addresses (commas, http turned into ws, DSN host list) and refuses a password", async () => {
    const { tdengineWsUrl } = await import("../../scripts/demo.js");
    assert.equal(tdengineWsUrl("ws://127.0.0.1:6041"), "ws://127.0.0.1:6041");
    assert.equal(tdengineWsUrl("http://h1:6041, https://h2"), "ws://h1:6041,wss://h2");
    assert.equal(tdengineWsUrl("ws://h1:6041,h2:6041"), "ws://h1:6041,ws://h2:6041");
    assert.throws(() => tdengineWsUrl("ws://root:pw@h1:6041,h2"), /TDENGINE_URL.*Password/);
  });
});
