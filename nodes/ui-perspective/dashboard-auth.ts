// Dashboard 2.0's own access checks, as checks on the Perspective host a ui-perspective widget reads from, so
// that a browser the dashboard refuses is refused by the widget's data connection too. Dashboard 2.0 (1.31)
// protects itself with (besides httpNodeAuth / httpNodeMiddleware, which the host applies already):
// - `dashboard.middleware` in settings.js (Express middleware, one or a list) on every HTTP request to the
//   dashboard: here on the host's page, files and config.json, and on its WebSocket upgrades;
// - `dashboard.ioMiddleware` (socket.io middleware, one or a list) on its socket.io connections, or, when none
//   is set, a refusal of cross-origin ones: here on the host's WebSocket upgrades.
// (Its plugin hooks, onIsValidConnection and the like, choose which open connection gets which message; they
// decide no connection, so there is nothing of theirs to apply to a replication socket.)
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AuthResult } from "../../lib/perspective/endpoint";
import type { Handler, HostGuard } from "../perspective-config/hosting";

/** Dashboard 2.0's settings and middleware, as its ui-base keeps them in its shared state. */
export interface DashboardAuthState {
  settings?: { middleware?: unknown; ioMiddleware?: unknown } | null;
}

type IoNext = (err?: unknown) => void;
type IoMiddleware = (socket: object, next: IoNext) => void;

const IO_CHECK_TIMEOUT_MS = 5000;
/** Refusals are logged at most this often (a client retrying must not flood the log); the rest are counted. */
const WARN_EVERY_MS = 10000;

function list<T>(v: unknown): T[] {
  if (typeof v === "function") return [v as T];
  if (Array.isArray(v)) return v.filter((f) => typeof f === "function") as T[];
  return [];
}

/**
 * Whether a browser's request comes from another origin than the one it is sent to: its Origin against its Host,
 * or the Host a reverse proxy says it forwarded (X-Forwarded-Host: a page of another site cannot make a browser
 * send that header with a WebSocket).
 */
export function crossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return true;
  }
  const forwarded = String(req.headers["x-forwarded-host"] ?? "").split(",")[0].trim().toLowerCase();
  return host !== String(req.headers.host ?? "").toLowerCase() && host !== forwarded;
}

/**
 * What a socket.io middleware reads of a connection (socket.request, socket.handshake, ...), built from the
 * WebSocket upgrade request. `handshake.xdomain` says whether the request is cross-origin (a browser always sends
 * an Origin with a WebSocket, so socket.io's "has an Origin" would call every one cross-domain).
 */
function socketLike(req: IncomingMessage, onClose: () => void): object {
  const url = new URL(req.url ?? "/", "http://x");
  const conn = { request: req, remoteAddress: req.socket?.remoteAddress, close: onClose };
  const socket = {
    id: `perspective-${Math.random().toString(36).slice(2)}`,
    request: req,
    conn,
    client: { conn, request: req },
    data: {},
    handshake: {
      headers: req.headers,
      time: new Date().toString(),
      address: req.socket?.remoteAddress,
      xdomain: crossOrigin(req),
      secure: Boolean((req.socket as TLSSocket | undefined)?.encrypted),
      issued: Date.now(),
      url: req.url,
      query: Object.fromEntries(url.searchParams),
      auth: {},
    },
    disconnect: () => {
      onClose();
      return socket;
    },
  };
  return socket;
}

/** Runs Dashboard 2.0's socket.io middleware on an upgrade; refused when one fails, closes the socket, throws or never answers. */
function ioCheck(chain: IoMiddleware[], onWarning: (m: string) => void): (req: IncomingMessage) => Promise<AuthResult> {
  let lastWarnAt = 0;
  let unsaid = 0;
  const warn = (why: string): void => {
    const now = Date.now();
    if (now - lastWarnAt < WARN_EVERY_MS) {
      unsaid++;
      return;
    }
    lastWarnAt = now;
    const more = unsaid ? ` (and ${unsaid} more since the last report)` : "";
    unsaid = 0;
    onWarning(`Dashboard 2.0's ioMiddleware refused a Perspective connection: ${why}${more}`);
  };
  return (req) =>
    new Promise<AuthResult>((resolve) => {
      let settled = false;
      const finish = (r: AuthResult, why?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (why) warn(why);
        resolve(r);
      };
      const timer = setTimeout(() => finish({ ok: false, status: 503 }, `no answer within ${IO_CHECK_TIMEOUT_MS / 1000} s`), IO_CHECK_TIMEOUT_MS);
      const socket = socketLike(req, () => finish({ ok: false, status: 403 }));
      let i = 0;
      const step: IoNext = (err) => {
        if (settled) return;
        if (err !== undefined && err !== null) return finish({ ok: false, status: 403 }, (err as Error)?.message ?? String(err));
        const mw = chain[i++];
        if (!mw) return finish({ ok: true });
        try {
          mw(socket, step);
        } catch (e) {
          finish({ ok: false, status: 403 }, (e as Error)?.message ?? String(e));
        }
      };
      step();
    });
}

/** Dashboard 2.0's default socket check: no connection from another origin. */
async function sameOriginOnly(req: IncomingMessage): Promise<AuthResult> {
  return crossOrigin(req) ? { ok: false, status: 403 } : { ok: true };
}

/**
 * The checks Dashboard 2.0 applies to its own page and socket, for the host a widget reads from. `state` is
 * the dashboard's shared state (ui-base's uiShared, whose settings are settings.js's `dashboard`, else `ui`);
 * `settings` is RED.settings, read the same way when the dashboard offers no state.
 */
export function dashboardGuard(state: DashboardAuthState | null | undefined, settings: Record<string, unknown>, onWarning: (m: string) => void): HostGuard {
  const own = (settings.dashboard ?? settings.ui ?? {}) as { middleware?: unknown; ioMiddleware?: unknown };
  const dashSettings = state?.settings ?? own;
  // The dashboard uses this setting as its HTTP middleware (else a no-op, which needs no replay here).
  const http = list<Handler>(dashSettings.middleware);
  const io = list<IoMiddleware>(dashSettings.ioMiddleware);
  return { http, upgrade: io.length ? ioCheck(io, onWarning) : sameOriginOnly };
}
