// Shared plumbing of the benchmark scripts: child processes (the emulator in its own process, other bench
// scripts), CPU and memory of a process read from /proc, the machine's description, medians and percentiles.
// Nothing here measures anything by itself.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

/** Root of the compiled tree (dist/). */
export const distDir = join(__dirname, "..", "..");

export function argNumber(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

export function argString(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : (process.argv[i + 1] ?? dflt);
}

export function argFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? "cpu"} × ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`;
}

export function median(a: number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** p-th percentile (0..100) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");

const TICK_MS = 10; // USER_HZ is 100 on Linux: utime/stime are in 10 ms ticks.

export interface ProcSample {
  /** user + system CPU time in ms since the process started. */
  cpuMs: number;
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size, MB. */
  peakRssMb: number;
}

/** CPU and memory of any process of this machine, from /proc (Linux). */
export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = (Number(f[11]) + Number(f[12])) * TICK_MS; // utime (14th), stime (15th) of the full line
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return { cpuMs, rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
}

/** Resets the peak RSS (VmHWM) of a process, so a peak belongs to one measurement (Linux, own processes). */
export function resetPeakRss(pid: number): void {
  try {
    // Writing 5 to clear_refs resets the peak resident set size.
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not permitted here: the peak then covers the process's whole life, which the report says.
  }
}

export interface EmulatorProcess {
  url: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** Starts emulator/cli.js in its own process on an ephemeral port (node flags e.g. --cpu-prof go first). */
export async function startEmulatorProcess(nodeFlags: string[] = [], cliArgs: string[] = []): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [...nodeFlags, join(distDir, "emulator", "cli.js"), "--port", "0", ...cliArgs], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /WebSocket (ws:\/\/[^\s)]+?)(\/ws)?\)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
  return { url, child, pid: child.pid!, stop: () => stopChild(child) };
}

/** SIGTERM, then wait for the exit (SIGKILL after 10 s); lets --cpu-prof write its profile. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Runs another compiled bench script as a child process and returns its stdout (stderr passes through). */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(distDir, "bench", script), ...args], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} ${args.join(" ")} exited with ${code}\n${out}`))));
  });
}

/** Markdown table rows of a script's output: each row as its cells (header and separator rows included). */
export function markdownRows(out: string): string[][] {
  return out
    .split("\n")
    .filter((l) => l.trim().startsWith("|"))
    .map((l) => l.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()));
}

/** "1,234,567" / "1 234 567" / "1234567" -> number. */
export function parseCount(s: string): number {
  return Number(s.replace(/[,\s]/g, "").replace(/%$/, ""));
}

/**
 * Runs a bench script's main and ends the process once it settles: on success with process.exitCode (0 unless main
 * set it, e.g. for a failed part), on an error with 1 after printing the stack (after `prefix`, when given). The
 * exit is explicit because Node-RED's test helper, clients and child processes may still hold the event loop.
 */
export function runMain(main: () => Promise<void> | void, prefix = ""): void {
  Promise.resolve()
    .then(main)
    .then(
      () => process.exit(),
      (err: unknown) => {
        process.stderr.write(`${prefix}${err instanceof Error ? (err.stack ?? String(err)) : String(err)}\n`);
        process.exit(1);
      },
    );
}
