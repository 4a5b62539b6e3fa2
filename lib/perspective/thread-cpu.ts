// CPU time of one thread of this process, from Linux's /proc (elsewhere: unknown). The supervisor tells a hung
// engine (spinning: it burns CPU without answering) from a starved one (a busy machine gives it no CPU) by it.
import { readFileSync, readlinkSync } from "node:fs";

/** The calling thread's kernel thread id (Linux), or undefined. */
export function currentThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU ms of thread `tid` of this process (USER_HZ 100, 10 ms steps), or undefined. */
export function threadCpuMs(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at "state": utime and stime are 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (Number(f[11]) + Number(f[12])) * 10;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}
