// The WebSocket endpoint of a Perspective host on an existing http.Server (Node-RED's own, or one of ours):
// one `upgrade` listener per server, exact path match, every other upgrade request left alone for its owner
// (Node-RED's editor comms, websocket nodes, other packages). One Perspective session per socket, closed with
// the socket; browser sessions are read-only (protocol.ts).
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { PerspectiveHost } from "./host";
import { checkReadOnly, encodeServerError } from "./protocol";

export type AuthResult = { ok: true } | { ok: false; status: number; headers?: Record<string, string> };

export interface EndpointOptions {
  /** Exact URL path of the endpoint, e.g. "/perspective/ws". */
  path: string;
  host: PerspectiveHost;
  /** Refuse requests that change or create tables (default true). */
  readOnly?: boolean;
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

class EndpointImpl implements Endpoint {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private closed = false;

  constructor(
    private readonly server: Server,
    private readonly opts: EndpointOptions,
  ) {
    this.wss.on("connection", (ws) => this.onConnection(ws));
  }

  get path(): string {
    return this.opts.path;
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  private onConnection(ws: WebSocket): void {
    const send = (buf: Uint8Array): void => {
      if (ws.readyState === ws.OPEN) ws.send(buf);
    };
    const session = this.opts.host.openSession(send);
    const readOnly = this.opts.readOnly !== false;
    this.opts.onClientsChanged?.(this.clients);
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        ws.close(1003, "binary Perspective protocol expected");
        return;
      }
      const buf = toBytes(data);
      if (readOnly) {
        const verdict = checkReadOnly(buf);
        if (!verdict.allow) {
          if (verdict.header) send(encodeServerError(verdict.header, verdict.reason));
          else ws.close(1008, "malformed request");
          return;
        }
      }
      session.handle_request(buf).catch((err: unknown) => {
        this.opts.onWarning?.(`Perspective request failed: ${(err as Error)?.message ?? err}`);
      });
    });
    ws.on("error", () => undefined);
    ws.on("close", () => {
      session.close();
      this.opts.onClientsChanged?.(this.clients);
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
        if (ep) void ep.handleUpgrade(req, socket, head);
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
