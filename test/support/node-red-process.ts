// Starts a real Node-RED (red.js of the runtime chosen by NR_RUNTIME, on this process's Node binary) with
// this package installed in a throw-away userDir, as a user would run it. Used by tests that need the
// editor, the admin API or the real HTTP server.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "./free-port";
import { runtimeDir } from "./runtime";
import { waitFor } from "./wait";

export const packageRoot = resolve(__dirname, "..", "..", "..");
export const packageName: string = (require(join(packageRoot, "package.json")) as { name: string }).name;

export interface NodeRedProcess {
  url: string;
  port: number;
  userDir: string;
  process: ChildProcess;
  /** Everything Node-RED printed so far (stdout and stderr). */
  output(): string;
  /** Admin API call with JSON in and out. */
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  deploy(flows: unknown[], type?: "full" | "nodes" | "flows"): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra settings merged into settings.js (JSON-serialisable). */
  settings?: Record<string, unknown>;
  /** Flows to start with (written to flows.json before start). */
  flows?: unknown[];
  /** Credentials in clear, written to flows_cred.json (credentialSecret is false in tests). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /**
   * Load FlowFuse Dashboard 2.0 (a dev dependency): Node-RED finds it in this package's node_modules, where
   * it would otherwise be loaded by every test; only the tests that ask for it get it. The userDir then has
   * the package.json a palette install writes, listing this package, which Dashboard 2.0 reads.
   */
  dashboard?: boolean;
  /** JavaScript appended to settings.js, for settings JSON cannot hold (functions: middleware and the like). */
  settingsSource?: string;
}

export async function startNodeRed(opts: StartOptions = {}): Promise<NodeRedProcess> {
  const userDir = mkdtempSync(join(tmpdir(), "nr-userdir-"));
  const link = join(userDir, "node_modules", ...packageName.split("/"));
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(packageRoot, link, "dir");
  if (opts.dashboard) {
    writeFileSync(join(userDir, "package.json"), JSON.stringify({ name: "node-red-project", private: true, dependencies: { [packageName]: "*" } }));
  }
  const port = await freePort();
  const settings = {
    uiHost: "127.0.0.1",
    uiPort: port,
    flowFile: "flows.json",
    credentialSecret: "test-credential-secret",
    editorTheme: { tours: false, palette: { catalogues: [] } },
    // No update-consent dialog over the editor, and nothing calls out.
    telemetry: { enabled: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
    ...(opts.dashboard ? {} : { nodesExcludes: ["node-red-dashboard"] }),
    ...opts.settings,
  };
  writeFileSync(join(userDir, "settings.js"), `module.exports = ${JSON.stringify(settings, null, 2)};\n${opts.settingsSource ?? ""}\n`);
  if (opts.flows) writeFileSync(join(userDir, "flows.json"), JSON.stringify(opts.flows));

  const child = spawn(process.execPath, [join(runtimeDir, "red.js"), "-u", userDir, "-s", join(userDir, "settings.js")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env, NODE_RED_ENABLE_PROJECTS: "false" },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  let exited = false;
  const exitPromise = new Promise<void>((r) => child.once("exit", () => ((exited = true), r())));

  const url = `http://127.0.0.1:${port}`;
  const nr: NodeRedProcess = {
    url,
    port,
    userDir,
    process: child,
    output: () => out,
    admin: (method, path, body, headers = {}) =>
      fetch(url + path, {
        method,
        headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async deploy(flows, type = "full") {
      const res = await nr.admin("POST", "/flows", flows, { "Node-RED-Deployment-Type": type });
      if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
    },
    async stop() {
      if (!exited) {
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(userDir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      "Node-RED to serve its editor",
      async () => {
        if (exited) throw new Error(`Node-RED exited early:\n${out}`);
        const res = await fetch(url + "/settings").catch(() => undefined);
        // With adminAuth on, an anonymous GET /settings is refused with 401: the server is up all the same.
        return (res?.ok || res?.status === 401) && /Started flows|Starting flows/.test(out);
      },
      { timeoutMs: opts.timeoutMs ?? 60000, intervalMs: 100 },
    );
  } catch (err) {
    await nr.stop();
    throw new Error(`${(err as Error).message}\n--- Node-RED output ---\n${out}`);
  }
  return nr;
}
