// One port, like taosAdapter: GET /-/ping, POST /rest/sql[/:db], and the WebSocket upgrade on /ws
// (permessage-deflate accepted); plus the emulator-only GET /-/emulator/stats (write counters, for tests).
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { EmulatorCore } from "./core.js";
import { CODE, TdError } from "./errors.js";
import { restAffectedBody, restRowsBody } from "./rest-format.js";
import { WsSession } from "./ws-session.js";
import { TmqSession } from "./tmq/session.js";
import { parseZone, type Zone } from "./sql/zone.js";

export interface HttpServerHandle {
  server: http.Server | https.Server;
  sockets: Set<Socket>;
  wss: WebSocketServer;
  sessions: Set<WebSocket>;
}

/** Largest text frame accepted on /rest/tmq (a subscribe with many topics and options fits easily). */
export const TMQ_MAX_FRAME = 1 << 20;

function peerOf(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ? `${req.socket.remoteAddress}:${req.socket.remotePort ?? 0}` : "";
}

function restJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(body);
}

function restError(res: http.ServerResponse, status: number, code: number, desc: string, started: bigint): void {
  restJson(res, status, JSON.stringify({ code: code & 0xffff, desc, timing: Number(process.hrtime.bigint() - started) }));
}

function checkAuth(core: EmulatorCore, header: string | undefined, res: http.ServerResponse, started: bigint): boolean | "bad-credentials" {
  if (!header) {
    restError(res, 401, CODE.AUTH_NO_HEADER, "no auth info input", started);
    return false;
  }
  const sp = header.indexOf(" ");
  const scheme = sp > 0 ? header.slice(0, sp) : header;
  const value = sp > 0 ? header.slice(sp + 1).trim() : "";
  if (scheme.toLowerCase() !== "basic") {
    if (scheme.toLowerCase() === "taosd" || scheme.toLowerCase() === "bearer") return "bad-credentials";
    restError(res, 401, CODE.BAD_AUTH_TYPE, "invalid type of Authorization", started);
    return false;
  }
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (!value || colon <= 0) {
    restError(res, 401, CODE.BAD_BASIC, "invalid basic Authorization", started);
    return false;
  }
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return user === core.user && password === core.password ? true : "bad-credentials";
}

function handleRest(core: EmulatorCore, req: http.IncomingMessage, res: http.ServerResponse, db: string | null, url: URL): void {
  const started = process.hrtime.bigint();
  core.requests++;
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const auth = checkAuth(core, req.headers.authorization, res, started);
    if (auth === false) return;
    const reqId = url.searchParams.get("req_id");
    if (reqId !== null && reqId !== "" && !/^-?\d+$/.test(reqId)) return restError(res, 400, 0xffff, `illegal param, req_id must be numeric ${reqId}`, started);
    const rowWithMeta = url.searchParams.get("row_with_meta");
    if (rowWithMeta !== null && !["true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False", "T", "F"].includes(rowWithMeta))
      return restError(res, 400, 0xffff, `illegal param, row_with_meta must be boolean ${rowWithMeta}`, started);
    // conn_tz sets the connection zone (SQL timestamp strings) and renders; tz only renders. Bad zones are 400s.
    const connTz = url.searchParams.get("conn_tz") || null;
    const tz = connTz ?? (url.searchParams.get("tz") || null);
    let zone: Zone | undefined;
    try {
      if (tz) zone = parseZone(tz);
    } catch {
      return restError(res, 400, 0xffff, `illegal param, invalid timezone ${tz}`, started);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    if (body.length === 0) return restError(res, 400, CODE.EMPTY_BODY, "request is empty", started);
    const sql = body.trim();
    if (!sql) return restError(res, 400, CODE.NO_SQL, "no sql input", started);
    if (auth === "bad-credentials") return restError(res, 200, CODE.AUTH_FAILURE, "Authentication failure", started);
    const f = core.faults.takeFailure();
    const reply = (): void => {
      if (f) return restError(res, 200, f.code, f.message, started);
      const session = { db: null as string | null, tz: connTz };
      if (db) {
        try {
          core.engine.execute(`use \`${db}\``, session);
        } catch {
          // the adapter ignores errors of the implicit USE
        }
      }
      try {
        const r = core.engine.execute(sql, session);
        const timing = url.searchParams.get("timing") === "true" ? Number(process.hrtime.bigint() - started) : null;
        if (r.kind === "update") return restJson(res, 200, restAffectedBody(r.affectedRows, timing));
        return restJson(res, 200, restRowsBody(r.result, timing, zone));
      } catch (err) {
        const code = err instanceof TdError ? err.code : 0xffff;
        return restError(res, 200, code, err instanceof Error ? err.message : String(err), started);
      }
    };
    if (core.faults.delayMs > 0) setTimeout(reply, core.faults.delayMs);
    else reply();
  });
}

/** Emulator-only debug endpoint (not in taosAdapter): the counters of Emulator.stats() as JSON, Basic auth. */
function handleStats(core: EmulatorCore, req: http.IncomingMessage, res: http.ServerResponse, connections: number): void {
  const started = process.hrtime.bigint();
  const auth = checkAuth(core, req.headers.authorization, res, started);
  if (auth === false) return;
  if (auth === "bad-credentials") return restError(res, 401, CODE.AUTH_FAILURE, "Authentication failure", started);
  restJson(res, 200, JSON.stringify(core.stats(connections)));
}

export function createHttpServer(core: EmulatorCore, tls?: { key: string | Buffer; cert: string | Buffer }): HttpServerHandle {
  const sockets = new Set<Socket>();
  const sessions = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: 0x60000000 });
  // TMQ requests are small JSON; a larger frame closes the socket (1009) instead of being buffered.
  const tmqWss = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: TMQ_MAX_FRAME });
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path === "/-/ping" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200);
      res.end();
      return;
    }
    if (path === "/-/emulator/stats" && req.method === "GET") return handleStats(core, req, res, sessions.size);
    const m = /^\/rest\/sql(?:\/([^/]+))?\/?$/.exec(path);
    if (m && req.method === "POST") return handleRest(core, req, res, m[1] ? decodeURIComponent(m[1]) : null, url);
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("404 page not found");
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);
  server.on("connection", (s: Socket) => {
    if (core.faults.refusing()) {
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/rest/tmq") {
      tmqWss.handleUpgrade(req, socket, head, (ws) => {
        sessions.add(ws);
        ws.on("close", () => sessions.delete(ws));
        new TmqSession(ws, core, core.tmq).peer = peerOf(req);
      });
      return;
    }
    if (path !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sessions.add(ws);
      ws.on("close", () => sessions.delete(ws));
      new WsSession(ws, core).peer = peerOf(req);
    });
  });
  server.on("close", () => tmqWss.close());
  return { server, sockets, wss, sessions };
}
