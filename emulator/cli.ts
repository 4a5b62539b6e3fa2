// Command line: npm run emulator -- --port 6041 [--endpoints N] [--host H] [--user U] [--password P] [--max-rows-per-table N]
// [--vgroups N] [--tmq-session-timeout-ms MS] [--tmq-max-poll-interval-ms MS] [--ttl-unit S] [--ttl-push-interval S]
// With --endpoints N (cluster mode) each endpoint can be stopped and started alone: type its number and Enter on
// stdin, or send SIGUSR1 (stops the first running endpoint) / SIGUSR2 (starts every stopped one).
import { startEmulator, startEmulatorCluster, type EmulatorCluster, type EmulatorOptions } from "./index.js";

const USAGE = `usage: emulator [--port 6041] [--endpoints 1] [--host 127.0.0.1] [--user root] [--password taosdata] [--max-rows-per-table N] [--reorder-replies]
                [--vgroups 2] [--tmq-session-timeout-ms 12000] [--tmq-max-poll-interval-ms 300000]
                [--ttl-unit 86400] [--ttl-push-interval 10]

  Serves taosAdapter's REST API (/rest/sql), WebSocket API (/ws) and data subscription (/rest/tmq).
  --vgroups N                    vgroups of a database created without VGROUPS (1..1024); TMQ consumer groups
                                 split a topic's vgroups between their members
  --tmq-session-timeout-ms MS    session.timeout.ms of consumers that set none: a consumer whose socket sends
                                 nothing (not even a pong) for this long is closed and its vgroups reassigned
  --tmq-max-poll-interval-ms MS  max.poll.interval.ms of consumers that set none: a consumer that does not poll
                                 for this long loses its vgroups until it polls again
  --ttl-unit S                   TDengine's ttlUnit: seconds per unit of a table's TTL (1..31572500; default
                                 86400, TTL in days). A table with TTL n is dropped n units after its creation
  --ttl-push-interval S          TDengine's ttlPushInterval: seconds between sweeps dropping expired tables

  --endpoints N   cluster mode: N taosAdapter endpoints on ports P..P+N-1 over one shared store.
                  While it runs, stop or start one endpoint alone:
                    type its number (0..N-1) and Enter   toggles it (stopped <-> listening)
                    type "s" and Enter                   prints which endpoints are up
                    kill -USR1 <pid>                     stops the first endpoint that is up
                    kill -USR2 <pid>                     starts every stopped endpoint
`;

function parseArgs(argv: string[]): EmulatorOptions & { endpoints: number } {
  const opts: EmulatorOptions & { endpoints: number } = { port: 6041, endpoints: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const need = (): string => {
      if (v === undefined) throw new Error(`missing value for ${a}`);
      i++;
      return v;
    };
    switch (a) {
      case "--port":
        opts.port = Number(need());
        break;
      case "--endpoints":
        opts.endpoints = Number(need());
        break;
      case "--host":
        opts.host = need();
        break;
      case "--user":
        opts.user = need();
        break;
      case "--password":
        opts.password = need();
        break;
      case "--max-rows-per-table":
        opts.maxRowsPerTable = Number(need());
        break;
      case "--vgroups":
        opts.vgroups = Number(need());
        break;
      case "--tmq-session-timeout-ms":
        opts.tmqSessionTimeoutMs = Number(need());
        break;
      case "--tmq-max-poll-interval-ms":
        opts.tmqMaxPollIntervalMs = Number(need());
        break;
      case "--ttl-unit":
        opts.ttlUnit = Number(need());
        break;
      case "--ttl-push-interval":
        opts.ttlPushInterval = Number(need());
        break;
      case "--reorder-replies":
        opts.reorderReplies = true;
        break;
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!Number.isInteger(opts.port) || (opts.port as number) < 0) throw new Error("--port must be an integer");
  if (!Number.isInteger(opts.endpoints) || opts.endpoints < 1 || opts.endpoints > 64) throw new Error("--endpoints must be an integer from 1 to 64");
  for (const [flag, v] of [["--tmq-session-timeout-ms", opts.tmqSessionTimeoutMs], ["--tmq-max-poll-interval-ms", opts.tmqMaxPollIntervalMs]] as const)
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`${flag} must be a positive integer`);
  return opts;
}

function describe(cluster: EmulatorCluster): string {
  return cluster.endpoints.map((e) => `${e.index}:${e.port}=${e.running() ? "up" : "stopped"}`).join(" ");
}

/** Stdin lines and USR1/USR2 stop and start single endpoints (a taosAdapter dying and coming back). */
function controlCluster(cluster: EmulatorCluster): void {
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  const toggle = async (i: number): Promise<void> => {
    const ep = cluster.endpoints[i];
    if (ep.running()) await ep.stop();
    else await ep.start();
    say(`endpoint ${i} (${ep.wsUrl}) ${ep.running() ? "listening" : "stopped"}; ${describe(cluster)}`);
  };
  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buffered = (buffered + chunk).slice(-1024);
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === "s") say(describe(cluster));
      else if (/^\d+$/.test(line) && Number(line) < cluster.endpoints.length) void toggle(Number(line)).catch((e: Error) => say(`endpoint ${line}: ${e.message}`));
      else if (line) say(`type an endpoint number 0..${cluster.endpoints.length - 1} to stop/start it, or "s" for status`);
    }
  });
  process.on("SIGUSR1", () => {
    const ep = cluster.endpoints.find((e) => e.running());
    if (ep) void toggle(ep.index);
  });
  process.on("SIGUSR2", () => {
    for (const ep of cluster.endpoints) if (!ep.running()) void toggle(ep.index);
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  let emu: { stop(): Promise<void> };
  if (opts.endpoints > 1) {
    const cluster = await startEmulatorCluster(opts);
    emu = cluster;
    process.stdout.write(`taosAdapter emulator cluster, ${opts.endpoints} endpoints over one store: ${cluster.wsUrls}\n${describe(cluster)}\n`);
    process.stdout.write(`type an endpoint number and Enter to stop/start it, "s" for status (--help for more)\n`);
    controlCluster(cluster);
  } else {
    const single = await startEmulator(opts);
    emu = single;
    process.stdout.write(`taosAdapter emulator listening on ${single.httpUrl} (WebSocket ${single.wsUrl}/ws)\n`);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emu.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
