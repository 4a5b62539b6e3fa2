// Soak: the end-to-end pipeline (bench/support/pipeline.ts) at a steady rate for a long time, one run:
// RSS of every process at the start and the end of the measured window (after warm-up), peak RSS, rows lost.
// Usage: NR_RUNTIME=node-red-4 node dist/bench/soak.js [--minutes 10] [--rate 10000] [--warmup 10]
import helper from "../test/support/helper";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { argNumber, fmt, machine, runMain } from "./support/procs";
import { runPipeline, type ProcFigures } from "./support/pipeline";

const MINUTES = argNumber("minutes", 10);
const RATE = argNumber("rate", 10_000);
const WARMUP = argNumber("warmup", 30);

async function main(): Promise<void> {
  await helper.startServer();
  try {
    const r = await runPipeline({ rate: RATE, seconds: MINUTES * 60, warmupSeconds: WARMUP, label: `soak_${RATE}` });
    const row = (what: string, p: ProcFigures): string =>
      `| ${what} | ${p.rssStartMb.toFixed(0)} | ${p.rssEndMb.toFixed(0)} | ${(p.rssEndMb - p.rssStartMb >= 0 ? "+" : "") + (p.rssEndMb - p.rssStartMb).toFixed(0)} | ${p.peakRssMb.toFixed(0)} | ${p.cpu.toFixed(2)} |`;
    const lines = [
      `Machine: ${machine()}, ${runtimeName} ${runtimeVersion}. One run: ${fmt(RATE)} rows/s for ${MINUTES} min (measured window, after ${WARMUP} s warm-up); poll 250 ms, tdengine-write batch 1000 / flush 100 ms, perspective-out limit 1000 / 50 ms; the emulator keeps the newest 20 s of rows per subtable (levels off during the warm-up).`,
      "",
      "| process | RSS start MB | RSS end MB | change MB | peak RSS MB | CPU (cores) |",
      "|---|---:|---:|---:|---:|---:|",
      row("Node-RED (tdengine-write, tdengine-poll, perspective-out, producer)", r.nodeRed),
      row("emulator", r.emulator),
      row("Perspective client", r.client),
      "",
      `Rows: produced ${fmt(r.produced)}, written ${fmt(r.written)}, refused ${fmt(r.refused)}, polled ${fmt(r.polled)}, accepted by perspective-out ${fmt(r.accepted)}; rows lost: ${fmt(r.lost)} (drain ${r.drainMs} ms). ` +
        `Freshness p50 ${fmt(r.freshness.p50)} ms, p99 ${fmt(r.freshness.p99)} ms; ${r.held ? "held without a growing backlog" : `NOT held: ${r.whyNot}`}.`,
    ];
    // Memory over time: about ten points spread over the window.
    lines.push("", "| minute | Node-RED RSS MB | Node-RED V8 heap used MB | Node-RED external (ArrayBuffers, WASM) MB | emulator RSS MB | client RSS MB |", "|---:|---:|---:|---:|---:|---:|");
    const step = Math.max(1, Math.floor(r.memory.length / 10));
    const picks = r.memory.filter((_, i) => i % step === 0 || i === r.memory.length - 1);
    for (const m of picks) lines.push(`| ${(m.t / 60).toFixed(1)} | ${m.nodeRedRssMb.toFixed(0)} | ${m.heapUsedMb.toFixed(0)} | ${m.externalMb.toFixed(0)} | ${m.emulatorRssMb.toFixed(0)} | ${m.clientRssMb.toFixed(0)} |`);
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await helper.stopServer();
  }
}

runMain(main);
