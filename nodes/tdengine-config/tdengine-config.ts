// tdengine-config: owns one shared TDengine connection (lib/tdengine-connection) for the nodes that use it,
// implements nodes/shared/tdengine-config-api.ts, logs one line per connection state change, and offers the
// editor's "Test connection" button an admin endpoint. The password and token are Node-RED credentials of
// type password: never in flows.json, never in a log line, status or error text.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { openClient, quoteIdentifier } from "../../lib/tdengine";
import type { ClientOptions } from "../../lib/tdengine/api";
import { displayUrl, redactSecrets, SharedConnection, type ConnectionStatus } from "../../lib/tdengine-connection";
import type { TdengineConfigNode } from "../shared/tdengine-config-api";

interface ConfigDef extends NodeDef {
  url?: string;
  database?: string;
  timeout?: string | number;
  maxBackoff?: string | number;
}

interface Credentials {
  user?: string;
  password?: string;
  token?: string;
}

const DEFAULT_URL = "ws://127.0.0.1:6041";
const DEFAULT_TIMEOUT_MS = 10000;
const DEFAULT_MAX_BACKOFF_MS = 30000;
/** Node-RED waits 15 s for close handlers; users flush first, the connection closes after them. */
const CLOSE_WAIT_MS = 13000;
/** TDengine's "Database not exist" error code. */
const DATABASE_NOT_EXIST = 0x0388;
/** What the editor sends in place of a stored password it never received. */
const PASSWORD_PLACEHOLDER = "__PWRD__";

function positive(v: unknown, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * Where a URL sends credentials: scheme and host:port. Stored secrets may only go where the saved URL points;
 * a dialog that names another server (or plain ws:// instead of wss://) must carry the secrets typed again.
 */
function destination(url: string): string | undefined {
  try {
    const u = new URL(url.trim() || DEFAULT_URL);
    const scheme = u.protocol === "http:" ? "ws:" : u.protocol === "https:" ? "wss:" : u.protocol;
    return `${scheme}//${u.host.toLowerCase()}`;
  } catch {
    return undefined;
  }
}

/** Checks the URL scheme; throws a readable error. */
function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL (expected ws://host:6041 or wss://host)`);
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new Error(`URL must start with ws:// or wss://, not ${u.protocol}//`);
  if (u.username || u.password) throw new Error("put the user and password in the credential fields, not in the URL");
  return url;
}

/**
 * The default database is not sent in `conn`: taosAdapter refuses a connection to a database that does not exist
 * yet, and tdengine-write may be about to create it. Nodes qualify every name with the database instead.
 */
function clientOptions(url: string, timeoutMs: number, creds: Credentials): ClientOptions {
  return {
    url: checkUrl(url),
    user: creds.user || undefined,
    password: creds.password || undefined,
    token: creds.token || undefined,
    timeoutMs,
  };
}

export = function (RED: NodeAPI): void {
  // The saved URL of each deployed config node, for the Test connection endpoint (see destination()).
  const savedUrls = new Map<string, string>();

  function TdengineConfig(this: TdengineConfigNode & { credentials: Credentials }, config: ConfigDef): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: TdengineConfigNode & { credentials: Credentials }, config: ConfigDef): void {
    const creds: Credentials = node.credentials ?? {};
    const secrets = [creds.password, creds.token];
    const url = (config.url ?? "").trim() || DEFAULT_URL;
    savedUrls.set(node.id, url);
    const shownUrl = displayUrl(url);
    const timeoutMs = positive(config.timeout, DEFAULT_TIMEOUT_MS);
    const redact = (e: Error): Error => {
      const m = redactSecrets(e.message, secrets);
      if (m === e.message) return e;
      const copy = new Error(m);
      copy.name = e.name;
      return Object.assign(copy, { kind: (e as { kind?: unknown }).kind, code: (e as { code?: unknown }).code, retryable: (e as { retryable?: unknown }).retryable });
    };

    let options: ClientOptions | undefined;
    let configError: Error | undefined;
    try {
      options = clientOptions(url, timeoutMs, creds);
    } catch (e) {
      configError = e as Error;
      node.error(RED._("tdengine-config.errors.config", { message: configError.message }));
    }

    const connection = new SharedConnection({
      open: async () => {
        if (!options) throw configError;
        try {
          return await openClient(options);
        } catch (e) {
          throw redact(e as Error);
        }
      },
      backoff: { initialMs: 250, maxMs: positive(config.maxBackoff, DEFAULT_MAX_BACKOFF_MS) },
      defaultWaitMs: timeoutMs,
    });

    // One log line per state change, never per retry (SharedConnection only reports changes).
    connection.onState((s) => {
      if (s.state === "connected") node.log(RED._("tdengine-config.log.connected", { url: shownUrl }));
      else if (s.state === "disconnected") node.warn(RED._("tdengine-config.log.disconnected", { url: shownUrl, message: s.error ? redact(s.error).message : "" }));
      else if (s.state === "closed") node.log(RED._("tdengine-config.log.closed", { url: shownUrl }));
    });

    Object.defineProperty(node, "database", { value: (config.database ?? "").trim(), enumerable: true });
    Object.defineProperty(node, "connectionStatus", {
      get: (): ConnectionStatus => {
        const s = connection.status;
        return s.error ? { state: s.state, error: redact(s.error) } : s;
      },
      enumerable: true,
    });
    node.register = (user: Node) => connection.acquire(user);
    node.deregister = (user: Node) => connection.release(user);
    node.getClient = (wait?: number) =>
      connection.getClient(wait).catch((e: Error) => {
        throw redact(e);
      });
    node.onState = (listener) =>
      connection.onState((s) => listener(s.error ? { state: s.state, error: redact(s.error) } : s));

    node.on("close", (removed: boolean, done: () => void) => {
      if (removed) savedUrls.delete(node.id);
      // Users flush their buffers in their own close handlers (run in parallel with this one); the socket is
      // closed once they have deregistered, or after CLOSE_WAIT_MS at the latest.
      void connection
        .whenUnused(CLOSE_WAIT_MS)
        .then(() => connection.close())
        .catch(() => undefined)
        .then(() => done());
    });
  }

  RED.nodes.registerType("tdengine-config", TdengineConfig as unknown as (this: Node, c: NodeDef) => void, {
    credentials: {
      user: { type: "text" },
      password: { type: "password" },
      token: { type: "password" },
    },
  });

  // "Test connection" from the editor, with the dialog's unsaved values. Guarded like any admin write, and JSON
  // only: a cross-site HTML form (urlencoded, multipart or text/plain, no CORS preflight) must not trigger it
  // where adminAuth is off.
  RED.httpAdmin.post(
    "/tdengine-config/:id/test",
    RED.auth.needsPermission("tdengine-config.write"),
    (req: Request, res: Response) => {
      if (!req.is("application/json")) {
        res.status(415).json({ ok: false, error: "Test connection accepts application/json requests only" });
        return;
      }
      const id = String(req.params.id);
      void testConnection(RED, id, savedUrls.get(id), (req.body ?? {}) as Record<string, unknown>).then((reply) => res.json(reply));
    },
  );
};

interface TestReply {
  ok: boolean;
  serverVersion?: string;
  /** Connected, but the default database is unusable (e.g. not created yet). */
  warning?: string;
  error?: string;
}

async function testConnection(RED: NodeAPI, id: string, savedUrl: string | undefined, body: Record<string, unknown>): Promise<TestReply> {
  const deployed = RED.nodes.getNode(id) as unknown as (Node & { credentials?: Credentials }) | null;
  const stored: Credentials = (RED.nodes.getCredentials(id) as Credentials | undefined) ?? deployed?.credentials ?? {};
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const url = (str(body.url) ?? "").trim() || DEFAULT_URL;
  try {
    checkUrl(url);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  // Stored secrets go only to the server the saved URL names, never to one the request names.
  const sameServer = savedUrl !== undefined && destination(url) !== undefined && destination(url) === destination(savedUrl);
  let refused: string | undefined;
  // The editor never receives a stored secret: a placeholder or an absent field means "use the stored one".
  const secret = (v: unknown, keep: string | undefined, what: string): string | undefined => {
    const s = str(v);
    if (s !== undefined && s !== PASSWORD_PLACEHOLDER) return s;
    if (keep && !sameServer) {
      refused ??= `the saved ${what} is only sent to the saved server${savedUrl ? ` (${displayUrl(savedUrl)})` : ""}: type the ${what} again to test ${displayUrl(url)}`;
      return undefined;
    }
    return keep;
  };
  const creds: Credentials = {
    user: str(body.user) ?? stored.user,
    password: secret(body.password, stored.password, "password"),
    token: secret(body.token, stored.token, "token"),
  };
  if (refused) return { ok: false, error: refused };
  const secrets = [creds.password, creds.token];
  try {
    const timeoutMs = Math.min(positive(body.timeout, DEFAULT_TIMEOUT_MS), 15000);
    const client = await openClient(clientOptions(url, timeoutMs, creds));
    const serverVersion = client.serverVersion;
    const database = (str(body.database) ?? "").trim();
    let warning: string | undefined;
    try {
      if (database) await client.exec(`USE ${quoteIdentifier(database, "database")}`);
    } catch (e) {
      // A database the flow is about to create is not a failure: say so plainly (code 0x0388: database not exist).
      warning =
        (e as { code?: unknown }).code === DATABASE_NOT_EXIST
          ? `database ${database} does not exist yet (the write node creates it)`
          : `database ${database}: ${redactSecrets((e as Error).message, secrets)}`;
    } finally {
      await client.close();
    }
    return warning ? { ok: true, serverVersion, warning } : { ok: true, serverVersion };
  } catch (e) {
    return { ok: false, error: redactSecrets((e as Error).message, secrets) };
  }
}
