// Top functions by self time of a V8 .cpuprofile (as written by node --cpu-prof or the inspector Profiler).
// Usage as a script: node dist/bench/support/profile-top.js <file.cpuprofile> [top=15]
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface TopEntry {
  fn: string;
  selfMs: number;
  share: number;
}

/** Self time per function (summed over call sites), largest first. */
export function topSelf(file: string, top = 15): { totalMs: number; entries: TopEntry[] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000; // a sample's time runs until the next sample
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    const cf = n.callFrame;
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : "";
    const key = `${cf.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const entries = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, selfMs: ms, share: total > 0 ? ms / total : 0 }));
  return { totalMs: total, entries };
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm + "node_modules/".length);
  const dist = path.lastIndexOf("/dist/");
  if (dist >= 0) return path.slice(dist + 1);
  return path.startsWith("/") ? relative(process.cwd(), path) : path;
}

export function topSelfMarkdown(file: string, top = 12): string {
  const { totalMs, entries } = topSelf(file, top);
  const lines = [`| self ms | share | function |`, `|---:|---:|---|`];
  for (const e of entries) lines.push(`| ${e.selfMs.toFixed(0)} | ${(e.share * 100).toFixed(1)} % | \`${e.fn.replace(/\|/g, "\\|")}\` |`);
  lines.push(`| ${totalMs.toFixed(0)} | 100 % | total sampled |`);
  return lines.join("\n");
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: profile-top.js <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  process.stdout.write(topSelfMarkdown(file, Number(top ?? 15)) + "\n");
}
