// The WebSocket endpoint of a Perspective host on an existing http.Server (Node-RED's own, or one of ours):
// one `upgrade` listener per server, exact path match, every other upgrade request left alone for its owner
// (Node-RED's editor comms, websocket nodes, other packages). One Perspective session per socket, closed with
// the socket. Every socket is treated as hostile: requests pass an allowlist (protocol.ts), each client has
// limits (frame size, views, requests in flight, send buffer), the number of clients is capped, and no
// callback here lets an exception out into Node-RED; problems are logged once per client with its address.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { HostSession, PerspectiveHost } from "./host";
import {
  checkRequest, encodeEmptyResponse, encodeRequest, encodeResponsePrefix, encodeServerError, encodeUpdateResponse, isSubscription, KIND,
  readMsgId, requestName, type RequestHeader,
} from "./protocol";

/** Per-client limits. Defaults in DEFAULT_LIMITS. */
export interface EndpointLimits {
  /** Largest frame a browser may send, in bytes (ws maxPayload; larger frames close the socket with 1009). */
  maxPayload: number;
  /** Views one session may hold at a time. */
  maxViews: number;
  /** Requests one session may have waiting for their reply. */
  maxInFlight: number;
  /** Clients connected to this endpoint at a time. */
  maxConnections: number;
  /** A client whose unsent data passes this many bytes is not reading: it is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: EndpointLimits = {
  maxPayload: 1024 * 1024,
  maxViews: 16,
  maxInFlight: 32,
  maxConnections: 200,
  // 4 MiB: about 15 s of a 10,000 rows/s stream for a client that reads slowly; 200 clients stuck at it
  // hold 800 MB at most.
  maxBufferedBytes: 4 * 1024 * 1024,
};

export type AuthResult = { ok: true } | { ok: false; status: number; headers?: Record<string, string> };

export interface EndpointOptions {
  /** Exact URL path of the endpoint, e.g. "/perspective/ws". */
  path: string;
  host: PerspectiveHost;
  /** Let browsers compute views on the server (group_by, expressions, ...; default false: replication only). */
  serverViews?: boolean;
  limits?: Partial<EndpointLimits>;
  /** Decides whether an upgrade request may connect (e.g. the same auth as Node-RED's HTTP nodes). */
  authorize?: (req: IncomingMessage) => Promise<AuthResult>;
  /** Called when a client connects or disconnects. */
  onClientsChanged?: (clients: number) => void;
  /** Called with problems worth a log line (a failed session, a refused request). */
  onWarning?: (message: string) => void;
}

export interface Endpoint {
  readonly path: string;
  readonly clients: number;
  close(): Promise<void>;
}

interface ServerEntry {
  listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  paths: Map<string, EndpointImpl>;
  /** On a server this package created, unmatched upgrades are ours to refuse. */
  owned: boolean;
}

const servers = new WeakMap<Server, ServerEntry>();

function pathnameOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? "/", "http://x").pathname;
  } catch {
    return undefined;
  }
}

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 404: "Not Found", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable" };

function refuse(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
  const lines = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`, "Connection: close", "Content-Length: 0"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(lines.join("\r\n") + "\r\n\r\n");
  socket.on("error", () => undefined);
}

/** Close codes (RFC 6455 and the IANA registry) a client sees with the reason text. */
const CLOSE = { UNSUPPORTED: 1003, POLICY: 1008, TOO_BIG: 1009, RESTART: 1012, TRY_LATER: 1013 } as const;

class EndpointImpl implements Endpoint {
  private readonly wss: WebSocketServer;
  private readonly limits: EndpointLimits;
  private closed = false;
  /** Upgrades accepted but not yet connected, so a burst cannot slip past maxConnections. */
  private upgrading = 0;

  constructor(
    private readonly server: Server,
    private readonly opts: EndpointOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: this.limits.maxPayload });
    this.wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
      try {
        this.onConnection(ws, req);
      } catch (err) {
        this.opts.onWarning?.(`Perspective client ${addressOf(req)}: ${(err as Error)?.message ?? err}`);
        ws.terminate();
      }
    });
    this.wss.on("error", (err) => this.opts.onWarning?.(`Perspective WebSocket: ${err.message}`));
  }

  get path(): string {
    return this.opts.path;
  }

  warn(message: string): void {
    this.opts.onWarning?.(message);
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => undefined);
    let auth: AuthResult = { ok: true };
    if (this.opts.authorize) {
      try {
        auth = await this.opts.authorize(req);
      } catch (err) {
        this.opts.onWarning?.(`authorisation check failed: ${(err as Error).message}`);
        auth = { ok: false, status: 503 };
      }
    }
    if (this.closed) return refuse(socket, 503);
    if (!auth.ok) return refuse(socket, auth.status, auth.headers);
    const full = this.wss.clients.size + this.upgrading >= this.limits.maxConnections;
    this.upgrading++;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.upgrading--;
      if (full) {
        // Accepted only to say why: a browser sees the close reason, not just a failed upgrade.
        ws.close(CLOSE.TRY_LATER, `too many clients (limit ${this.limits.maxConnections})`);
        return;
      }
      this.wss.emit("connection", ws, req);
    });
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const client = new ClientSession(ws, addressOf(req), this.opts, this.limits);
    this.opts.onClientsChanged?.(this.clients);
    ws.on("close", () => {
      try {
        client.close();
        this.opts.onClientsChanged?.(this.clients);
      } catch (err) {
        this.opts.onWarning?.(`Perspective client ${client.address}: closing failed: ${(err as Error)?.message ?? err}`);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entry = servers.get(this.server);
    if (entry && entry.paths.get(this.opts.path) === this) {
      entry.paths.delete(this.opts.path);
      if (entry.paths.size === 0) {
        this.server.off("upgrade", entry.listener);
        servers.delete(this.server);
      }
    }
    // ws 8 no longer drops open clients on close(): terminate them, which also closes their sessions.
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function addressOf(req: IncomingMessage): string {
  const s = req.socket;
  const a = s?.remoteAddress ?? "unknown";
  return a.includes(":") ? `[${a}]:${s?.remotePort ?? ""}` : `${a}:${s?.remotePort ?? ""}`;
}

/** A view a client made: its table, and what letting it go from the engine needs. */
interface ClientView {
  table: string;
  /** A flat view of the whole table (what a replicating page makes). */
  whole: boolean;
  /** The body of its table_make_view, to make it again. */
  makeBody?: Uint8Array;
  /** Released from the engine: the client's deltas come from the table's shared view (fanout.ts). */
  detached: boolean;
  /** The client asked to hear of its deletion: an engine-side delete would tell it, so it is never released. */
  watchesDelete: boolean;
}

/**
 * One browser: its engine session, the allowlist, its limits, its views and requests in flight.
 *
 * A replicating page keeps its flat view only for one snapshot: its deltas come from the table's shared view.
 * Held in the engine, each such view is computed again on every update of its table (100 pages: 100 views, the
 * engine thread's 0.35 core, and the shared delta's wait behind them). So once a whole-table view with a shared
 * subscription has sent its snapshot, the engine deletes it; the page is not told. The page's later requests on it
 * are answered here (delete, on_update, remove_update), or the view is made again first (anything else).
 */
class ClientSession {
  private readonly session: HostSession;
  /** Views by id. */
  private readonly views = new Map<string, ClientView>();
  /** msg_ids of the requests this endpoint sent the engine itself: their replies are not the client's. */
  private readonly own = new Set<number>();
  /** Counted down from the top of the u32 range (the JS client draws its ids at random; a clash is skipped). */
  private nextOwnId = 0xffffffff;
  /** to_arrow requests (msg_id -> view id) whose reply releases their view from the engine. */
  private readonly releaseAfter = new Map<number, string>();
  /** on_update subscriptions served from the table's shared deltas (fanout.ts), by their msg_id. */
  private readonly deltaSubs = new Map<number, { viewId: string; off: () => void }>();
  private readonly inFlight = new Map<number, { kind: number; at: number }>();
  private warned = false;
  private suppressed = 0;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    readonly address: string,
    private readonly opts: EndpointOptions,
    private readonly limits: EndpointLimits,
  ) {
    this.session = opts.host.openSession(
      (buf) => this.guard(() => this.onResponse(buf)),
      () => this.guard(() => this.drop(CLOSE.RESTART, "Perspective engine restarted, reconnect", this.lostWhat())),
    );
    ws.on("message", (data, isBinary) => this.guard(() => this.onMessage(data, isBinary)));
    ws.on("error", (err) => this.warn(`socket error: ${err.message}`));
  }

  /** Runs a callback of this client so that nothing it throws reaches Node-RED. */
  private guard(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.warn(`${(err as Error)?.message ?? err}`);
      this.drop(CLOSE.POLICY, "internal error");
    }
  }

  /**
   * The first problem of a client is logged with its address; later ones are counted and summed up at close.
   * Why a client was cut off is always logged (it happens once per client).
   */
  private warn(message: string, always = false): void {
    if (this.warned && !always) {
      this.suppressed++;
      return;
    }
    this.warned = true;
    this.opts.onWarning?.(`Perspective client ${this.address}: ${message}`);
  }

  private send(buf: Uint8Array): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    // Judged on what is still unsent before this frame, so a single snapshot larger than the bound (a big
    // table) still goes to a client that reads.
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      // Not reading its socket: queueing more would grow Node-RED's memory for it. Drop it, nobody waits.
      this.drop(CLOSE.POLICY, "not reading (send buffer full)", `dropped: ${ws.bufferedAmount} bytes unsent (limit ${this.limits.maxBufferedBytes})`);
      return;
    }
    ws.send(buf);
  }

  private onResponse(buf: Uint8Array): void {
    if (this.inFlight.size === 0 && this.own.size === 0) return this.send(buf);
    const id = readMsgId(buf);
    if (id === undefined) return this.send(buf);
    // The reply to one of our own requests (an error included: the view may be gone with its table).
    if (this.own.delete(id)) return;
    this.inFlight.delete(id);
    this.send(buf);
    const release = this.releaseAfter.get(id);
    if (release !== undefined) {
      this.releaseAfter.delete(id);
      this.release(release);
    }
  }

  /** Sends the engine a request of our own on this client's session; its reply is dropped. */
  private ownRequest(entityId: string, kind: number, body?: Uint8Array): void {
    let id = this.nextOwnId--;
    while (this.inFlight.has(id) || this.deltaSubs.has(id)) id = this.nextOwnId--;
    this.own.add(id);
    this.session.handle_request(encodeRequest(id, entityId, kind, body));
  }

  private sharesDeltas(viewId: string): boolean {
    for (const s of this.deltaSubs.values()) if (s.viewId === viewId) return true;
    return false;
  }

  /** The snapshot is out: the view goes from the engine (requests of the client queued before this still find it). */
  private release(viewId: string): void {
    const v = this.views.get(viewId);
    if (!v || v.detached || !v.whole || v.watchesDelete || !this.sharesDeltas(viewId)) return;
    v.detached = true;
    this.ownRequest(viewId, KIND.VIEW_DELETE);
  }

  /** The client asks the engine something of a released view: the same view is made again first. */
  private reattach(viewId: string): void {
    const v = this.views.get(viewId);
    if (!v?.detached || !v.makeBody) return;
    v.detached = false;
    this.ownRequest(v.table, KIND.MAKE_VIEW, v.makeBody);
  }

  private refuse(header: RequestHeader | undefined, reason: string): void {
    this.warn(`refused: ${reason}`);
    if (header) this.send(encodeServerError(header, reason));
    else this.drop(CLOSE.POLICY, "malformed request", reason);
  }

  private onMessage(data: unknown, isBinary: boolean): void {
    if (this.ended) return;
    if (!isBinary) {
      this.drop(CLOSE.UNSUPPORTED, "binary Perspective protocol expected");
      return;
    }
    const buf = toBytes(data);
    const verdict = checkRequest(buf, { serverViews: this.opts.serverViews });
    if (!verdict.allow) return this.refuse(verdict.header, verdict.reason);
    const h = verdict.header;
    // Its reply could not be told from ours (ids are random u32s: about one honest clash in 4 billion).
    if (this.own.has(h.msgId)) return this.refuse(h, `${requestName(h.kind)}: message id ${h.msgId} is in use, send it with another`);
    if (h.kind === KIND.MAKE_VIEW) {
      const id = h.viewId ?? "";
      // Two views under one id make the engine's session close throw (3.8.0); one id, one view.
      if (this.views.has(id)) return this.refuse(h, `table_make_view: the view id "${id.slice(0, 64)}" is already in use`);
      if (this.views.size >= this.limits.maxViews) return this.refuse(h, `table_make_view: too many views (limit ${this.limits.maxViews} per connection)`);
      const whole = h.wholeTable === true;
      this.views.set(id, { table: h.entityId, whole, makeBody: whole ? h.makeViewBody : undefined, detached: false, watchesDelete: false });
    } else if (h.kind === KIND.VIEW_DELETE) {
      const released = this.views.get(h.entityId)?.detached === true;
      this.views.delete(h.entityId);
      for (const [msgId, s] of this.deltaSubs) {
        if (s.viewId !== h.entityId) continue;
        s.off();
        this.deltaSubs.delete(msgId);
      }
      // Already gone from the engine: the reply the engine would give.
      if (released) return this.send(encodeEmptyResponse(encodeResponsePrefix(h.msgId, h.entityId), KIND.VIEW_DELETE));
    } else if (h.kind === KIND.VIEW_ON_UPDATE && h.rowMode) {
      const view = this.views.get(h.entityId);
      if (view?.whole) return this.subscribeShared(h, view.table);
    } else if (h.kind === KIND.VIEW_REMOVE_ON_UPDATE && h.removeId !== undefined && this.deltaSubs.has(h.removeId)) {
      const s = this.deltaSubs.get(h.removeId)!;
      s.off();
      this.deltaSubs.delete(h.removeId);
      this.send(encodeEmptyResponse(encodeResponsePrefix(h.msgId, h.entityId), KIND.VIEW_REMOVE_ON_UPDATE));
      return;
    }
    if (!isSubscription(h)) {
      if (this.inFlight.size >= this.limits.maxInFlight) {
        return this.refuse(h, `${requestName(h.kind)}: too many requests in flight (limit ${this.limits.maxInFlight} per connection)`);
      }
      this.inFlight.set(h.msgId, { kind: h.kind!, at: Date.now() });
    }
    const view = this.views.get(h.entityId);
    if (view) {
      if (h.kind === KIND.VIEW_ON_DELETE) view.watchesDelete = true;
      this.reattach(h.entityId);
      // Whether it may go is decided by release() when the reply is out.
      if (h.kind === KIND.VIEW_TO_ARROW) this.releaseAfter.set(h.msgId, h.entityId);
    }
    this.session.handle_request(buf);
  }

  /**
   * A row-mode on_update of a whole-table flat view: answered from the table's shared deltas, in the frames
   * the engine would have sent this client (no reply now: the engine sends none either).
   */
  private subscribeShared(h: RequestHeader, table: string): void {
    if (this.deltaSubs.has(h.msgId)) return this.refuse(h, `view_on_update: the message id ${h.msgId} is already a subscription`);
    if (this.deltaSubs.size >= this.limits.maxViews) {
      return this.refuse(h, `view_on_update: too many subscriptions (limit ${this.limits.maxViews} per connection)`);
    }
    const prefix = encodeResponsePrefix(h.msgId, h.entityId);
    const off = this.session.subscribeDeltas(table, {
      deliver: (delta, port) => this.guard(() => this.send(encodeUpdateResponse(prefix, delta, port))),
    });
    this.deltaSubs.set(h.msgId, { viewId: h.entityId, off });
  }

  /** What this client was waiting for, longest first: the likely cause of an engine restart. */
  private lostWhat(): string | undefined {
    const oldest = [...this.inFlight.values()].sort((a, b) => a.at - b.at)[0];
    return oldest ? `engine restarted while its ${requestName(oldest.kind)} had run ${Date.now() - oldest.at} ms` : undefined;
  }

  private drop(code: number, reason: string, log?: string): void {
    if (this.ended) return;
    if (log) this.warn(log, true);
    this.close();
    const ws = this.ws;
    if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) {
      // The close frame waits behind unsent data; a client that does not read is cut off at once.
      if (code === CLOSE.POLICY && reason.startsWith("not reading")) ws.terminate();
      else ws.close(code, reason);
    }
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.session.close();
    if (this.suppressed > 0) this.opts.onWarning?.(`Perspective client ${this.address}: ${this.suppressed} more problem(s) not logged`);
  }
}

function toBytes(data: unknown): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Buffer[]));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const b = data as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Serves `opts.host` over WebSocket at `opts.path` on `server`. Throws if another endpoint has that path.
 * `owned`: the server was created for Perspective alone, so upgrades for other paths are refused with 404
 * instead of being left for another listener.
 */
export function attachEndpoint(server: Server, opts: EndpointOptions, owned = false): Endpoint {
  let entry = servers.get(server);
  if (entry?.paths.has(opts.path)) throw new Error(`the WebSocket path ${opts.path} is already in use`);
  if (!entry) {
    const paths = new Map<string, EndpointImpl>();
    const e: ServerEntry = {
      paths,
      owned,
      listener: (req, socket, head) => {
        const path = pathnameOf(req);
        const ep = path === undefined ? undefined : paths.get(path);
        if (ep) {
          ep.handleUpgrade(req, socket, head).catch((err: Error) => {
            ep.warn(`upgrade failed: ${err?.message ?? err}`);
            socket.destroy();
          });
        }
        else if (e.owned) refuse(socket, 404);
        // Otherwise: not ours. Another listener (Node-RED's comms, a websocket node) owns it.
      },
    };
    entry = e;
    servers.set(server, entry);
    server.on("upgrade", entry.listener);
  }
  const ep = new EndpointImpl(server, opts);
  entry.paths.set(opts.path, ep);
  return ep;
}
