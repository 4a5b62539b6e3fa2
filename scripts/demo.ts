// `npm start`: the whole perspective-connect-demo in one command. Starts the taosAdapter emulator (unless
// TDENGINE_URL points at a real TDengine), starts Node-RED with this package and a userDir of its own,
// deploys examples/flows.json through the admin API (credentials go in as credentials, never into the flow
// file), and prints the editor and dashboard URLs. Ctrl-C stops everything; a second start works.
//
// Node-RED and the emulator are child processes, each in a process group of its own (a terminal's Ctrl-C
// reaches only this script, which stops them in order) and each watching this script through an IPC channel
// (scripts/parent-watch.ts): if this script is killed outright (kill -9), they stop themselves and free their
// ports. The emulator being a process of its own, it can be stopped alone to see an outage, and started again
// alone with `npm run emulator -- --port <EMULATOR_PORT>`.
//
// Environment: PORT (Node-RED, default 1880), HOST (default 127.0.0.1), EMULATOR_PORT (default 6041),
// TDENGINE_URL + TDENGINE_USER + TDENGINE_PASSWORD (a real taosAdapter instead of the emulator; several
// taosAdapters of a cluster comma-separated, failed over by tdengine-config),
// DEMO_DIR (where the userDir lives, default .demo/ in the package).
import { spawn, type ChildProcess } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { parseEndpoints } from "../lib/tdengine-connection/endpoints";
import { canRunNodeRed5, nodeRed5Installed, nodeRedInstall, type NodeRedRuntime } from "./node-red-runtime";

const root = resolve(__dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string };

interface DemoConfig {
  port: number;
  host: string;
  emulatorPort: number;
  tdengineUrl?: string;
  user?: string;
  password?: string;
  dir: string;
}

function portFrom(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined || value === "") return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(value)}`);
  return n;
}

/**
 * taosAdapter's WebSocket URL, or several (a cluster: comma-separated, or the connector's DSN host list
 * ws://h1:6041,h2:6041); http(s) addresses (as used for REST) are accepted and turned into ws(s).
 */
export function tdengineWsUrl(url: string): string {
  const u = url.trim().replace(/(^|[,\s])http(s?):\/\//gi, "$1ws$2://");
  let parsed: string[];
  try {
    parsed = parseEndpoints(u).urls;
  } catch (e) {
    throw new Error(`TDENGINE_URL must look like ws://host:6041 (or several, comma-separated): ${(e as Error).message}`);
  }
  return parsed.join(",");
}

function config(env = process.env): DemoConfig {
  return {
    port: portFrom(env.PORT, "PORT", 1880),
    host: env.HOST || "127.0.0.1",
    emulatorPort: portFrom(env.EMULATOR_PORT, "EMULATOR_PORT", 6041),
    tdengineUrl: env.TDENGINE_URL ? tdengineWsUrl(env.TDENGINE_URL) : undefined,
    user: env.TDENGINE_USER || undefined,
    password: env.TDENGINE_PASSWORD || undefined,
    dir: resolve(env.DEMO_DIR || join(root, ".demo")),
  };
}

/** Node-RED 5 where this Node runs it and `npm test` has installed it (tools/node22), else 4.1 (npm ci). */
function nodeRedRuntime(): NodeRedRuntime {
  return canRunNodeRed5() && nodeRed5Installed() ? "node-red-5" : "node-red-4";
}

/** Fails early with a clear message instead of letting Node-RED or the emulator die on EADDRINUSE. */
function assertPortFree(port: number, host: string, what: string, hint: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `port ${port} (${what}) is already in use: ${hint}` : `cannot use port ${port} (${what}): ${err.message}`)),
    );
    srv.listen(port, host, () => srv.close(() => resolvePort()));
  });
}

/** Links this package into the userDir's node_modules (again, if the link points elsewhere). */
function linkPackage(userDir: string): void {
  const link = join(userDir, "node_modules", ...pkg.name.split("/"));
  mkdirSync(dirname(link), { recursive: true });
  try {
    if (lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === root) return;
    unlinkSync(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  symlinkSync(root, link, "dir");
}

function prepareUserDir(cfg: DemoConfig): string {
  const userDir = join(cfg.dir, "userdir");
  mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  const settings = {
    uiHost: cfg.host,
    uiPort: cfg.port,
    flowFile: "flows.json",
    credentialSecret: "node-red-tdengine-perspective-demo",
    editorTheme: { tours: false, palette: { catalogues: [] }, projects: { enabled: false } },
    // The demo talks to nothing but this machine: no update check, no palette catalogue.
    telemetry: { enabled: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
  };
  writeFileSync(join(userDir, "settings.js"), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  // Each start deploys the example afresh; the old flow files would only conflict with it.
  rmSync(join(userDir, "flows.json"), { force: true });
  rmSync(join(userDir, "flows_cred.json"), { force: true });
  return userDir;
}

/** The example flow, pointed at the TDengine to use, with its credentials attached for the deploy call. */
function exampleFlow(url: string, user?: string, password?: string): Record<string, unknown>[] {
  const flow = JSON.parse(readFileSync(join(root, "examples", "flows.json"), "utf8")) as Record<string, unknown>[];
  return flow.map((n) => {
    if (n.type !== "tdengine-config") return n;
    const credentials: Record<string, string> = {};
    if (user) credentials.user = user;
    if (password) credentials.password = password;
    return { ...n, url, credentials };
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("Node-RED stopped before it was ready");
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Node-RED did not answer at ${url} within ${timeoutMs / 1000} s`);
}

const running = (c: ChildProcess | undefined): c is ChildProcess => Boolean(c && c.exitCode === null && c.signalCode === null);

/** SIGINT (the child's own orderly stop), SIGKILL after `graceMs`; resolves when it has exited. */
async function stopChild(c: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!running(c)) return;
  const exited = new Promise((r) => c.once("exit", r));
  c.kill("SIGINT");
  const force = setTimeout(() => c.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(force);
}

/** Node with the parent watch preloaded, an IPC channel to this script, in a process group of its own. */
function spawnWatched(args: string[], stdout: "inherit" | "pipe", env?: NodeJS.ProcessEnv): ChildProcess {
  const watch = join(__dirname, "parent-watch.js");
  return spawn(process.execPath, ["-r", watch, ...args], { stdio: ["ignore", stdout, "inherit", "ipc"], detached: true, env: env ?? process.env });
}

/** Starts the emulator as a child process; resolves with its URL once it listens. */
function startEmulatorProcess(port: number): Promise<{ child: ChildProcess; httpUrl: string; wsUrl: string }> {
  const cli = join(root, "dist", "emulator", "cli.js");
  const child = spawnWatched([cli, "--port", String(port), "--host", "127.0.0.1", "--max-rows-per-table", "500000"], "pipe");
  return new Promise((resolveStart, reject) => {
    let out = "";
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.stdout!.resume();
      const httpUrl = m[1];
      resolveStart({ child, httpUrl, wsUrl: httpUrl.replace(/^http/, "ws") });
    };
    const onExit = (code: number | null): void => reject(new Error(`the TDengine emulator did not start (exit code ${code ?? "signal"})`));
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
}

async function main(): Promise<void> {
  const cfg = config();
  let child: ChildProcess | undefined;
  let emulator: ChildProcess | undefined;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Node-RED first: it stops its flows (tdengine-write flushes what it holds, or says what it could not write).
    await stopChild(child, 15000);
    await stopChild(emulator, 5000);
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (!stopping) console.log("\nStopping Node-RED and the emulator...");
      void stop(0);
    });
  }

  try {
    await assertPortFree(cfg.port, cfg.host, "Node-RED", "stop what runs there or choose another one with PORT=...");
    let url = cfg.tdengineUrl;
    if (!url) {
      await assertPortFree(cfg.emulatorPort, "127.0.0.1", "TDengine emulator",
        `if a real TDengine runs there, use it with TDENGINE_URL=ws://127.0.0.1:${cfg.emulatorPort} (and TDENGINE_USER/TDENGINE_PASSWORD), or move the emulator with EMULATOR_PORT=...`);
      const emu = await startEmulatorProcess(cfg.emulatorPort);
      emulator = emu.child;
      url = emu.wsUrl;
      console.log(`TDengine emulator (taosAdapter protocol, in memory): ${emu.httpUrl} (process ${emu.child.pid})`);
      emu.child.on("exit", (code, signal) => {
        if (stopping) return;
        // Not a reason to stop Node-RED: this is how a TDengine outage looks; the nodes report it.
        console.error(
          `The TDengine emulator stopped (${signal ?? `exit code ${code}`}). Node-RED keeps running; ` +
            `start an emulator again with: npm run emulator -- --port ${cfg.emulatorPort}`,
        );
      });
    } else {
      console.log(`TDengine: ${url}${cfg.user ? ` as ${cfg.user}` : ""}`);
    }

    const userDir = prepareUserDir(cfg);
    const redJs = join(nodeRedInstall(nodeRedRuntime()).dir, "red.js");
    // Its own process group: a terminal's Ctrl-C reaches only this script, which then stops Node-RED once,
    // in order (Node-RED first, so the write node can flush, then the emulator).
    child = spawnWatched([redJs, "-u", userDir, "-s", join(userDir, "settings.js")], "inherit", { ...process.env, NODE_RED_ENABLE_PROJECTS: "false" });
    child.on("exit", (code) => {
      if (!stopping) console.error(`Node-RED exited (code ${code ?? "signal"})`);
      void stop(code ?? 1);
    });

    const base = `http://${cfg.host === "0.0.0.0" || cfg.host === "::" ? "127.0.0.1" : cfg.host}:${cfg.port}`;
    await waitForHttp(`${base}/settings`, child, 60000);
    const res = await fetch(`${base}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(exampleFlow(url, cfg.user, cfg.password)),
    });
    if (!res.ok) throw new Error(`deploying the example failed: ${res.status} ${await res.text()}`);
    console.log("");
    console.log(`Node-RED editor:       ${base}/`);
    console.log(`Perspective dashboard: ${base}/perspective/`);
    console.log("Writing 250 power-meter rows every 250 ms into power.meters. Press Ctrl-C to stop.");
  } catch (err) {
    console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // Only a bad setting gets here (before anything started); later failures stop what runs first.
    console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
