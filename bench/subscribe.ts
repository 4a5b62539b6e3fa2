// Freshness of the subscription path next to the poll path, in the same run: producer at R rows/s ->
// tdengine-write -> emulator (own process) -> tdengine-subscribe (TMQ, /rest/tmq) or tdengine-poll (250 ms) ->
// perspective-out -> a Perspective client over the WebSocket (own process). Freshness = row ts -> the client's
// update (bench/support/pipeline.ts). One run per rate and path by default.
// Usage: NR_RUNTIME=node-red-4 node dist/bench/subscribe.js [--rates 1000,10000,50000] [--duration 20] [--repeat 1] [--warmup 5]
import helper from "../test/support/helper";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { argNumber, argString, fmt, machine, median, runMain } from "./support/procs";
import { runPipeline, type PipelineResult } from "./support/pipeline";

const RATES = argString("rates", "1000,10000,50000").split(",").map(Number);
const DURATION = argNumber("duration", 20);
const REPEAT = argNumber("repeat", 1);
const WARMUP = argNumber("warmup", 5);
const SOURCES = ["subscribe", "poll"] as const;

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "n/a");

async function main(): Promise<void> {
  await helper.startServer();
  const all = new Map<string, PipelineResult[]>();
  let run = 0;
  try {
    for (const rate of RATES) {
      for (const source of SOURCES) {
        for (let r = 0; r < REPEAT; r++) {
          const res = await runPipeline({ rate, seconds: DURATION, warmupSeconds: WARMUP, source, label: `s${rate}_${source}_${++run}` });
          all.set(`${rate}/${source}`, [...(all.get(`${rate}/${source}`) ?? []), res]);
          process.stderr.write(`${source} ${rate} rows/s: ${res.held ? "held" : `NOT held (${res.whyNot})`}; freshness p50 ${res.freshness.p50} p99 ${res.freshness.p99} ms; cpu node-red ${f2(res.nodeRed.cpu)}; lost ${res.lost}\n`);
        }
      }
    }
    const lines = [
      `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}. ${DURATION} s measured per run after ${WARMUP} s warm-up, median of ${REPEAT} run(s); tdengine-poll interval 250 ms; tdengine-subscribe defaults (commit after each message, poll wait 500 ms); tdengine-write batch 1000 / flush 100 ms; perspective-out limit 1000 / interval 50 ms.`,
      "",
      "| R rows/s | path | held | freshness p50 ms | freshness p99 ms | CPU Node-RED | CPU emulator | rows lost |",
      "|---:|---|---|---:|---:|---:|---:|---:|",
    ];
    for (const rate of RATES) {
      for (const source of SOURCES) {
        const rs = all.get(`${rate}/${source}`) ?? [];
        const m = (g: (x: PipelineResult) => number): number => median(rs.map(g));
        lines.push(
          `| ${fmt(rate)} | ${source} | ${rs.filter((x) => x.held).length}/${rs.length} | ${fmt(m((x) => x.freshness.p50))} | ${fmt(m((x) => x.freshness.p99))} | ${f2(m((x) => x.nodeRed.cpu))} | ${f2(m((x) => x.emulator.cpu))} | ${rs.map((x) => x.lost).join(", ")} |`,
        );
      }
    }
    for (const x of [...all.values()].flat().filter((y) => !y.held)) lines.push(`- ${fmt(x.rate)} rows/s not held: ${x.whyNot}.`);
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await helper.stopServer();
  }
}

runMain(main);
