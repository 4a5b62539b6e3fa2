// `npm start`: the whole perspective-connect-demo in one command. Starts the taosAdapter emulator (unless
// TDENGINE_URL points at a real TDengine), starts Node-RED with this package and a userDir of its own,
// deploys examples/flows.json through the admin API (credentials go in as credentials, never into the flow
// file), and prints the editor and dashboard URLs. Ctrl-C stops everything; a second start works.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

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

function config(env = process.env): DemoConfig {
  return {
    port: Number(env.PORT ?? 1880),
    host: env.HOST ?? "127.0.0.1",
    emulatorPort: Number(env.EMULATOR_PORT ?? 6041),
    tdengineUrl: env.TDENGINE_URL || undefined,
    user: env.TDENGINE_USER || undefined,
    password: env.TDENGINE_PASSWORD || undefined,
    dir: resolve(env.DEMO_DIR ?? join(root, ".demo")),
  };
}

/** Node-RED 5 needs Node >= 22.9; on older Node the 4.1 line runs. */
function nodeRedPackage(): string {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 9) ? "node-red" : "node-red-4";
}

function prepareUserDir(dir: string, port: number, host: string): string {
  const userDir = join(dir, "userdir");
  mkdirSync(userDir, { recursive: true });
  const link = join(userDir, "node_modules", ...pkg.name.split("/"));
  if (!existsSync(link)) {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(root, link, "dir");
  }
  const settings = {
    uiHost: host,
    uiPort: port,
    flowFile: "flows.json",
    credentialSecret: "node-red-tdengine-perspective-demo",
    editorTheme: { tours: false, palette: { catalogues: [] } },
    logging: { console: { level: "info", metrics: false, audit: false } },
  };
  writeFileSync(join(userDir, "settings.js"), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  // Each start deploys the example afresh; the old flow files would only conflict with it.
  rmSync(join(userDir, "flows.json"), { force: true });
  rmSync(join(userDir, "flows_cred.json"), { force: true });
  return userDir;
}

/** The example flow, pointed at the TDengine to use, with its credentials attached for the deploy call. */
function exampleFlow(url: string, user?: string, password?: string): unknown[] {
  const flow = JSON.parse(readFileSync(join(root, "examples", "flows.json"), "utf8")) as Record<string, unknown>[];
  return flow.map((n) => {
    if (n.type !== "tdengine-config") return n;
    const creds: Record<string, string> = {};
    if (user) creds.user = user;
    if (password) creds.password = password;
    return { ...n, url, credentials: creds };
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Node-RED did not answer at ${url} within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const cfg = config();
  let stopEmulator: (() => Promise<void>) | undefined;
  let url = cfg.tdengineUrl;
  if (!url) {
    const { startEmulator } = await import("../emulator/index.js");
    const emu = await startEmulator({ port: cfg.emulatorPort, host: "127.0.0.1", maxRowsPerTable: 500_000 });
    stopEmulator = () => emu.stop();
    url = emu.wsUrl;
    console.log(`TDengine emulator (taosAdapter protocol): ${emu.httpUrl}`);
  } else {
    console.log(`TDengine: ${url}`);
  }

  const nrPkg = nodeRedPackage();
  const userDir = prepareUserDir(cfg.dir, cfg.port, cfg.host);
  const redJs = join(dirname(require.resolve(`${nrPkg}/package.json`)), "red.js");
  const child = spawn(process.execPath, [redJs, "-u", userDir, "-s", join(userDir, "settings.js")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      const force = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(force);
    }
    await stopEmulator?.();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.on("exit", (code) => void stop(code ?? 1));

  const base = `http://${cfg.host === "0.0.0.0" ? "127.0.0.1" : cfg.host}:${cfg.port}`;
  await waitForHttp(`${base}/settings`, child, 60000);
  const res = await fetch(`${base}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(exampleFlow(url, cfg.user, cfg.password)),
  });
  if (!res.ok) throw new Error(`deploying the example failed: ${res.status} ${await res.text()}`);
  console.log("");
  console.log(`Node-RED editor:      ${base}/`);
  console.log(`Perspective dashboard: ${base}/perspective/`);
  console.log("Press Ctrl-C to stop.");
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
