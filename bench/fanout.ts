// Fan-out to replicating dashboards: what each extra browser costs the Node-RED that serves it, now that
// pages replicate the table and compute in the browser. Node-RED (node-red-node-test-helper, this process)
// runs perspective-out on its own Perspective host port, fed 10,000 rows/s into a limit table of 1,000 rows.
// Clients run in other processes, started with `nice` so they yield to Node-RED on a small machine:
//   replica N  : N Node clients replicating into local tables (viewer/replica.js, as the page does)
//   light N    : N raw protocol clients taking the replication stream without applying it, plus 1 replica
//                client whose freshness stands for what a real client sees meanwhile
//   chromium N : N real dashboard pages in headless Chromium (freshness read from the page)
//   probe N    : N-1 replicating Node clients under SCHED_IDLE (`chrt --idle 0`: they run only on CPU nothing
//                else wants, as if on other machines) plus 1 replicating probe at normal priority whose freshness
//                is reported: what one client with a CPU of its own sees while the server serves N replicating
//                clients. On one 2-core machine the N clients' own work (100 local tables applying 10k rows/s
//                each) would otherwise be counted as server latency; nice 19 was not enough, since 10 busy
//                processes at nice 19 still outweigh the engine thread at nice 10. probe 1 is the baseline.
// Per count: Node-RED main-thread CPU (/proc, that thread only) and event-loop utilisation, CPU of the
// process's other threads (the Perspective engine once it has a thread of its own, libuv, GC), bytes/s sent
// to clients, freshness p50/p99 of applied deltas (now minus the newest row timestamp, same clock), and for Node
// clients the same rows' age when the frame carrying them arrived, before the client applied it: the part the
// server and the network took, apart from the client's own work on a shared machine.
// Usage: npm run build && node dist/bench/fanout.js [--seconds 20] [--rate 10000]
//          [--runs none:0,replica:1,replica:10,light:1000,chromium:1,chromium:10,replica:100,probe:1,probe:100]
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import helper from "../test/support/helper";
import { freePort } from "../test/support/free-port";
import { runtimeVersion } from "../test/support/runtime";
import { threadCpuMs } from "../lib/perspective/thread-cpu";
import { argNumber, argString, fmt, machine, percentile, runMain, stopChild } from "./support/procs";
import { unspy } from "./support/unspy";

const perspectiveConfig = require("../nodes/perspective-config/perspective-config");
const perspectiveOut = require("../nodes/perspective-out/perspective-out");

const SECONDS = argNumber("seconds", 20);
const RATE = argNumber("rate", 10_000);
const WARMUP_MS = 3000;
// 100 replicating clients last: starting 10 client processes is the slowest part on a loaded machine.
const RUNS = argString("runs", "none:0,replica:1,replica:10,light:1000,chromium:1,chromium:10,replica:100,probe:1,probe:100")
  .split(",")
  .filter(Boolean)
  .map((r) => {
    const [kind, n] = r.split(":");
    if (!["replica", "light", "chromium", "none", "probe"].includes(kind) || !Number.isInteger(Number(n))) throw new Error(`bad run ${r}`);
    return { kind: kind as "replica" | "light" | "chromium" | "none" | "probe", count: Number(n) };
  });
/**
 * Replicating Node clients per child process. With 50 in one process, @finos/perspective 3.8.0's Node client
 * threw "Cannot perform Construct on a detached ArrayBuffer" from inside its WASM after a while (many clients
 * and local tables in one WASM instance); 10 per process ran cleanly.
 */
const REPLICAS_PER_PROCESS = 10;
const TABLE = "fanout";
const CITIES = ["California.SanFrancisco", "California.LosAngeles", "California.SanDiego", "California.SanJose", "California.PaloAlto"];
const COLUMNS = [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
  { name: "current", type: 6, typeName: "FLOAT", length: 4 },
  { name: "voltage", type: 4, typeName: "INT", length: 4 },
  { name: "location", type: 8, typeName: "VARCHAR", length: 24 },
  { name: "groupid", type: 4, typeName: "INT", length: 4 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** CPU ms of Node-RED's main thread (its thread id is the process id). */
const mainThreadCpuMs = (): number => threadCpuMs(process.pid) ?? NaN;

interface Meter {
  stop(): { mainCores: number; elu: number; processCores: number; otherCores: number };
}

function startMeter(): Meter {
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadCpuMs();
  const cpu0 = process.cpuUsage();
  return {
    stop() {
      const secs = (performance.now() - t0) / 1000;
      const elu = performance.eventLoopUtilization(elu0).utilization;
      const mainCores = (mainThreadCpuMs() - main0) / 1000 / secs;
      const c = process.cpuUsage(cpu0);
      const processCores = (c.user + c.system) / 1e6 / secs;
      return { mainCores, elu, processCores, otherCores: Math.max(0, processCores - mainCores) };
    },
  };
}

/** 10k rows/s into perspective-out: every 10 ms, the rows due since the start. */
function startProducer(out: { receive(m: object): void }): () => void {
  const start = Date.now();
  let sent = 0;
  let n = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * RATE) / 1000) - sent;
    if (due <= 0) return;
    const now = new Date();
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < due; i++, n++) {
      const meter = n % 1000;
      rows.push({ ts: now, current: 10 + (n % 50) / 10, voltage: 215 + (n % 10), location: CITIES[meter % 5], groupid: (meter % 3) + 1, tbname: `d${meter}` });
    }
    sent += due;
    out.receive({ payload: rows, columns: COLUMNS });
  }, 10);
  return () => clearInterval(timer);
}

interface ClientProc {
  child: ChildProcess;
  report(): Promise<{ samples: number[]; arrivals: number[]; bytes: number; deltas: number }>;
  reset(): void;
}

/**
 * nice: the clients stand for browsers on other machines; they must not take the CPU Node-RED needs here.
 * Light clients yield even to the replicating client whose freshness is reported; the background replicas of a
 * probe run ("idle") take only CPU nobody else wants.
 */
async function startClients(wsUrl: string, mode: "replica" | "light", count: number, niceness: number | "idle" = mode === "light" ? 19 : 10): Promise<ClientProc> {
  const script = join(__dirname, "support", "fanout-client.js");
  const [cmd, ...priority] = niceness === "idle" ? ["chrt", "--idle", "0"] : ["nice", "-n", String(niceness)];
  const child = spawn(cmd, [...priority, process.execPath, script, wsUrl, TABLE, mode, String(count)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: { type: string }) => {
      if (m.type === "ready") {
        child.off("message", onMsg);
        resolve();
      }
    };
    child.on("message", onMsg);
    child.once("exit", (code) => reject(new Error(`fanout client exited with ${code}`)));
  });
  child.removeAllListeners("exit");
  return {
    child,
    reset: () => child.send({ type: "reset" }),
    report: () =>
      new Promise((resolve) => {
        const onMsg = (m: { type: string; samples: number[]; arrivals: number[]; bytes: number; deltas: number }) => {
          if (m.type !== "report") return;
          child.off("message", onMsg);
          resolve(m);
        };
        child.on("message", onMsg);
        child.send({ type: "report" });
      }),
  };
}

interface PageSet {
  reset(): Promise<void>;
  report(): Promise<{ samples: number[]; bytes: number; deltas: number }>;
  close(): Promise<void>;
}

async function openPages(context: BrowserContext, pageUrl: string, count: number): Promise<PageSet> {
  const pages: Page[] = [];
  let base: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = await context.newPage();
    await p.goto(`${pageUrl}#table=${TABLE}`);
    await p.waitForFunction(() => ((window as unknown as { dashboard?: { loads: number } }).dashboard?.loads ?? 0) > 0, undefined, { timeout: 60_000 });
    pages.push(p);
  }
  type M = { dashboardMetrics: { freshness: { ring: number[]; reset(): void }; bytesIn(): number }; dashboard: { updates: number } };
  return {
    async reset() {
      base = [];
      for (const p of pages) {
        base.push(await p.evaluate(() => {
          const w = window as unknown as M;
          w.dashboardMetrics.freshness.reset();
          return w.dashboardMetrics.bytesIn();
        }));
      }
    },
    async report() {
      const all = { samples: [] as number[], bytes: 0, deltas: 0 };
      for (const [i, p] of pages.entries()) {
        const r = await p.evaluate(() => {
          const w = window as unknown as M;
          return { samples: [...w.dashboardMetrics.freshness.ring], bytes: w.dashboardMetrics.bytesIn(), deltas: w.dashboard.updates };
        });
        all.samples.push(...r.samples);
        all.bytes += r.bytes - (base[i] ?? 0);
      }
      return all;
    },
    async close() {
      for (const p of pages) await p.close();
    },
  };
}

interface Row {
  label: string;
  clients: number;
  main: number;
  elu: number;
  proc: number;
  other: number;
  p50: number;
  p99: number;
  samples: number;
  bytesPerSec: number;
  rssMb: number;
  /** Freshness when the delta's frame arrived, before the client applied it (Node clients only). */
  arrivalP50?: number;
  arrivalP99?: number;
}

function markdownRow(r: Row): string {
  return `| ${fmt(r.clients)} | ${r.label} | ${r.main.toFixed(3)} | ${(r.elu * 100).toFixed(1)} % | ${r.other.toFixed(3)} | ${r.proc.toFixed(3)} | ${fmt(r.bytesPerSec)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.samples)} | ${fmt(r.rssMb)} | ${r.arrivalP99 === undefined ? "" : `${fmt(r.arrivalP50!)} / ${fmt(r.arrivalP99)}`} |`;
}

async function main(): Promise<void> {
  await helper.startServer();
  const port = await freePort();
  await helper.load([perspectiveConfig, perspectiveOut], [
    // Connections raised above the default 200 for the 1,000-client run.
    { id: "host", type: "perspective-config", path: "/perspective", port: String(port), bind: "127.0.0.1", maxConnections: "5000" },
    { id: "out", type: "perspective-out", server: "host", table: TABLE, mode: "limit", limit: 1000, interval: 50 },
  ]);
  // A real runtime has no test-helper spies; they would keep every message in memory (bench/support/unspy.ts).
  unspy(helper, ["out"]);
  const out = helper.getNode("out") as unknown as { receive(m: object): void };
  const pageUrl = `http://127.0.0.1:${port}/perspective/`;
  const wsUrl = `ws://127.0.0.1:${port}/perspective/ws`;
  const stopProducer = startProducer(out);
  // The host listens on its port once started, and the table exists once the first rows are in.
  for (let i = 0; ; i++) {
    const cfg = (await fetch(pageUrl + "config.json").then((r) => r.json(), () => undefined)) as { tables: { name: string }[] } | undefined;
    if (cfg?.tables.some((t) => t.name === TABLE)) break;
    if (i > 300) throw new Error("the fan-out table never appeared");
    await new Promise((r) => setTimeout(r, 100));
  }
  const rows: Row[] = [];
  let context: BrowserContext | undefined;
  const measure = async (label: string, clients: number, collect: { reset(): unknown; report(): Promise<{ samples: number[]; arrivals?: number[] }> }[]): Promise<void> => {
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    for (const c of collect) await c.reset();
    const meter = startMeter();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const m = meter.stop();
    const samples: number[] = [];
    const arrivals: number[] = [];
    let bytes = 0;
    for (const c of collect) {
      const r = (await c.report()) as { samples: number[]; arrivals?: number[]; bytes?: number };
      samples.push(...r.samples);
      if (r.arrivals) arrivals.push(...r.arrivals);
      bytes += r.bytes ?? 0;
    }
    samples.sort((a, b) => a - b);
    arrivals.sort((a, b) => a - b);
    const row: Row = { label, clients, main: m.mainCores, elu: m.elu, proc: m.processCores, other: m.otherCores, p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length, bytesPerSec: bytes / SECONDS, rssMb: process.memoryUsage().rss / 2 ** 20, ...(arrivals.length > 0 ? { arrivalP50: percentile(arrivals, 50), arrivalP99: percentile(arrivals, 99) } : {}) };
    rows.push(row);
    // Each row as soon as it is measured, so a run cut short still leaves its figures.
    process.stderr.write(`${markdownRow(row)}\n`);
  };
  for (const run of RUNS) {
    if (run.kind === "none") {
      await measure("no clients", 0, []);
      continue;
    }
    if (run.kind === "chromium") {
      context ??= await chromium.launchPersistentContext("", { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 800 } });
      const pages = await openPages(context, pageUrl, run.count);
      await measure(`Chromium pages`, run.count, [pages]);
      await pages.close();
      continue;
    }
    const procs: ClientProc[] = [];
    try {
      if (run.kind === "replica") {
        for (let left = run.count; left > 0; left -= REPLICAS_PER_PROCESS) procs.push(await startClients(wsUrl, "replica", Math.min(left, REPLICAS_PER_PROCESS)));
        await measure("replicating Node clients", run.count, procs);
      } else if (run.kind === "probe") {
        for (let left = run.count - 1; left > 0; left -= REPLICAS_PER_PROCESS) procs.push(await startClients(wsUrl, "replica", Math.min(left, REPLICAS_PER_PROCESS), "idle"));
        const probe = await startClients(wsUrl, "replica", 1, 0);
        procs.push(probe);
        const background = procs.slice(0, -1);
        // Freshness from the probe only; the background replicas still take (and apply) the whole stream.
        await measure("replicating, 1 probe at normal priority", run.count, [probe, ...background.map((p) => ({ reset: () => p.reset(), report: async () => ({ ...(await p.report()), samples: [], arrivals: [] }) }))]);
      } else {
        procs.push(await startClients(wsUrl, "light", run.count - 1));
        const probe = await startClients(wsUrl, "replica", 1);
        procs.push(probe);
        // Freshness from the one replicating client; bytes from all.
        await measure("light clients + 1 replicating", run.count, [probe, { reset: () => procs[0].reset(), report: async () => ({ ...(await procs[0].report()), samples: [], arrivals: [] }) }]);
      }
    } finally {
      for (const p of procs) await stopChild(p.child);
    }
  }
  stopProducer();
  await context?.close();
  console.log(`Fan-out at ${fmt(RATE)} rows/s into a limit table of 1,000 rows, ${SECONDS} s per count after ${WARMUP_MS / 1000} s of warm-up; Node ${process.version}, Node-RED ${runtimeVersion}`);
  console.log(`machine: ${machine()}`);
  console.log("");
  console.log("| clients | kind | Node-RED main thread, cores | main event-loop utilisation | other threads of the process, cores | whole process, cores | bytes/s to clients | freshness p50 ms | freshness p99 ms | samples | Node-RED RSS MB at the end | freshness when the frame arrived, before the client applied it, p50 / p99 ms |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(markdownRow(r));
  await helper.unload();
  await helper.stopServer();
}

runMain(main);
