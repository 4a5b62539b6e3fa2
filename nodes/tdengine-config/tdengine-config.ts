// tdengine-config: owns one shared TDengine connection (lib/tdengine-connection) for the nodes that use it,
// implements nodes/shared/tdengine-config-api.ts, logs one line per connection state change, and offers the
// editor's "Test connection" button an admin endpoint. The password and token are Node-RED credentials of
// type password: never in flows.json, never in a log line, status or error text.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { openClient, quoteIdentifier, TmqConsumer } from "../../lib/tdengine";
import type { ClientOptions } from "../../lib/tdengine/api";
import { displayUrl, LandedRows, parseEndpoints, redactSecrets, SharedConnection, spreadIndex, type ConnectionStatus } from "../../lib/tdengine-connection";
import type { ConnectionStatus as UserStatus, TdengineConfigNode } from "../shared/tdengine-config-api";

interface ConfigDef extends NodeDef {
  url?: string;
  database?: string;
  timeout?: string | number;
  maxBackoff?: string | number;
  /** With several endpoints: start each config node at a different one (by a hash of its id). */
  spread?: boolean;
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
 * Where a URL field sends credentials: scheme and host:port of each endpoint. Stored secrets may only go where the
 * saved URL points; a dialog that names another server (or plain ws:// instead of wss://) must carry the secrets
 * typed again.
 */
function destinations(urlField: string): Set<string> | undefined {
  try {
    return new Set(parseEndpoints(urlField.trim() || DEFAULT_URL).urls.map((url) => {
      const u = new URL(url);
      return `${u.protocol}//${u.host.toLowerCase()}`;
    }));
  } catch {
    return undefined;
  }
}

/**
 * The default database is not sent in `conn`: taosAdapter refuses a connection to a database that does not exist
 * yet, and tdengine-write may be about to create it. Nodes qualify every name with the database instead.
 * `url` is the URL field (one or several endpoints); `url` of the result is the first endpoint.
 */
function clientOptions(url: string, timeoutMs: number, creds: Credentials): ClientOptions & { endpoints: string[] } {
  const parsed = parseEndpoints(url);
  return {
    endpoints: parsed.urls,
    url: parsed.urls[0],
    user: creds.user || parsed.user || undefined,
    password: creds.password || undefined,
    token: creds.token || undefined,
    timeoutMs,
  };
}

export = function (RED: NodeAPI): void {
  // The saved URL of each deployed config node, for the Test connection endpoint (see destinations()).
  const savedUrls = new Map<string, string>();
  // Local writes -> the pollers of the same table (one signal per runtime, across config nodes).
  const landed = new LandedRows();

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

    let options: (ClientOptions & { endpoints: string[] }) | undefined;
    let configError: Error | undefined;
    try {
      options = clientOptions(url, timeoutMs, creds);
    } catch (e) {
      configError = e as Error;
      node.error(RED._("tdengine-config.errors.config", { message: configError.message }));
    }

    const endpoints = options?.endpoints ?? [url];
    const several = endpoints.length > 1;
    const connection = new SharedConnection({
      endpoints,
      startIndex: config.spread ? spreadIndex(node.id, endpoints.length) : 0,
      open: async (endpoint) => {
        if (!options) throw configError;
        try {
          return await openClient({ ...options, url: endpoint });
        } catch (e) {
          throw redact(e as Error);
        }
      },
      backoff: { initialMs: 250, maxMs: positive(config.maxBackoff, DEFAULT_MAX_BACKOFF_MS) },
      defaultWaitMs: timeoutMs,
    });

    // One log line per state change, never per retry (SharedConnection only reports changes).
    // With several endpoints, the line names the endpoint concerned.
    const where = (s: ConnectionStatus): string => (several && s.endpoint ? displayUrl(s.endpoint) : shownUrl);
    connection.onState((s) => {
      if (s.state === "connected") node.log(RED._("tdengine-config.log.connected", { url: where(s) }));
      else if (s.state === "connecting" && s.failingOver) node.log(RED._("tdengine-config.log.failing-over", { url: where(s), message: s.error ? redact(s.error).message : "" }));
      else if (s.state === "disconnected") node.warn(RED._("tdengine-config.log.disconnected", { url: where(s), message: s.error ? redact(s.error).message : "" }));
      else if (s.state === "closed") node.log(RED._("tdengine-config.log.closed", { url: shownUrl }));
    });

    Object.defineProperty(node, "database", { value: (config.database ?? "").trim(), enumerable: true });
    // What users see: errors redacted, endpoints as host:port (only with several endpoints).
    const shown = (s: ConnectionStatus): UserStatus => {
      const out: UserStatus = { state: s.state };
      if (s.error) out.error = redact(s.error);
      if (s.failingOver) out.failingOver = true;
      if (several && s.endpoint) {
        out.endpoint = hostOf(s.endpoint);
        out.endpointNo = `${endpoints.indexOf(s.endpoint) + 1}/${endpoints.length}`;
      }
      if (several && s.down?.length) out.down = s.down.map(hostOf);
      return out;
    };
    Object.defineProperty(node, "connectionStatus", { get: (): UserStatus => shown(connection.status), enumerable: true });
    node.register = (user: Node) => connection.acquire(user);
    node.deregister = (user: Node) => connection.release(user);
    node.getClient = (wait?: number) =>
      connection.getClient(wait).catch((e: Error) => {
        throw redact(e);
      });
    node.onState = (listener) => connection.onState((s) => listener(shown(s)));
    node.createConsumer = (settings) => {
      if (!options) throw configError;
      return new TmqConsumer({
        ...settings,
        endpoints: options.endpoints,
        user: options.user,
        password: options.password,
        token: options.token,
        timeoutMs,
        backoff: { initialMs: 250, maxMs: positive(config.maxBackoff, DEFAULT_MAX_BACKOFF_MS) },
        redact,
      });
    };
    node.redact = redact;
    // The same TDengine is the same endpoints, whichever config node names them.
    const scope = [...(destinations(url) ?? new Set([url]))].sort().join(",");
    node.rowsLanded = (database, table, more) => landed.notify(scope, database, table, more === true);
    node.onRowsLanded = (database, table, listener) => landed.listen(scope, database, table, listener);

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

/** host:port of an endpoint URL, for status lines. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}

interface TestReply {
  ok: boolean;
  serverVersion?: string;
  /** Connected, but the default database is unusable (e.g. not created yet). */
  warning?: string;
  error?: string;
  /** With several endpoints: each one's result, and which one the deployed node uses now. */
  endpoints?: { endpoint: string; ok: boolean; serverVersion?: string; error?: string; inUse?: boolean }[];
}

async function testConnection(RED: NodeAPI, id: string, savedUrl: string | undefined, body: Record<string, unknown>): Promise<TestReply> {
  const deployed = RED.nodes.getNode(id) as unknown as (Node & { credentials?: Credentials }) | null;
  const stored: Credentials = (RED.nodes.getCredentials(id) as Credentials | undefined) ?? deployed?.credentials ?? {};
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const url = (str(body.url) ?? "").trim() || DEFAULT_URL;
  let asked: Set<string> | undefined;
  try {
    parseEndpoints(url);
    asked = destinations(url);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  // Stored secrets go only to the servers the saved URL names, never to one the request names.
  const saved = savedUrl === undefined ? undefined : destinations(savedUrl);
  const sameServer = asked !== undefined && saved !== undefined && [...asked].every((d) => saved.has(d));
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
    const options = clientOptions(url, timeoutMs, creds);
    const database = (str(body.database) ?? "").trim();
    const probe = async (endpoint: string): Promise<TestReply> => {
      try {
        const client = await openClient({ ...options, url: endpoint });
        const serverVersion = client.serverVersion;
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
    };
    if (options.endpoints.length === 1) return await probe(options.endpoints[0]);
    // Several endpoints: all probed at once, so the reply comes within one timeout.
    const results = await Promise.all(options.endpoints.map(probe));
    const inUse = (deployed as unknown as { connectionStatus?: ConnectionStatus } | null)?.connectionStatus;
    const list = options.endpoints.map((ep, i) => {
      const r = results[i];
      const entry: NonNullable<TestReply["endpoints"]>[number] = { endpoint: displayUrl(ep), ok: r.ok };
      if (r.serverVersion) entry.serverVersion = r.serverVersion;
      if (r.error ?? r.warning) entry.error = r.error ?? r.warning;
      if (inUse?.state === "connected" && inUse.endpoint === hostOf(ep)) entry.inUse = true;
      return entry;
    });
    const first = results.find((r) => r.ok);
    const down = list.filter((e) => !e.ok).map((e) => `${e.endpoint}: ${e.error ?? ""}`);
    if (!first) return { ok: false, error: `no endpoint answered (${down.join("; ")})`, endpoints: list };
    const warnings = [first.warning, down.length ? `down: ${down.join("; ")}` : undefined].filter(Boolean).join("; ");
    return warnings ? { ok: true, serverVersion: first.serverVersion, warning: warnings, endpoints: list } : { ok: true, serverVersion: first.serverVersion, endpoints: list };
  } catch (e) {
    return { ok: false, error: redactSecrets((e as Error).message, secrets) };
  }
}
