// A taosAdapter look-alike that misbehaves on purpose, for robustness tests of the TDengine client. It speaks
// just enough of the /ws protocol (conn, version, binary_query, fetch_raw_block, stmt2_*) to get a client past
// each step, and for every request applies a fault chosen by the test: truncated, oversized, reordered,
// duplicated or mis-addressed replies, garbage frames, wrong field types, silence, a dropped connection, or a
// WebSocket frame announcing 1.4 GB.
// Reply layouts are written out here from the protocol facts; nothing is shared with the client's decoder.
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export const FAULTS = [
  "ok",
  "truncate",
  "oversize",
  "reorder",
  "garbage",
  "silent",
  "close",
  "wrong-id",
  "duplicate",
  "wrong-types",
  "server-error",
  "huge-length",
  "huge-frame",
] as const;
/** "stall" (not in the fuzz mix): the server stops reading its socket, so even a close frame gets no answer. */
export type Fault = (typeof FAULTS)[number] | "stall";

export interface Incoming {
  action: string;
  reqId: bigint;
  /** Resource id of a binary request (result or statement id). */
  resourceId: bigint;
}

export interface HostileServer {
  url: string;
  /** Chooses the fault for each request (handshake included). */
  plan: (req: Incoming) => Fault;
  /** Open server-side sockets. */
  connections(): number;
  /** Requests seen, by fault applied. */
  applied: Map<Fault, number>;
  close(): Promise<void>;
}

/** A small, fast, seedable PRNG (mulberry32), so a failing fuzz run can be replayed from its printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTION_BY_CODE: Record<string, string> = { "6": "binary_query", "7": "fetch_raw_block", "9": "stmt2_bind" };

function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One INT column, 3 rows (1, NULL, 3), raw block version 1 (reference: raw block layout). */
function intBlock(): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x04]), // column type INT
    u32(4), // column width
    u32(12), // data length of column 0
    Buffer.from([0x40]), // null bitmap: row 1 is NULL
    u32(1),
    u32(0),
    u32(3),
  ]);
  const head = Buffer.concat([u32(1), u32(0), u32(3), u32(1), u32(0), u64(0)]);
  const block = Buffer.concat([head, body]);
  block.writeUInt32LE(block.length, 4);
  return block;
}

/** fetch_raw_block reply: marker, action 7, version 1, timing, req_id, code, message, result id, finished, block. */
function fetchReply(reqId: bigint, resultId: bigint, block: Buffer | undefined, blockLength = block?.length ?? 0): Buffer {
  const head = Buffer.concat([Buffer.alloc(8, 0xff), u64(7), Buffer.from([1, 0]), u64(0), u64(reqId), u32(0), u32(0), u64(resultId)]);
  if (!block) return Buffer.concat([head, Buffer.from([1])]);
  return Buffer.concat([head, Buffer.from([0]), u32(blockLength), block]);
}

function goodJson(req: Incoming, stmtId: number): Record<string, unknown> {
  const base = { code: 0, message: "", action: req.action, req_id: Number(req.reqId), timing: 1 };
  switch (req.action) {
    case "version":
      return { ...base, version: "3.3.6.0" };
    case "binary_query":
      return {
        ...base, id: 100 + Number(req.reqId % 1000n), is_update: false, affected_rows: 0, fields_count: 1,
        fields_names: ["v"], fields_types: [4], fields_lengths: [4], precision: 0,
      };
    case "stmt2_init":
      return { ...base, stmt_id: stmtId };
    case "stmt2_prepare":
      return {
        ...base, stmt_id: stmtId, is_insert: true, fields_count: 2,
        fields: [
          { name: "ts", field_type: 9, precision: 0, scale: 0, bytes: 8, bind_type: 1 },
          { name: "v", field_type: 4, precision: 0, scale: 0, bytes: 4, bind_type: 1 },
        ],
      };
    case "stmt2_bind":
    case "stmt2_close":
      return { ...base, stmt_id: Number(req.resourceId) || stmtId };
    case "stmt2_exec":
      return { ...base, stmt_id: stmtId, affected: 1 };
    default:
      return base;
  }
}

function parse(data: Buffer, isBinary: boolean): Incoming | undefined {
  if (isBinary) {
    if (data.length < 26) return undefined;
    const code = String(data.readBigUInt64LE(16));
    return { action: ACTION_BY_CODE[code] ?? `binary_${code}`, reqId: data.readBigUInt64LE(0), resourceId: data.readBigUInt64LE(8) };
  }
  try {
    const j = JSON.parse(data.toString("utf8")) as { action?: string; args?: { req_id?: number; id?: number } };
    return { action: String(j.action), reqId: BigInt(j.args?.req_id ?? 0), resourceId: BigInt(j.args?.id ?? 0) };
  } catch {
    return undefined;
  }
}

export async function startHostileServer(rnd: () => number, plan: (req: Incoming) => Fault = () => "ok"): Promise<HostileServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws", perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const sockets = new Set<WebSocket>();
  const applied = new Map<Fault, number>();
  const server: HostileServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    plan,
    connections: () => sockets.size,
    applied,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close(() => resolve());
      }),
  };
  const int = (n: number): number => Math.floor(rnd() * n);

  wss.on("connection", (ws) => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    ws.on("error", () => undefined);
    const fetched = new Map<bigint, number>();
    let held: Array<() => void> = []; // replies held back by "reorder", sent after the next reply
    let stmtSeq = 0;
    const send = (frame: Buffer | string, binary: boolean): void => {
      if (ws.readyState === ws.OPEN) ws.send(frame, { binary });
    };
    const sendGood = (req: Incoming): void => {
      if (req.action === "free_result") return; // no reply, as taosAdapter
      if (req.action === "fetch_raw_block") {
        const n = (fetched.get(req.resourceId) ?? 0) + 1;
        fetched.set(req.resourceId, n);
        send(fetchReply(req.reqId, req.resourceId, n === 1 ? intBlock() : undefined), true);
      } else send(JSON.stringify(goodJson(req, ++stmtSeq)), false);
      const later = held;
      held = [];
      for (const f of later) f();
    };
    const goodBytes = (req: Incoming): { frame: Buffer; binary: boolean } =>
      req.action === "fetch_raw_block"
        ? { frame: fetchReply(req.reqId, req.resourceId, intBlock()), binary: true }
        : { frame: Buffer.from(JSON.stringify(goodJson(req, ++stmtSeq))), binary: false };

    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const req = parse(data, isBinary);
      if (!req) return;
      const fault = server.plan(req);
      applied.set(fault, (applied.get(fault) ?? 0) + 1);
      switch (fault) {
        case "ok":
          return sendGood(req);
        case "truncate": {
          const { frame, binary } = goodBytes(req);
          return send(frame.subarray(0, int(frame.length)), binary);
        }
        case "oversize": {
          // 1-2 MB: a JSON reply with a huge extra field, or a binary reply whose block is mostly padding.
          const size = (1 + int(2)) << 20;
          if (req.action === "fetch_raw_block") {
            const n = (fetched.get(req.resourceId) ?? 0) + 1;
            fetched.set(req.resourceId, n);
            if (n > 1) return send(fetchReply(req.reqId, req.resourceId, undefined), true); // then "finished"
            const block = Buffer.concat([intBlock(), Buffer.alloc(size, 0x7a)]);
            return send(fetchReply(req.reqId, req.resourceId, block), true);
          }
          return send(JSON.stringify({ ...goodJson(req, ++stmtSeq), pad: "x".repeat(size) }), false);
        }
        case "reorder":
          held.push(() => sendGood(req));
          return;
        case "garbage": {
          const bytes = Buffer.alloc(1 + int(200));
          for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
          // Binary garbage, or text that is JSON-ish but broken (the ws layer would refuse invalid UTF-8 as 1007).
          if (rnd() < 0.5) return send(bytes, true);
          return send(`{"req_id":${Number(req.reqId)},"code":` + bytes.toString("base64"), false);
        }
        case "silent":
          return;
        case "close":
          if (rnd() < 0.5) ws.terminate();
          else ws.close(rnd() < 0.5 ? 1000 : 1011, "hostile");
          return;
        case "wrong-id":
          return send(JSON.stringify({ ...goodJson(req, ++stmtSeq), req_id: Number(req.reqId) + 7919 }), false);
        case "duplicate":
          sendGood(req);
          return sendGood(req);
        case "wrong-types": {
          const j = goodJson(req, ++stmtSeq);
          const junk = [null, "0", -1, 1e308, [], {}, true, "NaN"];
          for (const k of Object.keys(j)) if (k !== "req_id" && rnd() < 0.5) j[k] = junk[int(junk.length)];
          return send(JSON.stringify(j), false);
        }
        case "server-error":
          return send(JSON.stringify({ ...goodJson(req, ++stmtSeq), code: 1 + int(0xffff), message: "hostile refusal" }), false);
        case "stall":
          (ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
          return;
        case "huge-frame": {
          // A binary frame header announcing 1.4 GB, then 4 MB of it: a client without a frame cap keeps
          // buffering (and would until the whole 1.4 GB arrived).
          const socket = (ws as unknown as { _socket?: { write(b: Buffer): boolean } })._socket;
          const head = Buffer.alloc(10);
          head[0] = 0x82; // FIN + binary
          head[1] = 127; // 64-bit length follows
          head.writeBigUInt64BE(1_400_000_000n, 2);
          socket?.write(head);
          socket?.write(Buffer.alloc(4 << 20, 0x7a));
          return;
        }
        case "huge-length": {
          if (req.action === "fetch_raw_block") {
            // A header that claims a 2 GB block in a frame of a few bytes.
            return send(fetchReply(req.reqId, req.resourceId, intBlock(), 0x7fffffff), true);
          }
          const j = goodJson(req, ++stmtSeq);
          return send(JSON.stringify({ ...j, fields_count: 0x7fffffff, stmt_id: 2 ** 60 }), false);
        }
      }
    });
  });
  return server;
}
