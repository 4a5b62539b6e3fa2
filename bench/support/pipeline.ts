// The end-to-end pipeline used by bench/e2e.ts and bench/soak.ts, three processes:
//  - this process: Node-RED (node-red-node-test-helper runtime, NR_RUNTIME) with the flow
//      producer -> tdengine-write        tdengine-poll -> perspective-out (served on Node-RED's own port)
//    the producer writes R rows/s as one message every 10 ms (rows stamped with the current millisecond,
//    max(1, R/1000) subtables so every (subtable, ms) is unique, a global sequence number per row);
//  - the emulator (emulator/cli.js) in its own process, so its CPU is measured apart;
//  - a Perspective client (support/perspective-client.js) in its own process, over the WebSocket.
// Counts at every stage (produced, written, refused, polled, accepted by perspective-out) give the backlog and
// the rows lost; the client reports freshness (row ts -> its update). CPU from process.cpuUsage and /proc.
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { profileSelf } from "./profile-self";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { openClient } from "../../lib/tdengine";
import helper from "../../test/support/helper";
import { nodeModule } from "../../test/support/package-info";
import { runtimeDir } from "../../test/support/runtime";
import { unspy } from "./unspy";
import { resetPeakRss, sampleProcess, startEmulatorProcess, stopChild, type EmulatorProcess, type ProcSample } from "./procs";

export interface PipelineOptions {
  rate: number;
  /** Measured seconds (after the warm-up). */
  seconds: number;
  warmupSeconds?: number;
  pollIntervalMs?: number;
  /** tdengine-poll's lookback for late rows (ms; the example flow uses 1000). */
  lookbackMs?: number;
  /** What reads the rows back: tdengine-poll (default) or tdengine-subscribe over a topic on the super table. */
  source?: "poll" | "subscribe";
  /** tdengine-write batch size and flush interval. */
  writeBatch?: number;
  writeFlushMs?: number;
  /** perspective-out coalescing interval. */
  viewIntervalMs?: number;
  /** perspective-out limit-table size. */
  limit?: number;
  /** Write .cpuprofile files of all three processes (measured window) into this directory. */
  profileDir?: string;
  /** Label for table and database names. */
  label: string;
}

export interface ProcFigures {
  /** CPU over the measured window, in cores (1.0 = one core busy). */
  cpu: number;
  rssStartMb: number;
  rssEndMb: number;
  peakRssMb: number;
}

export interface PipelineResult {
  rate: number;
  seconds: number;
  produced: number;
  written: number;
  refused: number;
  polled: number;
  accepted: number;
  /** Rows produced from the first polled one on, minus rows accepted by perspective-out after the drain. */
  lost: number;
  drainMs: number;
  /** Backlog (produced - accepted) over the measured window, mean of the first and last quarter, rows. */
  backlogFirst: number;
  backlogLast: number;
  /** Client staleness (now - newest ts it has) mean over the first and last quarter, ms. */
  staleFirst: number;
  staleLast: number;
  held: boolean;
  whyNot: string;
  freshness: { samples: number; p50: number; p99: number; max: number };
  clientMaxSeq: number;
  clientUpdates: number;
  nodeRed: ProcFigures;
  emulator: ProcFigures;
  client: ProcFigures;
  /** Memory over the measured window, about once a second. */
  memory: MemorySample[];
}

export interface MemorySample {
  /** Seconds since the start of the measured window. */
  t: number;
  nodeRedRssMb: number;
  emulatorRssMb: number;
  clientRssMb: number;
  /** Node-RED process: V8 heap used, and memory outside the heap (ArrayBuffers incl. Perspective's WASM memory). */
  heapUsedMb: number;
  externalMb: number;
}

interface ClientReport {
  type: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  maxTs: number;
  maxSeq: number;
  updates: number;
  at: number;
  message?: string;
}

// The runtime's hook registry (the same module instance the test helper's runtime uses).
const hooks = (require(require.resolve("@node-red/util", { paths: [runtimeDir] })) as { hooks: { add(id: string, fn: (ev: never) => void): void; remove(id: string): void } }).hooks;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function startClient(url: string, table: string, nodeFlags: string[]): { child: ChildProcess; next: (type: string) => Promise<ClientReport>; status: ClientReport[] } {
  const child = fork(join(__dirname, "perspective-client.js"), [url, table], { execArgv: nodeFlags, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = new Map<string, (m: ClientReport) => void>();
  const status: ClientReport[] = [];
  child.on("message", (m: ClientReport) => {
    if (m.type === "status") status.push(m);
    else if (m.type === "error") process.stderr.write(`perspective client: ${m.message}\n`);
    const w = waiting.get(m.type);
    if (w) {
      waiting.delete(m.type);
      w(m);
    }
  });
  const next = (type: string): Promise<ClientReport> =>
    new Promise((resolve, reject) => {
      waiting.set(type, resolve);
      child.once("exit", (code) => reject(new Error(`perspective client exited (${code}) before "${type}"`)));
    });
  return { child, next, status };
}

function figures(a: ProcSample, b: ProcSample, wallMs: number): ProcFigures {
  return { cpu: (b.cpuMs - a.cpuMs) / wallMs, rssStartMb: a.rssMb, rssEndMb: b.rssMb, peakRssMb: b.peakRssMb };
}

function selfSample(): ProcSample {
  const s = sampleProcess(process.pid);
  const c = process.cpuUsage();
  return { ...s, cpuMs: (c.user + c.system) / 1000 };
}

const meanOf = (a: number[]): number => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);

/** One run of the pipeline at a fixed rate. helper.startServer() must have been called. */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const warmupS = o.warmupSeconds ?? 5;
  const subtables = Math.max(1, Math.round(o.rate / 1000));
  const rowsPerMs = (o.rate / 1000) / subtables; // 1 when rate is a multiple of 1000
  const db = `e2e_${o.label}`;
  const table = `e2e_${o.label}`;
  const prof = o.profileDir ? (mkdirSync(o.profileDir, { recursive: true }), o.profileDir) : undefined;
  const profFlags = (name: string): string[] => (prof ? ["--cpu-prof", "--cpu-prof-dir", prof, "--cpu-prof-name", `${name}-${o.label}.cpuprofile`] : []);
  // Each subtable keeps its newest 20 s of rows (far more than any backlog that still counts as held), so the
  // emulator's memory levels off early and a soak shows the pipeline's memory, not the stored data's.
  const emu: EmulatorProcess = await startEmulatorProcess(profFlags("emulator"), ["--max-rows-per-table", String(20_000 * rowsPerMs)]);
  let client: ReturnType<typeof startClient> | undefined;
  try {
    const admin = await openClient({ url: emu.url, timeoutMs: 30_000 });
    await admin.exec(`CREATE DATABASE IF NOT EXISTS ${db} PRECISION 'ms'`);
    await admin.exec(`CREATE STABLE IF NOT EXISTS ${db}.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT, seq INT) TAGS (groupid INT, location VARCHAR(16))`);
    const topic = `t_${o.label}`;
    if (o.source === "subscribe") {
      await admin.exec(`CREATE TOPIC IF NOT EXISTS ${topic} AS SELECT ts, current, voltage, phase, seq, groupid, location FROM ${db}.meters`);
    }
    await admin.close();
    // The reader has id "p" either way: the counting hooks below follow it.
    const reader =
      o.source === "subscribe"
        ? {
            id: "p", type: "tdengine-subscribe", server: "cfg", mode: "topics", topics: topic, groupId: `bench_${o.label}`, offsetReset: "latest",
            commit: "sent", output: "block", timestamps: "date", includeTbname: true, pollWait: 500, wires: [["po"]],
          }
        : {
            id: "p", type: "tdengine-poll", server: "cfg", mode: "table", table: "meters", columns: "current, voltage, phase, seq", tags: "groupid, location",
            includeTbname: true, tsColumn: "ts", interval: o.pollIntervalMs ?? 250, start: "now", lookback: o.lookbackMs ?? 0, pageSize: 10000, maxRowsPerPoll: 100000,
            timestamps: "date", wires: [["po"]],
          };

    const counts = { written: 0, refused: 0, polled: 0, accepted: 0, errors: 0 };
    await helper.load(
      [nodeModule("tdengine-config"), nodeModule("tdengine-write"), nodeModule(o.source === "subscribe" ? "tdengine-subscribe" : "tdengine-poll"), nodeModule("perspective-config"), nodeModule("perspective-out")],
      [
        { id: "cfg", type: "tdengine-config", url: emu.url, database: db, timeout: 30_000 },
        {
          id: "w", type: "tdengine-write", server: "cfg", stable: "meters", subtable: "d_${groupid}", tsField: "ts", tsUnit: "ms",
          columns: "ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT, seq INT", tags: "groupid INT, location VARCHAR(16)",
          autoCreate: true, batchSize: o.writeBatch ?? 1000, flushInterval: o.writeFlushMs ?? 100, maxBuffered: 100_000, output: true, wires: [["wout"]],
        },
        { id: "wout", type: "helper" },
        reader,
        // A host per run (its own path); the client replicates, as the page does, so no server-side views.
        { id: "pc", type: "perspective-config", path: `/bench-${o.label}` },
        { id: "po", type: "perspective-out", server: "pc", table, mode: "limit", limit: o.limit ?? 1000, interval: o.viewIntervalMs ?? 50 },
      ],
      { cfg: { user: "root", password: "taosdata" } },
    );
    // The test helper's sinon spies would keep every message sent (see unspy.ts).
    unspy(helper, ["w", "p", "po", "wout"]);
    type M = { payload: unknown };
    helper.getNode("wout").on("input", (m: M) => {
      const p = m.payload as { written: number; rejected: number };
      counts.written += p.written;
      counts.refused += p.rejected;
    });
    // Counting through runtime hooks, not extra wires or complete/catch nodes: those would clone every message
    // (Node-RED clones for a second wire and for complete/catch nodes), a cost the measured flow does not have.
    // tdengine-poll starts "now": rows produced before its first poll are not expected downstream; the first
    // polled message tells where the stream begins (rows come in timestamp order).
    let firstSeq = -1;
    hooks.add("preDeliver.bench", (ev: { msg: M; source: { id: string } }) => {
      if (ev.source.id !== "p") return;
      const rows = ev.msg.payload as { seq: number }[];
      if (firstSeq < 0 && rows.length > 0) firstSeq = rows.reduce((a, r) => Math.min(a, r.seq), Infinity);
      counts.polled += rows.length;
    });
    hooks.add("onComplete.bench", (ev: { msg: M; error?: Error; node: { id: string } }) => {
      const n = Array.isArray(ev.msg.payload) ? ev.msg.payload.length : 0;
      if (ev.error) {
        if (ev.node.id === "w") counts.refused += n;
        if (counts.errors++ < 5) process.stderr.write(`${ev.node.id} error: ${ev.error.message}\n`);
      } else if (ev.node.id === "po") counts.accepted += n;
    });
    const w = helper.getNode("w");

    // Producer: every 10 ms, the rows of every millisecond since the last tick (so the rate holds even when a
    // tick is late; lateness then shows as freshness, not as a lower rate).
    let produced = 0;
    let lastMs = Date.now();
    let producing = true;
    const produce = (): void => {
      const now = Date.now();
      const payload: Record<string, unknown>[] = [];
      for (let t = lastMs + 1; t <= now; t++) {
        for (let g = 0; g < subtables; g++) {
          for (let k = 0; k < rowsPerMs; k++) {
            payload.push({ ts: t, current: 10 + (produced % 7) * 0.5, voltage: 200 + (produced % 40), phase: (produced % 100) / 100, seq: produced, groupid: g, location: `loc_${g}` });
            produced++;
          }
        }
      }
      lastMs = now;
      if (payload.length > 0) w.receive({ payload });
    };
    const timer = setInterval(() => producing && produce(), 10);

    // The client opens once the table exists (first polled message); warm-up runs meanwhile.
    const wsUrl = helper.url().replace(/^http/, "ws") + `/bench-${o.label}/ws`;
    client = startClient(wsUrl, table, profFlags("client"));
    await client.next("ready");
    await sleep(warmupS * 1000);

    // Measured window.
    client.child.send({ type: "reset" });
    await client.next("reset-ok");
    const selfProf = prof ? profileSelf() : undefined;
    for (const pid of [process.pid, emu.pid, client.child.pid!]) resetPeakRss(pid);
    const s0 = { self: selfSample(), emu: sampleProcess(emu.pid), cli: sampleProcess(client.child.pid!) };
    const t0 = Date.now();
    const produced0 = produced;
    const backlog: { at: number; rows: number }[] = [];
    const memory: MemorySample[] = [];
    const mb = (b: number): number => b / 2 ** 20;
    const sampleMemory = (): void => {
      const m = process.memoryUsage();
      memory.push({
        t: (Date.now() - t0) / 1000,
        nodeRedRssMb: mb(m.rss),
        emulatorRssMb: sampleProcess(emu.pid).rssMb,
        clientRssMb: sampleProcess(client!.child.pid!).rssMb,
        heapUsedMb: mb(m.heapUsed),
        externalMb: mb(m.external),
      });
    };
    sampleMemory();
    const statusFrom = client.status.length;
    const endAt = t0 + o.seconds * 1000;
    while (Date.now() < endAt) {
      await sleep(Math.min(1000, endAt - Date.now()));
      backlog.push({ at: Date.now(), rows: produced - counts.accepted });
      sampleMemory();
    }
    const wallMs = Date.now() - t0;
    // Diagnosis aid: BENCH_HEAP_SNAPSHOT=<file> writes a heap snapshot of this process at the end of the window.
    if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
    const s1 = { self: selfSample(), emu: sampleProcess(emu.pid), cli: sampleProcess(client.child.pid!) };
    await selfProf?.stop(join(prof!, `nodered-${o.label}.cpuprofile`));
    const report = (client.child.send({ type: "report" }), await client.next("report"));
    const measuredProduced = produced - produced0;

    // Stop producing, then drain: wait until every expected row reached perspective-out (at most 60 s, or
    // 5 s without progress).
    producing = false;
    clearInterval(timer);
    const d0 = Date.now();
    let lastProgress = d0;
    let lastAccepted = counts.accepted;
    while (counts.accepted + counts.refused < produced - firstSeq && Date.now() - d0 < 60_000 && Date.now() - lastProgress < 5000) {
      await sleep(50);
      if (counts.accepted !== lastAccepted) {
        lastAccepted = counts.accepted;
        lastProgress = Date.now();
      }
    }
    const drainMs = Date.now() - d0;
    // Give the client one last moment to see the final rows (for its max sequence number).
    await sleep(500);
    const last = client.status[client.status.length - 1];

    const q = Math.max(1, Math.floor(backlog.length / 4));
    const backlogFirst = meanOf(backlog.slice(0, q).map((b) => b.rows));
    const backlogLast = meanOf(backlog.slice(-q).map((b) => b.rows));
    const stale = client.status.slice(statusFrom).filter((s) => s.at <= endAt).map((s) => s.at - s.maxTs);
    const sq = Math.max(1, Math.floor(stale.length / 4));
    const staleFirst = meanOf(stale.slice(0, sq));
    const staleLast = meanOf(stale.slice(-sq));
    const reasons: string[] = [];
    if (measuredProduced < 0.95 * o.rate * (wallMs / 1000)) reasons.push(`producer made ${Math.round(measuredProduced / (wallMs / 1000))} rows/s`);
    if (counts.refused > 0) reasons.push(`${counts.refused} rows refused by tdengine-write (buffer full)`);
    if (backlogLast > backlogFirst + o.rate * 0.5) reasons.push(`backlog grew from ${Math.round(backlogFirst)} to ${Math.round(backlogLast)} rows`);
    if (staleLast > staleFirst + 500) reasons.push(`client staleness grew from ${Math.round(staleFirst)} to ${Math.round(staleLast)} ms`);
    if (!(report.samples > 0)) reasons.push("the client saw no updates");

    const result: PipelineResult = {
      rate: o.rate,
      seconds: wallMs / 1000,
      produced,
      written: counts.written,
      refused: counts.refused,
      polled: counts.polled,
      accepted: counts.accepted,
      lost: produced - Math.max(0, firstSeq) - counts.accepted,
      drainMs,
      backlogFirst,
      backlogLast,
      staleFirst,
      staleLast,
      held: reasons.length === 0,
      whyNot: reasons.join("; "),
      freshness: { samples: report.samples, p50: report.p50, p99: report.p99, max: report.max },
      clientMaxSeq: last?.maxSeq ?? -1,
      clientUpdates: report.updates,
      nodeRed: figures(s0.self, s1.self, wallMs),
      emulator: figures(s0.emu, s1.emu, wallMs),
      client: figures(s0.cli, s1.cli, wallMs),
      memory,
    };
    client.child.send({ type: "stop" });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => resolve(), 10_000);
      client!.child.once("exit", () => (clearTimeout(t), resolve()));
    });
    await helper.unload();
    return result;
  } finally {
    hooks.remove("*.bench");
    if (client) await stopChild(client.child);
    await emu.stop();
  }
}
