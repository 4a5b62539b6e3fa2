// The client against a tiny scripted WebSocket server that answers with hand-written frames: what the client sends
// (conn args, binary query bytes, free_result when abandoning), keepalive pings, out-of-order replies and
// unparseable frames.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { openClient, TdengineError, type TdengineClientApi } from "../../lib/tdengine/index.js";
import { BLOCK_TEN_ROWS, hex } from "../support/tdengine-blocks.js";
import { waitFor } from "../support/wait.js";

type Json = { action: string; args: Record<string, unknown> };

interface Script {
  url: string;
  server: WebSocketServer;
  socket(): WebSocket;
  received: Array<Json | Buffer>;
  close(): Promise<void>;
}

/** A server answering conn/version itself and handing every other frame to `onFrame`. */
async function scripted(onFrame: (ws: WebSocket, frame: Json | Buffer) => void): Promise<Script> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const received: Array<Json | Buffer> = [];
  let last: WebSocket | undefined;
  server.on("connection", (ws) => {
    last = ws;
    ws.on("message", (data: Buffer, isBinary) => {
      const frame = isBinary ? data : (JSON.parse(data.toString()) as Json);
      received.push(frame);
      if (!isBinary && ((frame as Json).action === "conn" || (frame as Json).action === "version")) {
        const { action, args } = frame as Json;
        ws.send(JSON.stringify({ code: 0, message: "", action, req_id: args.req_id, timing: 1, version: "3.3.6.0" }));
        return;
      }
      onFrame(ws, frame);
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    server,
    socket: () => last!,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

function u64(n: bigint | number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.toString("hex");
}

function u32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString("hex");
}

/** fetch_raw_block reply written field by field (reference §2.5). */
function fetchReply(reqId: bigint, resultId: number, block?: Uint8Array): Buffer {
  const head = hex("ffffffffffffffff", "0700000000000000", "0100", "0000000000000000", u64(reqId), "00000000", "00000000", u64(resultId));
  if (!block) return Buffer.from([...head, 1]);
  return Buffer.from([...head, 0, ...hex(u32(block.length)), ...block]);
}

function queryReply(reqId: unknown, id: number): string {
  return JSON.stringify({
    code: 0, message: "", action: "binary_query", req_id: reqId, timing: 1, id, is_update: false, affected_rows: 0,
    fields_count: 1, fields_names: ["v"], fields_types: [4], fields_lengths: [4], precision: 0,
  });
}

let script: Script | undefined;
let client: TdengineClientApi | undefined;
afterEach(async () => {
  await client?.close();
  await script?.close();
  client = undefined;
  script = undefined;
});

describe("client against a scripted server", () => {
  it("sends conn with credentials and database, then the exact binary query and fetch frames", async () => {
    script = await scripted((ws, frame) => {
      assert.ok(Buffer.isBuffer(frame));
      const reqId = frame.readBigUInt64LE(0);
      const action = frame.readBigUInt64LE(16);
      if (action === 6n) ws.send(queryReply(Number(reqId), 4));
      else if (action === 7n) {
        const fetches = script!.received.filter((f) => Buffer.isBuffer(f) && f.readBigUInt64LE(16) === 7n).length;
        ws.send(fetchReply(reqId, 4, fetches === 1 ? BLOCK_TEN_ROWS : undefined));
      }
    });
    client = await openClient({ url: script.url, user: "u", password: "p", database: "power", connector: "test" });
    const r = await client.query("show databases");
    assert.deepEqual(r.rows.map((x) => x[0]), [null, 1, 2, 3, 4, 5, 6, 7, 8, null]);
    const [conn, version, query, fetch1, fetch2] = script.received as [Json, Json, Buffer, Buffer, Buffer];
    assert.deepEqual({ ...conn.args, req_id: 0 }, { req_id: 0, user: "u", password: "p", db: "power", connector: "test" });
    assert.equal(conn.action, "conn");
    assert.equal(version.action, "version");
    const ids = [conn.args.req_id, version.args.req_id].map(Number);
    assert.ok(ids.every((id) => id > 0) && ids[0] !== ids[1], "unique non-zero req ids");
    assert.deepEqual(query.subarray(8), Buffer.from(hex("0000000000000000", "0600000000000000", "0100", "0e000000", "73686f7720646174616261736573")));
    assert.deepEqual(fetch1.subarray(8), Buffer.from(hex("0400000000000000", "0700000000000000", "0100")));
    assert.equal(fetch2.length, 26);
    assert.equal(script.received.length, 5, "no free_result after the server said finished");
  });

  it("frees the result when a block cannot be decoded, and reports a protocol error", async () => {
    const corrupt = Uint8Array.from(BLOCK_TEN_ROWS);
    corrupt[28] = 19; // an undecodable type code
    script = await scripted((ws, frame) => {
      if (!Buffer.isBuffer(frame)) return;
      const reqId = frame.readBigUInt64LE(0);
      if (frame.readBigUInt64LE(16) === 6n) ws.send(queryReply(Number(reqId), 9));
      else ws.send(fetchReply(reqId, 9, corrupt));
    });
    client = await openClient({ url: script.url });
    await assert.rejects(client.query("select v from t"), (e: unknown) => e instanceof TdengineError && e.kind === "protocol");
    const free = await waitFor("free_result", () => script!.received.find((f): f is Json => !Buffer.isBuffer(f) && f.action === "free_result"));
    assert.equal(free.args.id, 9);
  });

  it("a query reply that comes after the query timed out has its result freed on the server", async () => {
    let late: (() => void) | undefined;
    script = await scripted((ws, frame) => {
      if (!Buffer.isBuffer(frame) || frame.readBigUInt64LE(16) !== 6n) return;
      const reqId = Number(frame.readBigUInt64LE(0));
      late = () => ws.send(queryReply(reqId, 77));
    });
    client = await openClient({ url: script.url });
    await assert.rejects(client.query("select v from t", { timeoutMs: 50 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout");
    late!();
    const free = await waitFor("free_result of the late reply", () => script!.received.find((f): f is Json => !Buffer.isBuffer(f) && f.action === "free_result"));
    assert.equal(free.args.id, 77);
  });

  it("a stmt2_init reply that comes after it timed out has its statement closed on the server", async () => {
    let late: (() => void) | undefined;
    script = await scripted((ws, frame) => {
      if (Buffer.isBuffer(frame) || frame.action !== "stmt2_init") return;
      const reqId = frame.args.req_id;
      late = () => ws.send(JSON.stringify({ code: 0, message: "", action: "stmt2_init", req_id: reqId, timing: 1, stmt_id: 5 }));
    });
    client = await openClient({ url: script.url });
    await assert.rejects(client.prepare("insert into t values (?, ?)", { timeoutMs: 50 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout");
    late!();
    const close = await waitFor("stmt2_close of the late statement", () => script!.received.find((f): f is Json => !Buffer.isBuffer(f) && f.action === "stmt2_close"));
    assert.equal(close.args.stmt_id, 5);
  });

  it("a query reply whose field lists are not arrays of the right type gives a protocol error, not a crash", async () => {
    // Found by the fault suite's fuzzer (seed 518792374): fields_names as a string made the client throw a TypeError.
    const bad: Record<string, unknown>[] = [{ fields_names: "v" }, { fields_types: ["4"] }, { fields_lengths: {} }];
    let next = 0;
    script = await scripted((ws, frame) => {
      if (!Buffer.isBuffer(frame)) return;
      const reqId = Number(frame.readBigUInt64LE(0));
      ws.send(JSON.stringify({ ...JSON.parse(queryReply(reqId, 9)), ...bad[next++] }));
    });
    client = await openClient({ url: script.url });
    for (let i = 0; i < bad.length; i++) {
      await assert.rejects(client.query("select v from t"), (e: unknown) => e instanceof TdengineError && e.kind === "protocol");
    }
  });

  it("matches replies sent in reverse order to their requests", async () => {
    const held: Array<{ ws: WebSocket; reqId: unknown; id: number }> = [];
    script = await scripted((ws, frame) => {
      if (Buffer.isBuffer(frame)) {
        const reqId = frame.readBigUInt64LE(0);
        const action = frame.readBigUInt64LE(16);
        if (action === 6n) {
          held.push({ ws, reqId: Number(reqId), id: held.length + 1 });
          if (held.length === 3) for (const h of held.reverse()) h.ws.send(JSON.stringify({ code: 0, message: "", action: "binary_query", req_id: h.reqId, is_update: true, affected_rows: h.id * 100 }));
        }
      }
    });
    client = await openClient({ url: script.url });
    const results = await Promise.all([client.exec("insert 1"), client.exec("insert 2"), client.exec("insert 3")]);
    assert.deepEqual(results.map((r) => r.affectedRows), [100, 200, 300]);
  });

  it("answers the server's keepalive pings", async () => {
    script = await scripted(() => undefined);
    client = await openClient({ url: script.url });
    const pong = new Promise<Buffer>((resolve) => script!.socket().once("pong", resolve));
    script.socket().ping(Buffer.from("keepalive"));
    assert.equal((await pong).toString(), "keepalive");
    assert.equal(client.closed, false);
  });

  it("an unparseable frame closes the connection and rejects what is pending with kind closed", async () => {
    script = await scripted((ws) => ws.send(Buffer.from([1, 2, 3]), { binary: true }));
    client = await openClient({ url: script.url });
    const closed = new Promise((resolve) => client!.once("close", resolve));
    await assert.rejects(client.query("select 1"), (e: unknown) => e instanceof TdengineError && e.kind === "closed" && /protocol/.test(e.message));
    await closed;
    assert.equal(client.closed, true);
  });

  it("an adapter that never answers the upgrade in time gives kind timeout", async () => {
    const { createServer } = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    try {
      const port = (silent.address() as AddressInfo).port;
      await assert.rejects(openClient({ url: `ws://127.0.0.1:${port}`, timeoutMs: 200 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
