// Where a Perspective host is reachable: its WebSocket endpoint and viewer page, on Node-RED's own HTTP
// server under httpNodeRoot or on a port of its own. Shared by perspective-config (explicit hosts) and
// perspective-out (the implicit default host when no config node is chosen).
//
// Hostings live at module level, keyed by the host's key, and are reference-counted. A close without
// `removed` (a redeploy) keeps the endpoint for a few seconds, so the node re-created by the same deploy
// takes it over and browsers keep their connection and views; a removal closes it at once.
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest, Server as HttpsServer } from "node:https";
import type { Node, NodeAPI } from "node-red";
import { attachEndpoint, type AuthResult, type Endpoint, type EndpointLimits } from "../../lib/perspective/endpoint";
import { getHost, type PerspectiveHost } from "../../lib/perspective/host";
import { serveViewer } from "../../lib/perspective/viewer-files";
import { withTableHealth } from "../../lib/health/table-publishers";

export interface HostingSettings {
  /** Host key: the config node's id, or "default". */
  key: string;
  /** Base path of the page, e.g. "/perspective" (under httpNodeRoot on Node-RED's port). */
  path: string;
  /** Own port (0/undefined: Node-RED's port). */
  port?: number;
  /** Bind address for an own port (default: Node-RED's uiHost, else all interfaces). */
  bind?: string;
  /** Let browsers compute views on the server (default: they only replicate tables). */
  serverViews?: boolean;
  /** Per-client limits of the WebSocket (defaults: DEFAULT_LIMITS). */
  limits?: Partial<EndpointLimits>;
}

/**
 * Checks every request to a host must pass, on top of Node-RED's own, for as long as a user of the host holds
 * them (ui-perspective: Dashboard 2.0's own checks, so a browser the dashboard refuses is refused here too).
 */
export interface HostGuard {
  /** Express-style middleware run on the page, its files and config.json, and (through the auth probe) on every WebSocket upgrade. */
  http: Handler[];
  /** Decides a WebSocket upgrade after the HTTP checks passed. */
  upgrade?: (req: IncomingMessage) => Promise<AuthResult>;
  /**
   * A host on its own port: whether the page a request comes from (its Origin, another origin than the host's)
   * may read the host's files and table list (CORS).
   */
  readableFrom?: (req: IncomingMessage) => boolean;
}

export interface Hosting {
  readonly key: string;
  readonly host: Promise<PerspectiveHost>;
  /** Absolute URL path of the page and of the WebSocket on their server. */
  readonly pageUrlPath: string;
  readonly wsUrlPath: string;
  /** Clients currently connected. */
  clients(): number;
  /** Resolves once the endpoint is listening; rejects with the reason it could not start. */
  readonly ready: Promise<void>;
  release(removed: boolean): Promise<void>;
  /** Adds checks to this host until the returned function is called (HTTP checks: hosts on Node-RED's port only). */
  guard(g: HostGuard): () => void;
}

export const DEFAULT_PATH = "/perspective";
const LINGER_MS = 5000;

/** Normalises a base path: leading slash, no trailing slash, only safe characters. */
export function normalisePath(p: string | undefined): string {
  const s = (p ?? "").trim() || DEFAULT_PATH;
  const out = "/" + s.replace(/^\/+|\/+$/g, "");
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(out) || out.includes("//") || /(^|\/)\.\.?(\/|$)/.test(out) || out === "/") {
    throw new Error(`invalid path "${s}": use letters, digits and - . _ ~ / (for example /perspective)`);
  }
  return out;
}

interface Entry {
  sig: string;
  refs: number;
  linger?: NodeJS.Timeout;
  endpoint?: Endpoint;
  ownServer?: Server;
  ready: Promise<void>;
  hosting: Omit<Hosting, "release" | "guard">;
  routePath?: string;
  /** Guards and how many users hold each (widgets of one dashboard share one guard). */
  guards: Map<HostGuard, number>;
}

const entries = new Map<string, Entry>();
/** Route paths (relative to httpNodeRoot) -> key of the host served there, for the shared route handlers. */
const routeOwners = new Map<string, string>();
/** httpNode apps that already have our route for a path: routes are added once and dispatch dynamically. */
const installedRoutes = new WeakMap<object, Set<string>>();
const serverIds = new WeakMap<object, number>();
let nextServerId = 1;

function serverId(s: object): number {
  let id = serverIds.get(s);
  if (!id) serverIds.set(s, (id = nextServerId++));
  return id;
}

function nodeRoot(RED: NodeAPI): string | false {
  const root = RED.settings.httpNodeRoot as string | false | undefined;
  if (root === false) return false;
  return (root || "/").replace(/\/?$/, "/");
}

/** Whether Node-RED protects its HTTP nodes (httpNodeAuth or httpNodeMiddleware). */
export function authConfigured(RED: NodeAPI): boolean {
  return Boolean(RED.settings.httpNodeAuth || (RED.settings as { httpNodeMiddleware?: unknown }).httpNodeMiddleware);
}

const HOP_BY_HOP = new Set(["connection", "upgrade", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "proxy-connection"]);

/**
 * The same authentication Node-RED applies to its HTTP nodes (httpNodeAuth in front of httpNodeRoot,
 * httpNodeMiddleware on our routes), applied to a request that never reaches Express (a WebSocket upgrade,
 * or a request on our own port): the request's headers are replayed against our `<path>/auth` route on
 * Node-RED's server over loopback, and its answer decides.
 */
function loopbackAuthorizer(RED: NodeAPI, authUrlPath: string): (req: IncomingMessage) => Promise<AuthResult> {
  return (req) =>
    new Promise<AuthResult>((resolve, reject) => {
      const server = RED.server as unknown as Server;
      const addr = server.address();
      if (!addr || typeof addr === "string") return reject(new Error("Node-RED's HTTP server is not listening"));
      const host = addr.address === "::" || addr.address === "0.0.0.0" ? "127.0.0.1" : addr.address;
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k) && !k.startsWith("sec-websocket-")) headers[k] = v;
      }
      const secure = server instanceof HttpsServer;
      const r = (secure ? httpsRequest : httpRequest)(
        { host, port: addr.port, path: authUrlPath, method: "GET", headers, rejectUnauthorized: false, timeout: 5000 },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 500;
          if (status >= 200 && status < 300) return resolve({ ok: true });
          const out: Record<string, string> = {};
          const www = res.headers["www-authenticate"];
          if (www) out["WWW-Authenticate"] = Array.isArray(www) ? www[0] : www;
          resolve({ ok: false, status: status === 401 || status === 403 ? status : 403, headers: out });
        },
      );
      r.on("timeout", () => r.destroy(new Error("authorisation check timed out")));
      r.on("error", reject);
      r.end();
    });
}

export type Handler = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Runs middleware one after the other, as Express would: on to `next` once all passed, or stops where one answered or failed. */
function runChain(chain: Handler[], req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
  let i = 0;
  const step = (err?: unknown): void => {
    if (err !== undefined && err !== null) return next(err);
    const h = chain[i++];
    if (!h) return next();
    try {
      h(req, res, step);
    } catch (e) {
      next(e);
    }
  };
  step();
}

/** The HTTP checks of the guards of the host served at a route path (none when the path has no host). */
function guardsAt(routePath: string): Handler[] {
  const key = routeOwners.get(routePath);
  const entry = key === undefined ? undefined : entries.get(key);
  return entry ? [...entry.guards.keys()].flatMap((g) => g.http) : [];
}

function middlewareOf(RED: NodeAPI): Handler[] {
  const mw = (RED.settings as { httpNodeMiddleware?: Handler | Handler[] }).httpNodeMiddleware;
  if (typeof mw === "function") return [mw];
  if (Array.isArray(mw)) return mw;
  return [];
}

/** A URL path segment decoded, or undefined when its escapes are malformed. */
function decodePath(p: string): string | undefined {
  try {
    return decodeURIComponent(p);
  } catch {
    return undefined;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Adds (once per app and path) the route serving the page, its files, config.json and the auth probe. */
function installRoutes(RED: NodeAPI, routePath: string): void {
  const app = RED.httpNode as unknown as { get(path: RegExp, ...h: Handler[]): void };
  let set = installedRoutes.get(app);
  if (!set) installedRoutes.set(app, (set = new Set()));
  if (set.has(routePath)) return;
  set.add(routePath);
  const re = new RegExp(`^${escapeRegExp(routePath)}(?:/(.*))?$`);
  app.get(re, ...middlewareOf(RED), (req, res, next) => runChain(guardsAt(routePath), req, res, next), (req, res, next) => {
    const key = routeOwners.get(routePath);
    const entry = key === undefined ? undefined : entries.get(key);
    if (!entry) return next();
    const url = new URL(req.url ?? "/", "http://x");
    const m = re.exec(url.pathname);
    if (!m) return next();
    if (m[1] === undefined) {
      // The page loads its files by relative URL, so it must be addressed with its trailing slash.
      const original = new URL(req.originalUrl ?? req.url ?? "/", "http://x");
      res.writeHead(301, { Location: original.pathname + "/" + original.search });
      res.end();
      return;
    }
    if (m[1] === "auth") {
      res.writeHead(204);
      res.end();
      return;
    }
    const sub = decodePath(m[1]);
    if (sub === undefined) return next();
    void entry.hosting.host.then(
      (host) => {
        if (!serveViewer(req, res, sub, () => withTableHealth(entry.hosting.key, host.describe()))) next();
      },
      (err) => next(err),
    );
  });
}

/** The auth probe alone, for a host on its own port (its page is not served on Node-RED's port). */
function installAuthProbe(RED: NodeAPI, routePath: string): void {
  const app = RED.httpNode as unknown as { get(path: string, ...h: Handler[]): void };
  let set = installedRoutes.get(app);
  if (!set) installedRoutes.set(app, (set = new Set()));
  const key = `auth:${routePath}`;
  if (set.has(key) || set.has(routePath)) return;
  set.add(key);
  app.get(`${routePath}/auth`, ...middlewareOf(RED), (_req, res) => {
    res.writeHead(204);
    res.end();
  });
}

function settingsSig(RED: NodeAPI, s: HostingSettings): string {
  return JSON.stringify([s.path, s.port || 0, s.bind || "", nodeRoot(RED), serverId(RED.server), Boolean(s.serverViews), s.limits ?? {}]);
}

async function closeEntry(e: Entry): Promise<void> {
  if (e.linger) clearTimeout(e.linger);
  e.linger = undefined;
  if (e.routePath && routeOwners.get(e.routePath) === e.hosting.key) routeOwners.delete(e.routePath);
  await e.ready.catch(() => undefined);
  await e.endpoint?.close();
  if (e.ownServer) {
    const srv = e.ownServer;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }
}

function createEntry(RED: NodeAPI, s: HostingSettings, onWarning: (m: string) => void): Entry {
  const host = getHost(s.key);
  const own = Boolean(s.port);
  const root = nodeRoot(RED);
  const pageUrlPath = (own ? "" : root === false ? "" : root.replace(/\/$/, "")) + s.path + "/";
  const wsUrlPath = pageUrlPath + "ws";
  const entry: Entry = {
    sig: settingsSig(RED, s),
    refs: 0,
    ready: Promise.resolve(),
    guards: new Map(),
    hosting: {
      key: s.key,
      host,
      pageUrlPath,
      wsUrlPath,
      clients: () => entry.endpoint?.clients ?? 0,
      ready: Promise.resolve(),
    },
  };
  const loopback = root === false ? undefined : loopbackAuthorizer(RED, root.replace(/\/$/, "") + s.path + "/auth");
  // Decided per request: guards come and go with the widgets that use this host.
  const authorize = async (req: IncomingMessage): Promise<AuthResult> => {
    if (authConfigured(RED) || [...entry.guards.keys()].some((g) => g.http.length > 0)) {
      if (!loopback) return { ok: false, status: 403 };
      const a = await loopback(req);
      if (!a.ok) return a;
    }
    for (const g of entry.guards.keys()) {
      if (!g.upgrade) continue;
      const a = await g.upgrade(req);
      if (!a.ok) return a;
    }
    return { ok: true };
  };

  const endpointOptions = (h: PerspectiveHost) => {
    h.setWarningSink(onWarning);
    return { path: wsUrlPath, host: h, authorize, onWarning, serverViews: s.serverViews, limits: s.limits };
  };

  if (!own) {
    if (root === false) {
      entry.ready = Promise.reject(new Error("httpNodeRoot is false: Node-RED serves no HTTP nodes; set a port for the Perspective host"));
    } else {
      const owner = routeOwners.get(s.path);
      if (owner !== undefined && owner !== s.key && entries.has(owner)) {
        entry.ready = Promise.reject(new Error(`the path ${s.path} is already used by another Perspective host`));
      } else {
        routeOwners.set(s.path, s.key);
        entry.routePath = s.path;
        installRoutes(RED, s.path);
        entry.ready = host.then((h) => {
          entry.endpoint = attachEndpoint(RED.server as unknown as Server, endpointOptions(h));
        });
      }
    }
  } else {
    if (authConfigured(RED) && root !== false) installAuthProbe(RED, s.path);
    entry.ready = host.then(
      (h) =>
        new Promise<void>((resolve, reject) => {
          const srv = createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://x");
            const base = s.path;
            const notFound = (): void => {
              res.writeHead(404, { "Content-Type": "text/plain" });
              res.end("Not found");
            };
            if (url.pathname === base) {
              res.writeHead(301, { Location: base + "/" + url.search });
              res.end();
              return;
            }
            if (!url.pathname.startsWith(base + "/")) return notFound();
            const sub = decodePath(url.pathname.slice(base.length + 1));
            if (sub === undefined) return notFound();
            const serve = (): void => {
              if (!serveViewer(req, res, sub, () => withTableHealth(s.key, h.describe()))) notFound();
            };
            const origin = req.headers.origin;
            if (origin && [...entry.guards.keys()].some((g) => g.readableFrom?.(req))) {
              res.setHeader("Access-Control-Allow-Origin", origin);
            }
            res.setHeader("Vary", "Origin");
            if (!authConfigured(RED)) return serve();
            authorize(req).then(
              (a) => {
                if (a.ok) return serve();
                res.writeHead(a.status, a.headers ?? {});
                res.end();
              },
              () => {
                res.writeHead(503);
                res.end();
              },
            );
          });
          srv.once("error", reject);
          const bind = s.bind || (RED.settings as { uiHost?: string }).uiHost || undefined;
          srv.listen(s.port, bind, () => {
            srv.off("error", reject);
            srv.on("error", (err) => onWarning(`Perspective port ${s.port}: ${err.message}`));
            entry.ownServer = srv;
            entry.endpoint = attachEndpoint(srv, endpointOptions(h), true);
            resolve();
          });
        }),
    );
  }
  entry.ready.catch(() => undefined);
  (entry.hosting as { ready: Promise<void> }).ready = entry.ready;
  return entry;
}

/**
 * Takes a reference on the hosting for `s.key`, creating it (or re-creating it when its settings changed).
 * Call release() exactly once per acquire.
 */
export function acquireHosting(RED: NodeAPI, s: HostingSettings, onWarning: (m: string) => void): Hosting {
  let entry = entries.get(s.key);
  if (entry && entry.sig !== settingsSig(RED, s)) {
    entries.delete(s.key);
    const old = entry;
    void closeEntry(old);
    entry = undefined;
  }
  if (!entry) {
    entry = createEntry(RED, s, onWarning);
    entries.set(s.key, entry);
  }
  if (entry.linger) {
    clearTimeout(entry.linger);
    entry.linger = undefined;
  }
  entry.refs++;
  const e = entry;
  let released = false;
  return {
    ...e.hosting,
    guard: (g: HostGuard) => {
      // HTTP checks run behind Node-RED's own middleware, on its port (its auth probe for the WebSocket).
      if (g.http.length && s.port) throw new Error("HTTP checks can be added only to a host served on Node-RED's port");
      e.guards.set(g, (e.guards.get(g) ?? 0) + 1);
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        const n = (e.guards.get(g) ?? 1) - 1;
        if (n > 0) e.guards.set(g, n);
        else e.guards.delete(g);
      };
    },
    release: async (removed: boolean) => {
      if (released) return;
      released = true;
      e.refs--;
      if (e.refs > 0 || entries.get(s.key) !== e) return;
      if (removed) {
        entries.delete(s.key);
        await closeEntry(e);
        return;
      }
      // A redeploy: give the node that replaces this one the chance to take the endpoint over.
      e.linger = setTimeout(() => {
        if (e.refs === 0 && entries.get(s.key) === e) {
          entries.delete(s.key);
          void closeEntry(e);
        }
      }, LINGER_MS);
      e.linger.unref();
    },
  };
}

/** What perspective-out reads from its config node. */
export interface PerspectiveConfigNode extends Node {
  /** Undefined when the settings are invalid (the reason is in settingsError). */
  hostingSettings?: HostingSettings;
  settingsError?: string;
}

/** Port setting: empty or 0 means Node-RED's own port. */
export function parsePort(v: unknown): number | undefined {
  if (v === undefined || v === null || v === "" || v === 0 || v === "0") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid port "${v}": use 1-65535, or leave it empty for Node-RED's port`);
  return n;
}


/** A whole number in [min, max] from an editor field; empty means the default (undefined). */
function limitField(v: unknown, what: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`invalid ${what} "${v}": a whole number from ${min} to ${max}`);
  return n;
}

/** The per-client limits set on a perspective-config node (empty fields keep the defaults). */
export function parseLimits(c: {
  maxPayloadKb?: unknown;
  maxViews?: unknown;
  maxInFlight?: unknown;
  maxConnections?: unknown;
  maxBufferMb?: unknown;
}): Partial<EndpointLimits> {
  const out: Partial<EndpointLimits> = {};
  const kb = limitField(c.maxPayloadKb, "largest frame (KiB)", 1, 1024 * 1024);
  if (kb !== undefined) out.maxPayload = kb * 1024;
  const views = limitField(c.maxViews, "views per connection", 1, 100000);
  if (views !== undefined) out.maxViews = views;
  const inFlight = limitField(c.maxInFlight, "requests in flight", 1, 100000);
  if (inFlight !== undefined) out.maxInFlight = inFlight;
  const conns = limitField(c.maxConnections, "connections", 1, 1000000);
  if (conns !== undefined) out.maxConnections = conns;
  const mb = limitField(c.maxBufferMb, "send buffer (MiB)", 1, 64 * 1024);
  if (mb !== undefined) out.maxBufferedBytes = mb * 1024 * 1024;
  return out;
}
