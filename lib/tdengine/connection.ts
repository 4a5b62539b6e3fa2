// One WebSocket to taosAdapter's /ws endpoint carrying many requests at once. Replies are matched by req_id:
// JSON replies by their `req_id` field, binary fetch_raw_block replies by the u64 at offset 26 (taosAdapter
// answers every frame on its own goroutine, so replies come back in any order). Each request has its own
// timeout; when the socket closes every pending request is rejected with a "closed" error. The server pings
// every 54 s and `ws` answers pings by itself, which is all the keepalive the /ws protocol has.
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import { binaryReplyReqId } from "./fetch-reply";
import { TdengineError } from "./errors";

export interface JsonReply {
  code: number;
  message?: string;
  action?: string;
  req_id?: number;
  [field: string]: unknown;
}

export interface ConnectOptions {
  timeoutMs: number;
  /** Largest message accepted from the server, in bytes (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  tls?: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean; servername?: string };
}

interface Pending {
  action: string;
  resolve(v: JsonReply | Uint8Array): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Largest message accepted from the server by default: 256 MiB. Result blocks are a few MB at most in practice
 * (the official connector allows 1.5 GiB); a larger frame, or a hostile server announcing one, fails the
 * connection at its header instead of making the client buffer it.
 */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 2 ** 20;

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/** The /ws URL: path /ws added when absent, Cloud token as query parameter. */
export function wsUrl(url: string, token?: string): string {
  return endpointUrl(url, token, (path) => (path === "" || path === "/" ? "/ws" : path));
}

/**
 * The TMQ URL (/rest/tmq): added when the path is empty, and in place of a trailing /ws (the SQL endpoint's path,
 * which users often put in the connection's URL); any other path is kept as given (a proxy's own route).
 */
export function tmqUrl(url: string, token?: string): string {
  return endpointUrl(url, token, (path) => (path === "" || path === "/" ? "/rest/tmq" : path.replace(/\/ws\/?$/, "/rest/tmq")));
}

function endpointUrl(url: string, token: string | undefined, pathFor: (path: string) => string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw TdengineError.invalid(`invalid TDengine URL ${JSON.stringify(url)}`);
  }
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw TdengineError.invalid(`TDengine URL must be ws:// or wss://, got ${u.protocol}`);
  u.pathname = pathFor(u.pathname);
  if (token) u.searchParams.set("token", token);
  return u.toString();
}

function connectError(err: Error & { code?: string }, url: string): TdengineError {
  const where = url.replace(/\?.*$/, "");
  if ((err.code && TLS_CODES.has(err.code)) || /certificate|SSL|TLS/i.test(err.message)) {
    return new TdengineError("tls", `TLS failure connecting to ${where}: ${err.message}`, undefined, { cause: err, retryable: false });
  }
  return new TdengineError("refused", `cannot connect to ${where}: ${err.message}`, undefined, { cause: err });
}

/** Timed-out requests remembered for their late replies (oldest forgotten first). */
const MAX_TIMED_OUT = 1024;

export class Connection extends EventEmitter {
  private readonly pending = new Map<number, Pending>();
  /** req_id -> action of requests that timed out: a late successful reply may hold a server resource. */
  private readonly timedOut = new Map<number, string>();
  /**
   * Called with a successful JSON reply that arrived after its request timed out, so the client can release
   * what it holds on the server (a result set, a statement) instead of leaving it open until the socket closes.
   */
  onLateReply: ((action: string, reply: JsonReply) => void) | undefined;
  private closeError: TdengineError | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly maxFrameBytes: number,
  ) {
    super();
    this.closedPromise = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        const text = reason.toString("utf8");
        this.shutdown(new TdengineError("closed", `connection closed (${code}${text ? ` ${text}` : ""})`));
        resolve();
      });
    });
    ws.on("error", (err: Error & { code?: string }) => {
      if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        // Not retryable: the same request would get the same frame again.
        const msg = `protocol error: the server sent a message larger than the client's limit of ${this.maxFrameBytes} bytes (maxFrameBytes); connection closed`;
        this.shutdown(new TdengineError("protocol", msg, undefined, { cause: err, retryable: false }));
      } else this.shutdown(new TdengineError("closed", `connection failed: ${err.message}`, undefined, { cause: err }));
    });
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary));
  }

  static open(url: string, opts: ConnectOptions): Promise<Connection> {
    const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!(Number.isSafeInteger(maxFrameBytes) && maxFrameBytes > 0)) return Promise.reject(TdengineError.invalid(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`));
    return new Promise((resolve, reject) => {
      // ws hands TLS options (ca, servername, rejectUnauthorized) through to tls.connect.
      const wsOpts: WebSocket.ClientOptions & { servername?: string } = {
        maxPayload: maxFrameBytes,
        // taosAdapter accepts permessage-deflate but does not need it; deflating multi-MB binds and blocks costs
        // more CPU than it saves on the usual local or LAN link, so it is not offered.
        perMessageDeflate: false,
        ca: opts.tls?.ca,
        rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
      };
      if (opts.tls?.servername) wsOpts.servername = opts.tls.servername;
      const ws = new WebSocket(url, wsOpts);
      let settled = false;
      const timer = setTimeout(() => {
        finish(new TdengineError("timeout", `connecting to ${url.replace(/\?.*$/, "")} timed out after ${opts.timeoutMs} ms`));
        ws.terminate();
      }, opts.timeoutMs);
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.off("open", onOpen);
        ws.off("error", onError);
        ws.off("unexpected-response", onUnexpected);
        if (err) {
          ws.on("error", () => undefined); // a late error of the abandoned socket must not crash the process
          reject(err);
        } else resolve(new Connection(ws, maxFrameBytes));
      };
      const onOpen = (): void => finish();
      const onError = (err: Error): void => finish(connectError(err, url));
      const onUnexpected = (_req: unknown, res: { statusCode?: number }): void => {
        finish(new TdengineError("refused", `${url.replace(/\?.*$/, "")} answered HTTP ${res.statusCode ?? "?"} instead of a WebSocket upgrade`));
        ws.terminate();
      };
      ws.once("open", onOpen);
      ws.once("error", onError);
      ws.once("unexpected-response", onUnexpected);
    });
  }

  get closed(): boolean {
    return this.closeError !== undefined;
  }

  /** Sends `{action, args}` (args.req_id must be set) and resolves with the reply; a non-zero code rejects. */
  requestJson(action: string, args: { req_id: number } & Record<string, unknown>, timeoutMs: number): Promise<JsonReply> {
    return this.track(args.req_id, action, timeoutMs, () => this.ws.send(JSON.stringify({ action, args }))) as Promise<JsonReply>;
  }

  /** Sends `{action, args}` whose reply may be a binary frame (TMQ fetch_raw_data): resolved as bytes then. */
  requestJsonOrBinary(action: string, args: { req_id: number } & Record<string, unknown>, timeoutMs: number): Promise<JsonReply | Uint8Array> {
    return this.track(args.req_id, action, timeoutMs, () => this.ws.send(JSON.stringify({ action, args })));
  }

  /** Sends a binary frame whose reply is either JSON (resolved as an object) or binary (resolved as bytes). */
  requestBinary(reqId: number, action: string, frame: Uint8Array, timeoutMs: number): Promise<JsonReply | Uint8Array> {
    return this.track(reqId, action, timeoutMs, () => this.ws.send(frame, { binary: true }));
  }

  /** For actions without a reply (free_result). */
  sendNoReply(action: string, args: Record<string, unknown>): void {
    if (!this.closed) this.ws.send(JSON.stringify({ action, args }));
  }

  /** Drops the socket at once, without the closing handshake (a connection that never became usable). */
  terminate(): void {
    this.shutdown(new TdengineError("closed", "connection closed by the client"));
    this.ws.terminate();
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.shutdown(new TdengineError("closed", "connection closed by the client"));
    const kill = setTimeout(() => this.ws.terminate(), 2000);
    this.ws.close(1000);
    await this.closedPromise;
    clearTimeout(kill);
  }

  private track(reqId: number, action: string, timeoutMs: number, send: () => void): Promise<JsonReply | Uint8Array> {
    if (this.closeError) return Promise.reject(new TdengineError("closed", `${action}: ${this.closeError.message}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        this.timedOut.set(reqId, action);
        if (this.timedOut.size > MAX_TIMED_OUT) this.timedOut.delete(this.timedOut.keys().next().value as number);
        reject(new TdengineError("timeout", `${action} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(reqId, { action, resolve, reject, timer });
      try {
        send();
      } catch (err) {
        this.pending.delete(reqId);
        clearTimeout(timer);
        reject(new TdengineError("closed", `${action}: send failed: ${(err as Error).message}`, undefined, { cause: err }));
      }
    });
  }

  private settle(reqId: number): Pending | undefined {
    const p = this.pending.get(reqId);
    if (!p) return undefined; // late reply after a timeout, or for a request we did not send: ignore
    this.pending.delete(reqId);
    clearTimeout(p.timer);
    return p;
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      const id = binaryReplyReqId(buf);
      if (id === undefined) {
        this.protocolFailure("binary frame that is not a fetch_raw_block reply");
        return;
      }
      this.settle(Number(id))?.resolve(buf);
      return;
    }
    let reply: JsonReply;
    try {
      reply = JSON.parse(buf.toString("utf8")) as JsonReply;
    } catch {
      this.protocolFailure("reply is not JSON");
      return;
    }
    if (typeof reply !== "object" || reply === null || typeof reply.req_id !== "number") {
      this.protocolFailure("JSON reply without a numeric req_id");
      return;
    }
    const p = this.settle(reply.req_id);
    const code = typeof reply.code === "number" ? reply.code & 0xffff : 0xffff;
    if (!p) {
      const action = this.timedOut.get(reply.req_id);
      if (action === undefined) return;
      this.timedOut.delete(reply.req_id);
      if (code === 0) this.onLateReply?.(action, reply);
      return;
    }
    if (code !== 0) p.reject(TdengineError.server(code, String(reply.message ?? ""), reply.action ?? p.action));
    else p.resolve(reply);
  }

  /** A frame we cannot understand means we can no longer trust the stream: fail everything and close. */
  private protocolFailure(what: string): void {
    const err = TdengineError.protocol(what);
    this.shutdown(new TdengineError("closed", `connection closed after a protocol error: ${what}`, undefined, { cause: err }));
    this.ws.terminate();
  }

  private shutdown(err: TdengineError): void {
    if (this.closeError) return;
    this.closeError = err;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new TdengineError(err.kind, `${p.action}: ${err.message}`, undefined, { cause: err, retryable: err.retryable }));
    }
    this.pending.clear();
    this.emit("close", err);
  }
}
