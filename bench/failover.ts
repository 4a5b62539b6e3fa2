// Benchmark of endpoint failover: tdengine-write (node-red-node-test-helper flow) at a fixed rate into an emulator
// cluster of 3 endpoints (in this process); N times, the endpoint in use is stopped and the switch time is taken
// as the gap between the last write acknowledged before the stop and the first one after it; the stopped endpoint
// comes back once the switch is seen. Prints p50/p99/max of the switch times and checks nothing was lost.
// Usage: NR_RUNTIME=node-red-4 node dist/bench/failover.js [--switches 20] [--rate 10000]
// Nothing is asserted beyond "no row lost or doubled" (speed is not a test).
import { cpus, totalmem } from "node:os";
import { startEmulatorCluster } from "../emulator";
import helper from "../test/support/helper";
import { nodeModule } from "../test/support/package-info";
import { runtimeName, runtimeVersion } from "../test/support/runtime";
import { waitFor } from "../test/support/wait";
import { runMain } from "./support/procs";
import { unspy } from "./support/unspy";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SWITCHES = arg("switches", 20);
const RATE = arg("rate", 10000);
const TICK_MS = 50;
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const cluster = await startEmulatorCluster({ endpoints: 3 });
  await helper.startServer();
  cluster.sql("CREATE DATABASE IF NOT EXISTS fo");
  await helper.load(
    [nodeModule("tdengine-config"), nodeModule("tdengine-write")],
    [
      { id: "tab", type: "tab", label: "bench" },
      { id: "cfg", type: "tdengine-config", url: cluster.wsUrls, database: "fo", timeout: 2000, maxBackoff: 500 },
      {
        id: "w", type: "tdengine-write", z: "tab", server: "cfg", stable: "meters", subtableMode: "template", subtable: "d_${groupid}",
        tsField: "ts", tsUnit: "ms", columns: "ts TIMESTAMP, v INT", tags: "groupid INT", autoCreate: true, precision: "ms",
        batchSize: 1000, flushInterval: 20, output: true, wires: [["out"]],
      },
      { id: "out", type: "helper", z: "tab" },
    ],
    { cfg: { user: "root", password: "taosdata" } },
  );
  // A real runtime has no test-helper spies; they would keep every message in memory (bench/support/unspy.ts).
  unspy(helper, ["w"]);
  const acks: number[] = [];
  let written = 0;
  helper.getNode("out").on("input", (m: { payload: { written: number } }) => {
    acks.push(Date.now());
    written += m.payload.written;
  });
  const inUse = (): number => cluster.stats().perEndpoint.findIndex((n) => n > 0);
  await waitFor("connected", () => inUse() >= 0);
  const w = helper.getNode("w");
  const T0 = Date.now() - 3_600_000;
  let sent = 0;
  let pumping = true;
  const pump = (async () => {
    let next = Date.now();
    while (pumping) {
      w.receive({ payload: Array.from({ length: PER_TICK }, (_, k) => ({ ts: T0 + Math.floor((sent * PER_TICK + k) / 8), v: k, groupid: (sent * PER_TICK + k) % 8 })) });
      sent++;
      next += TICK_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  const switches: number[] = [];
  for (let i = 0; i < SWITCHES; i++) {
    const warm = acks.length + 10;
    await waitFor("steady writes", () => acks.length >= warm, { timeoutMs: 30000 });
    const ep = inUse();
    const at = Date.now();
    await cluster.endpoints[ep].stop();
    await waitFor("a write after the switch", () => acks.some((t) => t > at), { timeoutMs: 30000 });
    const before = acks.filter((t) => t <= at).pop() ?? at;
    switches.push((acks.find((t) => t > at) as number) - before);
    await cluster.endpoints[ep].start();
  }
  pumping = false;
  await pump;
  await waitFor("all written", () => written >= sent * PER_TICK, { timeoutMs: 60000 });
  const stored = Number(cluster.sql("SELECT COUNT(*) FROM fo.meters").rows[0][0]);
  const sorted = [...switches].sort((a, b) => a - b);
  console.log(`# Endpoint failover (${runtimeName} ${runtimeVersion}, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GB)`);
  console.log("");
  console.log("| switches | rate (rows/s) | p50 (ms) | p99 (ms) | max (ms) | rows sent | rows stored | rows counted written |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
  console.log(`| ${switches.length} | ${RATE} | ${pct(sorted, 50)} | ${pct(sorted, 99)} | ${sorted[sorted.length - 1]} | ${sent * PER_TICK} | ${stored} | ${written} |`);
  console.log("");
  console.log(`switch times (ms): ${switches.join(", ")}`);
  if (stored !== sent * PER_TICK || written !== sent * PER_TICK) {
    console.log("ROWS LOST OR DOUBLED");
    process.exitCode = 1;
  }
  await helper.unload();
  await helper.stopServer();
  await cluster.stop();
}

runMain(main);
