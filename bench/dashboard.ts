// Freshness in the real dashboard, with the example flow's own settings: what a user of the demo sees.
// Node-RED (node-red-node-test-helper runtime, this process) runs the nodes of examples/flows.json as they are
// configured there (tdengine-write: batch 1000 / flush interval; tdengine-poll: interval 250 ms, start lookback,
// lookback 1000 ms; perspective-out: limit 1000, interval 50 ms, the four viewer layouts; the dashboard at
// <Node-RED>/perspective/ on Node-RED's own port), against the emulator in its own process. The producer is the
// demo's function generalised to a rate: every tick (250 ms, the demo's inject), rows for max(10, R/1000) meters,
// one per millisecond and meter, the newest stamped "now". The page is the real one in headless Chromium, with
// its four viewers; freshness is read inside the page (`window.dashboardMetrics.freshness`: after each delta
// applied to the page's local table, now minus the newest row timestamp, same machine clock).
// Per rate also the stages, taken with runtime hooks on the same messages (newest row timestamp of a message to
// the moment it passes a stage): written (tdengine-write's done), polled (tdengine-poll sends it), in the engine
// (perspective-out's done); and CPU of this process (Node-RED + the Perspective engine thread + the harness), of
// the emulator and of Chromium (all its processes).
// Usage: npm run build && NR_RUNTIME=node-red-4 node dist/bench/dashboard.js [--rates 1000,10000,50000]
//          [--seconds 15] [--warmup 5] [--tick 250] [--flows examples/flows.json] [--profile-page DIR (the page main
//          thread's CPU profile per rate, for bench/support/profile-top.js)]
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { chromium, type BrowserContext } from "playwright-core";
import helper from "../test/support/helper";
import { nodeModule, root } from "../test/support/package-info";
import { runtimeDir, runtimeName, runtimeVersion } from "../test/support/runtime";
import { threadCpuMs } from "../lib/perspective/thread-cpu";
import { argNumber, argString, fmt, machine, percentile, runMain, sampleProcess, startEmulatorProcess, type EmulatorProcess } from "./support/procs";
import { unspy } from "./support/unspy";

const RATES = argString("rates", "1000,10000,50000").split(",").map(Number);
const SECONDS = argNumber("seconds", 15);
const WARMUP = argNumber("warmup", 5);
const TICK_MS = argNumber("tick", 250);
const FLOWS = argString("flows", "examples/flows.json");
/** A folder to write the page's main-thread CPU profile of each rate's measured seconds to (dashboard-<rate>.cpuprofile). */
const PROFILE_PAGE = argString("profile-page", "");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CITIES = ["San Francisco", "Los Angeles", "San Diego", "San Jose", "Palo Alto", "Campbell", "Mountain View", "Sunnyvale", "Santa Clara", "Cupertino"];

// The runtime's hook registry (the same module instance the test helper's runtime uses).
const hooks = (require(require.resolve("@node-red/util", { paths: [runtimeDir] })) as { hooks: { add(id: string, fn: (ev: never) => void): void; remove(id: string): void } }).hooks;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** The example flow's nodes that the benchmark runs, with their settings as shipped. */
function exampleNodes(emulatorUrl: string, database: string): { nodes: FlowNode[]; ids: { write: string; poll: string; out: string } } {
  const flow = JSON.parse(readFileSync(join(root, FLOWS), "utf8")) as FlowNode[];
  const of = (type: string): FlowNode => {
    const n = flow.find((x) => x.type === type);
    if (!n) throw new Error(`${FLOWS} has no ${type} node`);
    return { ...n };
  };
  const cfg: FlowNode = { ...of("tdengine-config"), url: emulatorUrl, database };
  const write: FlowNode = { ...of("tdengine-write"), wires: [] };
  const poll = of("tdengine-poll");
  const out: FlowNode = { ...of("perspective-out"), wires: [] };
  const host = of("perspective-config");
  // Without a tab, and without x/y (the test helper skips nodes placed on a canvas it does not have).
  for (const n of [cfg, write, poll, out, host]) for (const k of ["z", "x", "y"]) delete n[k];
  return { nodes: [cfg, write, { ...poll, wires: [[out.id]] }, out, host], ids: { write: write.id, poll: poll.id, out: out.id } };
}

/** CPU time (ms) of Chromium: the processes under this one (Playwright starts it) other than `exclude`, summed. */
function chromiumCpuMs(exclude: number): number {
  const parent = new Map<number, number>();
  for (const p of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const under = (pid: number): boolean => {
    for (let q = parent.get(pid), hops = 0; q !== undefined && q > 1 && hops < 20; q = parent.get(q), hops++) {
      if (q === exclude) return false;
      if (q === process.pid) return true;
    }
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (pid === exclude || !under(pid)) continue;
    try {
      total += sampleProcess(pid).cpuMs;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

interface Stage {
  samples: number[];
}
const stage = (): Stage => ({ samples: [] });
const pct = (s: Stage, p: number): number => percentile([...s.samples].sort((a, b) => a - b), p);

interface Result {
  rate: number;
  page: { p50: number; p99: number; count: number; deltas: number };
  written: Stage;
  polled: Stage;
  engine: Stage;
  nodeRed: { process: number; main: number; engineAndOther: number };
  emulator: number;
  chromium: number;
  produced: number;
  polledRows: number;
  /**
   * Rows produced and polled during the measured seconds, and rows tdengine-write refused meanwhile (buffer full),
   * counted from the first refused message of each episode (the node reports that one to Catch; the rest of an
   * episode only in its summary), so at least this many.
   */
  window: { produced: number; polled: number; refused: number };
  errors: string[];
}

/**
 * A rate is held when, over the measured seconds, tdengine-write refused no rows (its buffer never filled, as in
 * the e2e bench), the poller delivered at least 95 % of the rows produced (no backlog growing) and the page stayed
 * within 2 s of the newest row (the dashboard is not falling behind).
 */
const held = (r: Result): boolean => r.window.refused === 0 && r.window.polled >= 0.95 * r.window.produced && r.page.p99 <= 2000;
const notHeld = (r: Result): string =>
  r.window.refused > 0 ? `no (tdengine-write refused ≥ ${fmt(r.window.refused)} rows)` : `no (polled ${fmt(r.window.polled)} of ${fmt(r.window.produced)})`;

// node-red-node-test-helper does not mount RED.httpNode (where the dashboard page is served) on its server: a
// module that only captures it, mounted once, as Node-RED does.
type Handler = (req: unknown, res: unknown, next: () => void) => void;
// The helper makes a new httpNode app per load, while a host kept across loads keeps its routes on the app it
// was first mounted on (a real Node-RED has one app): every captured app is tried in turn.
const httpNodes: Handler[] = [];
const captureHttpNode = (RED: { httpNode: Handler }): void => {
  if (!httpNodes.includes(RED.httpNode)) httpNodes.push(RED.httpNode);
};
const mounted: Handler = (req, res, next) => {
  const step = (i: number): void => (i < httpNodes.length ? httpNodes[i](req, res, () => step(i + 1)) : next());
  step(0);
};

async function runRate(context: BrowserContext, rate: number, n: number): Promise<Result> {
  const emu: EmulatorProcess = await startEmulatorProcess([], ["--max-rows-per-table", "20000"]);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.length < 5 && errors.push(`page: ${e.message}`));
  page.on("response", (r) => r.status() >= 400 && errors.length < 5 && errors.push(`page: ${r.status()} ${r.url()}`));
  page.on("console", (m) => m.type() === "error" && errors.length < 5 && errors.push(`page console: ${m.text()}`));
  try {
    const db = `dash_${n}`;
    const { nodes, ids } = exampleNodes(emu.url, db);
    await helper.load(
      [captureHttpNode, nodeModule("tdengine-config"), nodeModule("tdengine-write"), nodeModule("tdengine-poll"), nodeModule("perspective-config"), nodeModule("perspective-out")],
      nodes,
      { [nodes[0].id]: { user: "root", password: "taosdata" } },
    );
    unspy(helper, [ids.write, ids.poll, ids.out]);
    const written = stage();
    const polled = stage();
    const engine = stage();
    let measuring = false;
    let polledRows = 0;
    let refusedRows = 0;
    type Msg = { payload: unknown; benchNewest?: number };
    const newestOf = (rows: unknown): number | undefined => {
      if (!Array.isArray(rows) || rows.length === 0) return undefined;
      // Rows come in timestamp order from the poller; the producer's message carries its newest stamp.
      const ts = (rows[rows.length - 1] as { ts?: unknown }).ts;
      return ts instanceof Date ? ts.getTime() : typeof ts === "number" ? ts : undefined;
    };
    hooks.add("preDeliver.dashbench", (ev: { msg: Msg; source: { id: string } }) => {
      if (ev.source.id !== ids.poll) return;
      if (Array.isArray(ev.msg.payload)) polledRows += ev.msg.payload.length;
      const t = newestOf(ev.msg.payload);
      if (measuring && t !== undefined) polled.samples.push(Date.now() - t);
    });
    hooks.add("onComplete.dashbench", (ev: { msg: Msg; error?: Error; node: { id: string } }) => {
      if (ev.error && errors.length < 5) errors.push(`${ev.node.id}: ${ev.error.message}${measuring ? "" : " (before the measured seconds)"}`);
      if (!measuring) return;
      if (ev.node.id === ids.write && ev.error?.name === "BufferFullError" && Array.isArray(ev.msg.payload)) refusedRows += ev.msg.payload.length;
      if (ev.node.id === ids.write && ev.msg.benchNewest !== undefined) written.samples.push(Date.now() - ev.msg.benchNewest);
      else if (ev.node.id === ids.out) {
        const t = newestOf(ev.msg.payload);
        if (t !== undefined) engine.samples.push(Date.now() - t);
      }
    });

    // The demo's producer at `rate`: per tick, rows for each meter at consecutive milliseconds ending now.
    const meters = Math.max(10, Math.ceil(rate / 1000));
    const perMeter = Math.max(1, Math.round((rate * TICK_MS) / 1000 / meters));
    let lastTs = 0;
    let produced = 0;
    const w = helper.getNode(ids.write) as unknown as { receive(m: object): void };
    const tick = (): void => {
      const first = Math.max(Date.now() - (perMeter - 1), lastTs + 1);
      lastTs = first + perMeter - 1;
      const rows: Record<string, unknown>[] = [];
      for (let k = 0; k < perMeter; k++) {
        for (let g = 0; g < meters; g++) {
          rows.push({ ts: first + k, current: Math.random() * 75, voltage: 200 + (k % 26), phase: Math.random() * 105, groupid: g, location: CITIES[g % CITIES.length] });
        }
      }
      produced += rows.length;
      w.receive({ payload: rows, benchNewest: lastTs });
    };
    tick();
    const timer = setInterval(tick, TICK_MS);
    try {
      // The host mounts the page once Perspective is loaded, and the table exists once the first rows are in.
      for (let i = 0; ; i++) {
        const res = await fetch(`${helper.url()}/perspective/config.json`).catch(() => undefined);
        const text = res ? await res.text() : "no answer";
        const cfg = res?.ok ? (JSON.parse(text) as { tables: unknown[] }) : undefined;
        if (cfg && cfg.tables.length > 0) break;
        if (i > 600) throw new Error(`the dashboard table never appeared (config.json: ${res?.status} ${text.slice(0, 300)}; polled ${polledRows} rows; errors: ${errors.join(" | ") || "none"})`);
        await sleep(100);
      }
      await page.goto(`${helper.url()}/perspective/`);
      await page
        .waitForFunction(() => ((window as unknown as { dashboard?: { loads: number; updates: number } }).dashboard?.updates ?? 0) > 0, undefined, { timeout: 60_000 })
        .catch(async (e: Error) => {
          const state = await page.evaluate(() => JSON.stringify((window as unknown as { dashboard?: unknown }).dashboard)).catch(() => "?");
          throw new Error(`the page saw no update (${e.message}); page state ${state}; polled ${polledRows} rows; errors: ${errors.join(" | ") || "none"}`);
        });
      await sleep(WARMUP * 1000);
      type M = { dashboardMetrics: { freshness: { reset(): void; summary(): { count: number; p50: number; p99: number } } }; dashboard: { updates: number } };
      const updates0 = await page.evaluate(() => {
        const m = window as unknown as M;
        m.dashboardMetrics.freshness.reset();
        return m.dashboard.updates;
      });
      const profiler = PROFILE_PAGE ? await page.context().newCDPSession(page) : undefined;
      if (profiler) {
        await profiler.send("Profiler.enable");
        await profiler.send("Profiler.start");
      }
      measuring = true;
      const produced0 = produced;
      const polled0 = polledRows;
      const refused0 = refusedRows;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const main0 = threadCpuMs(process.pid) ?? NaN;
      const emu0 = sampleProcess(emu.pid).cpuMs;
      const chr0 = chromiumCpuMs(emu.pid);
      await sleep(SECONDS * 1000);
      const secs = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const proc = (c.user + c.system) / 1e6 / secs;
      const main = ((threadCpuMs(process.pid) ?? NaN) - main0) / 1000 / secs;
      const emuCores = (sampleProcess(emu.pid).cpuMs - emu0) / 1000 / secs;
      const chrCores = (chromiumCpuMs(emu.pid) - chr0) / 1000 / secs;
      measuring = false;
      if (profiler) {
        const { profile } = await profiler.send("Profiler.stop");
        mkdirSync(PROFILE_PAGE, { recursive: true });
        writeFileSync(join(PROFILE_PAGE, `dashboard-${rate}.cpuprofile`), JSON.stringify(profile));
        await profiler.detach();
      }
      const s = await page.evaluate(() => {
        const m = window as unknown as M;
        return { ...m.dashboardMetrics.freshness.summary(), updates: m.dashboard.updates };
      });
      return {
        rate,
        page: { p50: s.p50, p99: s.p99, count: s.count, deltas: s.updates - updates0 },
        written,
        polled,
        engine,
        nodeRed: { process: proc, main, engineAndOther: Math.max(0, proc - main) },
        emulator: emuCores,
        chromium: chrCores,
        produced,
        polledRows,
        window: { produced: produced - produced0, polled: polledRows - polled0, refused: refusedRows - refused0 },
        errors,
      };
    } finally {
      clearInterval(timer);
    }
  } finally {
    hooks.remove("*.dashbench");
    await page.close().catch(() => undefined);
    await helper.unload().catch(() => undefined);
    await emu.stop();
  }
}

function gitHead(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  await helper.startServer();
  (helper as unknown as { _app: { use(f: Handler): void } })._app.use(mounted);
  const context = await chromium.launchPersistentContext("", { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  const results: Result[] = [];
  try {
    let n = 0;
    for (const rate of RATES) {
      const r = await runRate(context, rate, ++n);
      results.push(r);
      process.stderr.write(
        `dashboard ${fmt(rate)} rows/s: page p50 ${fmt(r.page.p50)} p99 ${fmt(r.page.p99)} ms (${r.page.count} samples); written p99 ${fmt(pct(r.written, 99))}, polled p99 ${fmt(pct(r.polled, 99))}, engine p99 ${fmt(pct(r.engine, 99))} ms; ` +
          `cpu node-red ${r.nodeRed.process.toFixed(2)} (main ${r.nodeRed.main.toFixed(2)}) emulator ${r.emulator.toFixed(2)} chromium ${r.chromium.toFixed(2)}${r.errors.length ? `; errors: ${r.errors.join(" | ")}` : ""}\n`,
      );
    }
  } finally {
    await context.close();
    await helper.stopServer();
  }
  const st = (s: Stage): string => `${fmt(pct(s, 50))} / ${fmt(pct(s, 99))}`;
  const lines = [
    `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}, commit ${gitHead()}. ${FLOWS} as shipped (its tdengine-write, tdengine-poll, perspective-out and perspective-config settings), the emulator in its own process, the real dashboard page (/perspective/, 4 viewers) in headless Chromium; producer tick ${TICK_MS} ms; ${SECONDS} s measured after ${WARMUP} s of warm-up per rate.`,
    "",
    "| R rows/s | held | freshness in the page p50 / p99 ms | page deltas | ts → written p50 / p99 ms | ts → polled p50 / p99 ms | ts → in the engine p50 / p99 ms | CPU Node-RED process (main thread) cores | CPU emulator cores | CPU Chromium cores |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${fmt(r.rate)} | ${held(r) ? "yes" : notHeld(r)} | ${fmt(r.page.p50)} / ${fmt(r.page.p99)} | ${fmt(r.page.deltas)} | ${st(r.written)} | ${st(r.polled)} | ${st(r.engine)} | ${r.nodeRed.process.toFixed(2)} (${r.nodeRed.main.toFixed(2)}) | ${r.emulator.toFixed(2)} | ${r.chromium.toFixed(2)} |`,
    ),
    "",
    `Freshness p99 in the real dashboard, ${results.map((r) => fmt(r.rate)).join(" / ")} rows/s: ${results.map((r) => fmt(r.page.p99)).join(" / ")} ms (goal ≤ 150 ms).`,
    `Highest rate held with the dashboard open: ${fmt(Math.max(0, ...results.filter(held).map((r) => r.rate)))} rows/s (held: while measuring, tdengine-write refused no rows, ≥ 95 % of the rows produced were polled, and the page's freshness p99 ≤ 2 s).`,
  ];
  for (const r of results) if (r.errors.length) lines.push(`- ${fmt(r.rate)} rows/s: errors ${r.errors.join(" | ")}`);
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(main);
