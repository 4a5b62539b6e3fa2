// A V8 CPU profile of this process over a stretch of a benchmark (the inspector's Profiler), so that a bench can
// profile one phase instead of the whole run as --cpu-prof would.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

export function profileSelf(): { stop(file: string): Promise<void> } {
  const s = new Session();
  s.connect();
  const post = (method: string, params?: object): Promise<unknown> => new Promise((res, rej) => s.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r))));
  const started = post("Profiler.enable").then(() => post("Profiler.start"));
  return {
    async stop(file) {
      await started;
      const r = (await post("Profiler.stop")) as { profile: unknown };
      writeFileSync(file, JSON.stringify(r.profile));
      s.disconnect();
    },
  };
}
