// A widget fed by a Perspective host on a port of its own: another origin than the dashboard's page. The browser
// then reads the host's files and table list cross-origin (allowed, by CORS, to pages of this Node-RED only) and
// opens its WebSocket there (accepted from pages of this Node-RED only: Dashboard 2.0 refuses cross-origin
// sockets). A browser sends no sign-in to another origin, so this works only where nothing is signed in to.
import type { IncomingMessage, Server } from "node:http";
import { Server as HttpsServer } from "node:https";
import type { NodeAPI } from "node-red";
import { authConfigured, type HostGuard } from "../perspective-config/hosting";
import { crossOrigin, type DashboardAuthState } from "./dashboard-auth";

/**
 * Why a host on its own port cannot feed a widget here (a short form for the status, and the whole reason), or
 * undefined when it can. `state` is Dashboard 2.0's shared state (its settings), `settings` RED.settings.
 */
export function ownPortRefusal(RED: NodeAPI, state: DashboardAuthState | null | undefined, settings: Record<string, unknown>): { short: string; text: string } | undefined {
  const advice = "choose a host served on Node-RED's port (an empty port)";
  if (RED.server instanceof HttpsServer) {
    return {
      short: "own-port host: the dashboard is HTTPS",
      text: `the Perspective host has a port of its own, served over plain HTTP, and the dashboard is HTTPS: the browser would block it; ${advice}`,
    };
  }
  const dash = (state?.settings ?? settings.dashboard ?? settings.ui ?? {}) as { middleware?: unknown; ioMiddleware?: unknown };
  if (authConfigured(RED) || dash.middleware || dash.ioMiddleware) {
    return {
      short: "own-port host: the dashboard signs in",
      text:
        "the Perspective host has a port of its own, another origin than the dashboard's, and the dashboard is protected " +
        `(httpNodeAuth, httpNodeMiddleware or Dashboard 2.0's middleware): the browser would not send it the dashboard's sign-in; ${advice}`,
    };
  }
  return undefined;
}

/** Node-RED's listening port (the dashboard's), or undefined before it listens. */
function nodeRedPort(RED: NodeAPI): number | undefined {
  const addr = (RED.server as unknown as Server | undefined)?.address?.();
  return addr && typeof addr === "object" ? addr.port : undefined;
}

/**
 * Whether a request to the host's own port comes from a page of this Node-RED: an http Origin with the host
 * name the request was sent to and Node-RED's port. No Origin at all: not a browser page (as for the dashboard).
 */
export function fromNodeRed(RED: NodeAPI, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    const o = new URL(origin);
    const host = new URL(`http://${req.headers.host ?? ""}`);
    const port = o.port ? Number(o.port) : 80;
    return o.protocol === "http:" && o.hostname.toLowerCase() === host.hostname.toLowerCase() && port === nodeRedPort(RED);
  } catch {
    return false;
  }
}

/** The checks on a host on its own port while a widget reads from it: pages of this Node-RED only. */
export function ownPortGuard(RED: NodeAPI): HostGuard {
  return {
    http: [],
    upgrade: async (req) => (!crossOrigin(req) || fromNodeRed(RED, req) ? { ok: true } : { ok: false, status: 403 }),
    readableFrom: (req) => fromNodeRed(RED, req),
  };
}
