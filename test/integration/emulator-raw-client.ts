// A deliberately raw WebSocket client for the emulator's protocol tests: hand-built JSON and binary frames,
// replies collected in arrival order. Not the project's client (lib/tdengine), on purpose.
import WebSocket from "ws";

export type Reply = { kind: "json"; msg: Record<string, unknown>; raw: string } | { kind: "binary"; buf: Buffer };

export class RawWs {
  readonly replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.replies.push({ kind: "binary", buf: Buffer.from(data) });
      else this.replies.push({ kind: "json", msg: JSON.parse(data.toString("utf8")), raw: data.toString("utf8") });
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string, opts: WebSocket.ClientOptions = {}): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      ws.once("open", () => resolve(new RawWs(ws)));
      ws.once("error", reject);
    });
  }

  /** Next reply in arrival order. */
  async next(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error("socket closed while waiting for a reply");
      if (Date.now() > deadline) throw new Error("timed out waiting for a reply");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.replies.shift() as Reply;
  }

  async nextJson(): Promise<Record<string, unknown>> {
    const r = await this.next();
    if (r.kind !== "json") throw new Error("expected a JSON reply, got binary");
    return r.msg;
  }

  async nextBinary(): Promise<Buffer> {
    const r = await this.next();
    if (r.kind !== "binary") throw new Error(`expected a binary reply, got ${JSON.stringify(r.msg)}`);
    return r.buf;
  }

  async json(action: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.ws.send(JSON.stringify({ action, args }));
    return this.nextJson();
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}

/** 24-byte binary header: req_id, resource id, action code (all u64 LE). */
export function header(reqId: bigint, resId: bigint, action: bigint): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(reqId, 0);
  b.writeBigUInt64LE(resId, 8);
  b.writeBigUInt64LE(action, 16);
  return b;
}

export function binaryQuery(reqId: bigint, sql: string): Buffer {
  const s = Buffer.from(sql, "utf8");
  const tail = Buffer.alloc(6);
  tail.writeUInt16LE(1, 0);
  tail.writeUInt32LE(s.length, 2);
  return Buffer.concat([header(reqId, 0n, 6n), tail, s]);
}

export function fetchRawBlock(reqId: bigint, resultId: bigint): Buffer {
  return Buffer.concat([header(reqId, resultId, 7n), Buffer.from([1, 0])]);
}

/** stmt2 column block: total len, type, rows, is-null flags, has-lengths, [lengths], buffer len, buffer. */
export function colBlock(type: number, nulls: number[], data: Buffer, lengths?: number[]): Buffer {
  const n = nulls.length;
  const size = 17 + n + (lengths ? 4 * n : 0) + data.length;
  const b = Buffer.alloc(size);
  let o = 0;
  b.writeUInt32LE(size, o);
  b.writeUInt32LE(type, (o += 4));
  b.writeUInt32LE(n, (o += 4));
  o += 4;
  for (const v of nulls) b[o++] = v;
  b[o++] = lengths ? 1 : 0;
  if (lengths) for (const l of lengths) o = b.writeInt32LE(l, o);
  o = b.writeUInt32LE(data.length, o);
  data.copy(b, o);
  return b;
}

/** stmt2 bind payload for tables given as {name?, tags: blocks, cols: blocks}. */
export function bindPayload(tables: { name?: string; tags: Buffer[]; cols: Buffer[] }[]): Buffer {
  const T = tables.length;
  const hasNames = tables.some((t) => t.name !== undefined);
  const names = tables.map((t) => Buffer.from(`${t.name ?? ""}\0`));
  const nameSec = hasNames ? Buffer.concat([...names.map((n) => Buffer.from(Uint16Array.of(n.length).buffer)), ...names]) : Buffer.alloc(0);
  const sec = (parts: Buffer[][]): Buffer => {
    const joined = parts.map((p) => Buffer.concat(p));
    return Buffer.concat([...joined.map((j) => Buffer.from(Uint32Array.of(j.length).buffer)), ...joined]);
  };
  const tagCount = tables[0].tags.length;
  const colCount = tables[0].cols.length;
  const tagSec = tagCount ? sec(tables.map((t) => t.tags)) : Buffer.alloc(0);
  const colSec = colCount ? sec(tables.map((t) => t.cols)) : Buffer.alloc(0);
  const nameOff = hasNames ? 28 : 0;
  const tagOff = tagCount ? 28 + nameSec.length : 0;
  const colOff = colCount ? 28 + nameSec.length + tagSec.length : 0;
  const total = 28 + nameSec.length + tagSec.length + colSec.length;
  const head = Buffer.from(Uint32Array.of(total, T, tagCount, colCount, nameOff, tagOff, colOff).buffer);
  return Buffer.concat([head, nameSec, tagSec, colSec]);
}

export function stmt2Bind(reqId: bigint, stmtId: bigint, payload: Buffer): Buffer {
  const tail = Buffer.alloc(6);
  tail.writeUInt16LE(1, 0);
  tail.writeInt32LE(-1, 2);
  return Buffer.concat([header(reqId, stmtId, 9n), tail, payload]);
}

export const i64s = (...v: bigint[]): Buffer => Buffer.from(BigInt64Array.from(v).buffer);
export const i32s = (...v: number[]): Buffer => Buffer.from(Int32Array.from(v).buffer);
export const f64s = (...v: number[]): Buffer => Buffer.from(Float64Array.from(v).buffer);
