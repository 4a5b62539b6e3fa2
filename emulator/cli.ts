// Command line: npm run emulator -- --port 6041 [--host H] [--user U] [--password P] [--max-rows-per-table N]
import { startEmulator, type EmulatorOptions } from "./index.js";

function parseArgs(argv: string[]): EmulatorOptions {
  const opts: EmulatorOptions = { port: 6041 };
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
      case "--reorder-replies":
        opts.reorderReplies = true;
        break;
      case "--help":
      case "-h":
        process.stdout.write("usage: emulator [--port 6041] [--host 127.0.0.1] [--user root] [--password taosdata] [--max-rows-per-table N] [--reorder-replies]\n");
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!Number.isInteger(opts.port) || (opts.port as number) < 0) throw new Error("--port must be an integer");
  return opts;
}

async function main(): Promise<void> {
  const emu = await startEmulator(parseArgs(process.argv.slice(2)));
  process.stdout.write(`taosAdapter emulator listening on ${emu.httpUrl} (WebSocket ${emu.wsUrl}/ws)\n`);
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
