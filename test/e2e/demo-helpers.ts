// What the demo tests look at from the outside, as a user's tools would: TDengine through taosAdapter's REST
// endpoint, the Perspective table through a Perspective client on the dashboard's WebSocket, the example flow
// file, and a headless Chromium.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { loadPerspective } from "../../lib/perspective/load";
import { packageRoot } from "../support/node-red-process";
import { viewColumns } from "../support/replica";
import { waitFor } from "../support/wait";

export interface ExampleNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

/** examples/flows.json as shipped. */
export function exampleFlow(): ExampleNode[] {
  return JSON.parse(readFileSync(join(packageRoot, "examples", "flows.json"), "utf8")) as ExampleNode[];
}

export function exampleNode(type: string): ExampleNode {
  const found = exampleFlow().filter((n) => n.type === type);
  if (found.length !== 1) throw new Error(`the example has ${found.length} ${type} nodes, expected 1`);
  return found[0];
}

/** The 10 meters of the demo's producer. */
export const METERS = Array.from({ length: 10 }, (_, g) => `d_bind_${g}`);

/** One statement through taosAdapter's REST API (/rest/sql), as root/taosdata. */
export async function tdengineSql(httpUrl: string, sql: string): Promise<unknown[][]> {
  const res = await fetch(`${httpUrl}/rest/sql`, {
    method: "POST",
    body: sql,
    headers: { Authorization: `Basic ${Buffer.from("root:taosdata").toString("base64")}` },
  });
  const body = (await res.json()) as { code: number; desc?: string; data?: unknown[][] };
  if (body.code !== 0) throw new Error(`${sql}: ${body.code} ${body.desc}`);
  return body.data ?? [];
}

/** Columns of a hosted table, read through the dashboard's WebSocket like the page does (config.json names the entity). */
export async function readPerspectiveTable(nodeRedUrl: string, name: string, columns: string[]): Promise<Record<string, unknown[]>> {
  const res = await fetch(`${nodeRedUrl}/perspective/config.json`);
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  const { tables } = (await res.json()) as { tables: { name: string; entity: string }[] };
  const desc = tables.find((t) => t.name === name);
  if (!desc) throw new Error(`no table ${name} yet (tables: ${tables.map((t) => t.name).join(", ") || "none"})`);
  const psp = await loadPerspective();
  const client = await psp.websocket(`${nodeRedUrl.replace(/^http/, "ws")}/perspective/ws`);
  try {
    const table = await client.open_table(desc.entity);
    const view = await table.view({ columns });
    try {
      return await viewColumns(view);
    } finally {
      await view.delete();
    }
  } finally {
    await client.terminate().catch(() => undefined);
  }
}

/** Pairs that occur more than once, e.g. duplicates of (tbname, ts). */
export function duplicates(a: unknown[], b: unknown[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  a.forEach((x, i) => {
    const key = `${String(x)}|${String(b[i])}`;
    if (seen.has(key)) twice.push(key);
    seen.add(key);
  });
  return twice;
}

/** True when something can listen on the port again (the demo gave it back). */
export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Demo {
  process: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

/** Runs the demo program as `npm start` does once built, on the given ports, with its userDir under `dir`. */
export function startDemo(port: number, emulatorPort: number, dir: string, extraEnv: NodeJS.ProcessEnv = {}): Demo {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), EMULATOR_PORT: String(emulatorPort), DEMO_DIR: dir };
  delete env.TDENGINE_URL;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [join(packageRoot, "dist", "scripts", "demo.js")], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { process: child, output: () => out, exit: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
}

/** The URLs the demo prints once the example is deployed. */
export function printedUrls(demo: Demo): Promise<{ editor: string; dashboard: string }> {
  return waitFor("the demo to print its URLs", () => {
    if (demo.process.exitCode !== null) throw new Error(`the demo exited with ${demo.process.exitCode}:\n${demo.output()}`);
    const editor = /Node-RED editor:\s+(http:\/\/\S+)/.exec(demo.output())?.[1];
    const dashboard = /Perspective dashboard:\s+(http:\/\/\S+)/.exec(demo.output())?.[1];
    return editor && dashboard ? { editor, dashboard } : undefined;
  }, { timeoutMs: 45000, intervalMs: 100 });
}

/** Ctrl-C: SIGINT, then the exit code (or a message when it does not exit in time). */
export async function interrupt(demo: Demo): Promise<unknown> {
  demo.process.kill("SIGINT");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve("still running 20 s after SIGINT"), 20000)));
  const result = await Promise.race([demo.exit, late]);
  clearTimeout(timer);
  return result;
}
