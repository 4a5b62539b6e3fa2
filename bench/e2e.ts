// End-to-end benchmark: producer at fixed rates R -> tdengine-write -> emulator (own process) -> tdengine-poll
// -> perspective-out -> a Perspective client over the WebSocket (own process). Per rate: held without a growing
// backlog or not, freshness (row ts -> client's update) p50/p99, CPU of each process, peak RSS; median of
// --repeat runs. With --profile-rate R, one more run at R with CPU profiles of all three processes and their top
// functions by self time. See bench/support/pipeline.ts for what is counted and how "held" is decided.
// Usage: NR_RUNTIME=node-red-4 node dist/bench/e2e.js [--rates 1000,10000,50000,100000] [--duration 60]
//          [--repeat 3] [--warmup 5] [--poll 250] [--lookback 0] [--flush 100] [--profile-rate 50000]
//          [--profile-dir dist/bench-profiles]
import { join } from "node:path";
import helper from "../test/support/helper";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { argNumber, argString, fmt, machine, median, runMain } from "./support/procs";
import { runPipeline, type PipelineResult } from "./support/pipeline";
import { topSelfMarkdown } from "./support/profile-top";

const RATES = argString("rates", "1000,10000,50000,100000").split(",").map(Number);
const DURATION = argNumber("duration", 60);
const REPEAT = argNumber("repeat", 3);
const WARMUP = argNumber("warmup", 5);
const POLL = argNumber("poll", 250);
const FLUSH = argNumber("flush", 100);
const LOOKBACK = argNumber("lookback", 0);
const PROFILE_RATE = argNumber("profile-rate", 0);
const PROFILE_DIR = argString("profile-dir", "dist/bench-profiles");

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "n/a");

async function main(): Promise<void> {
  await helper.startServer();
  const all = new Map<number, PipelineResult[]>();
  let run = 0;
  try {
    for (const rate of RATES) {
      for (let r = 0; r < REPEAT; r++) {
        const res = await runPipeline({ rate, seconds: DURATION, warmupSeconds: WARMUP, pollIntervalMs: POLL, lookbackMs: LOOKBACK, writeFlushMs: FLUSH, label: `r${rate}_${++run}` });
        all.set(rate, [...(all.get(rate) ?? []), res]);
        process.stderr.write(
          `e2e ${rate} rows/s run ${r + 1}: ${res.held ? "held" : `NOT held (${res.whyNot})`}; freshness p50 ${res.freshness.p50} p99 ${res.freshness.p99} ms; ` +
            `cpu node-red ${f1(res.nodeRed.cpu)} emulator ${f1(res.emulator.cpu)} client ${f1(res.client.cpu)}; lost ${res.lost}; drain ${res.drainMs} ms\n`,
        );
      }
    }
    let profile = "";
    if (PROFILE_RATE > 0) {
      const dir = join(process.cwd(), PROFILE_DIR);
      const label = `profile_r${PROFILE_RATE}`;
      const res = await runPipeline({ rate: PROFILE_RATE, seconds: Math.min(DURATION, 30), warmupSeconds: WARMUP, pollIntervalMs: POLL, lookbackMs: LOOKBACK, writeFlushMs: FLUSH, label, profileDir: dir });
      profile += `\nProfiled run at ${fmt(PROFILE_RATE)} rows/s (${res.seconds.toFixed(0)} s; profiling slows every process a little): ${res.held ? "held" : `not held (${res.whyNot})`}, CPU node-red ${f1(res.nodeRed.cpu)}, emulator ${f1(res.emulator.cpu)}, client ${f1(res.client.cpu)} cores. Top functions by self time (profiles in ${PROFILE_DIR}/):\n`;
      for (const [what, file] of [
        ["Node-RED process (tdengine-write, tdengine-poll, perspective-out, producer), measured window", `nodered-${label}.cpuprofile`],
        ["emulator process, whole life", `emulator-${label}.cpuprofile`],
        ["Perspective client process, whole life", `client-${label}.cpuprofile`],
      ]) {
        try {
          profile += `\n${what}:\n\n${topSelfMarkdown(join(dir, file), 12)}\n`;
        } catch (e) {
          profile += `\n${what}: no profile (${(e as Error).message})\n`;
        }
      }
    }
    const lines = [
      `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}. ${DURATION} s measured per run after ${WARMUP} s warm-up, median of ${REPEAT} runs per rate; poll interval ${POLL} ms, lookback ${LOOKBACK} ms, tdengine-write batch 1000 / flush ${FLUSH} ms, perspective-out limit 1000 / interval 50 ms.`,
      "",
      "| R rows/s | held (runs) | freshness p50 ms | freshness p99 ms | CPU Node-RED | CPU emulator | CPU client | emulator share | peak RSS Node-RED / emulator / client MB | rows lost | backlog first → last quarter (rows) |",
      "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ];
    let highest = 0;
    for (const rate of RATES) {
      const rs = all.get(rate) ?? [];
      const held = rs.filter((x) => x.held).length;
      if (held * 2 > rs.length && rate > highest) highest = rate;
      const m = (g: (x: PipelineResult) => number): number => median(rs.map(g));
      const cpuN = m((x) => x.nodeRed.cpu);
      const cpuE = m((x) => x.emulator.cpu);
      const cpuC = m((x) => x.client.cpu);
      lines.push(
        `| ${fmt(rate)} | ${held}/${rs.length} | ${fmt(m((x) => x.freshness.p50))} | ${fmt(m((x) => x.freshness.p99))} | ${f1(cpuN)} | ${f1(cpuE)} | ${f1(cpuC)} | ${((m((x) => x.emulator.cpu / (x.nodeRed.cpu + x.emulator.cpu + x.client.cpu))) * 100).toFixed(0)} % | ` +
          `${fmt(m((x) => x.nodeRed.peakRssMb))} / ${fmt(m((x) => x.emulator.peakRssMb))} / ${fmt(m((x) => x.client.peakRssMb))} | ${rs.map((x) => x.lost).join(", ")} | ${fmt(m((x) => x.backlogFirst))} → ${fmt(m((x) => x.backlogLast))} |`,
      );
    }
    lines.push("");
    lines.push(`Highest rate held (majority of runs): ${highest ? `${fmt(highest)} rows/s` : "none"}.`);
    const notHeld = [...all.values()].flat().filter((x) => !x.held);
    for (const x of notHeld) lines.push(`- ${fmt(x.rate)} rows/s not held: ${x.whyNot}.`);
    lines.push("");
    lines.push("CPU in cores (1.00 = one core busy) over the measured window; emulator share = emulator CPU / CPU of all three processes. Rows lost = produced − accepted by perspective-out after the drain.");
    lines.push("Held = the producer kept ≥ 95 % of R, tdengine-write refused no rows, the backlog (produced − accepted by perspective-out) in the last quarter of the window was at most R × 0.5 s above the first quarter, and the client's staleness (now − newest row it shows) grew by at most 500 ms.");
    process.stdout.write(lines.join("\n") + "\n" + profile);
  } finally {
    await helper.stopServer();
  }
}

runMain(main);
