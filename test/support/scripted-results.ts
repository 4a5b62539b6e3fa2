// A minimal scripted taosAdapter for result-streaming tests: answers conn/version, accepts any binary query with
// one result id, and answers each fetch_raw_block with the next of `blocks` (then "finished", or nothing more
// when `endless`). Every frame it receives is recorded in order, so a test can see exactly when fetches and
// free_result arrive. `hold` (`holdQuery`) keeps fetch (query)
// replies back until release() is called.
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export type Received = { kind: "json"; action: string; args: Record<string, unknown> } | { kind: "binary"; action: number; reqId: bigint; resourceId: bigint };

export interface ResultServer {
  url: string;
  received: Received[];
  /** Count of fetch_raw_block frames received. */
  fetches(): number;
  /** Count of binary_query frames received. */
  queries(): number;
  /** The ids of the free_result requests received. */
  frees(): number[];
  /** Sends the replies of held fetches. */
  release(): void;
  close(): Promise<void>;
}

export interface ResultServerOptions {
  blocks: Uint8Array[];
  /** After the blocks, keep sending the last block forever instead of "finished". */
  endless?: boolean;
  /** Fetch replies are held until release(). */
  hold?: boolean;
  /** Query replies are held until release(). */
  holdQuery?: boolean;
  resultId?: number;
}

function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** fetch_raw_block reply (reference §2.5): marker, action 7, version 1, timing, req_id, code 0, no message, id, finished, block. */
export function fetchReplyFrame(reqId: bigint, resultId: number, block?: Uint8Array): Buffer {
  const version = Buffer.from([1, 0]);
  const head = Buffer.concat([u64(0xffffffffffffffffn), u64(7), version, u64(0), u64(reqId), Buffer.alloc(4), Buffer.alloc(4), u64(resultId)]);
  if (!block) return Buffer.concat([head, Buffer.from([1])]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(block.length);
  return Buffer.concat([head, Buffer.from([0]), len, block]);
}

/** One INT column named v (the blocks of test/support/tdengine-blocks.ts BLOCK_TEN_ROWS fit it). */
function queryReply(reqId: unknown, id: number): string {
  return JSON.stringify({
    code: 0, message: "", action: "binary_query", req_id: reqId, timing: 1, id, is_update: false, affected_rows: 0,
    fields_count: 1, fields_names: ["v"], fields_types: [4], fields_lengths: [4], precision: 0,
  });
}

export async function resultServer(opts: ResultServerOptions): Promise<ResultServer> {
  const id = opts.resultId ?? 7;
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const received: Received[] = [];
  const held: Array<() => void> = [];
  let served = 0;
  server.on("connection", (ws: WebSocket) => {
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) {
        const { action, args } = JSON.parse(data.toString()) as { action: string; args: Record<string, unknown> };
        received.push({ kind: "json", action, args });
        if (action === "free_result") return; // no reply, as taosAdapter
        ws.send(JSON.stringify({ code: 0, message: "", action, req_id: args.req_id, timing: 1, version: "3.3.6.0", is_update: true, affected_rows: 0 }));
        return;
      }
      const reqId = data.readBigUInt64LE(0);
      const action = Number(data.readBigUInt64LE(16));
      received.push({ kind: "binary", action, reqId, resourceId: data.readBigUInt64LE(8) });
      if (action === 6) {
        served = 0; // each query serves the blocks from the first
        const reply = (): void => ws.send(queryReply(Number(reqId), id));
        if (opts.holdQuery) held.push(reply);
        else reply();
        return;
      }
      if (action !== 7) return;
      const i = served++;
      const block = i < opts.blocks.length ? opts.blocks[i] : opts.endless ? opts.blocks[opts.blocks.length - 1] : undefined;
      const reply = (): void => ws.send(fetchReplyFrame(reqId, id, block));
      if (opts.hold) held.push(reply);
      else reply();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    fetches: () => received.filter((r) => r.kind === "binary" && r.action === 7).length,
    queries: () => received.filter((r) => r.kind === "binary" && r.action === 6).length,
    frees: () => received.flatMap((r) => (r.kind === "json" && r.action === "free_result" ? [Number(r.args.id)] : [])),
    release: () => held.splice(0).forEach((f) => f()),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}
