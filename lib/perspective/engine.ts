// Runs a Perspective engine (engine-worker.ts) in a worker thread and supervises it: a heartbeat every
// `heartbeatMs`; an engine that dies, or leaves a heartbeat unanswered for `hangMs` (stuck in WASM), is
// terminated and replaced by a warm spare (an engine already loaded, so the switch does not wait for WASM
// to compile), and a new spare is started. Whoever owns the supervisor refills the new engine (onRestart).
//
// A worker thread rather than a child process: request and response bytes move as transferred ArrayBuffers
// (no copy, no pipe), start-up shares the process's module cache, and terminate() stops even a WASM loop.
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import type { EngineCall, FromEngine, ToEngine } from "./engine-messages";
import { threadCpuMs } from "./thread-cpu";

export interface EngineOptions {
  /** Heartbeat period (default 250 ms). */
  heartbeatMs?: number;
  /**
   * An engine that leaves a heartbeat unanswered while it burns this much CPU is restarted (default 1500 ms).
   * Counted in the engine thread's CPU time where the OS tells it (Linux), else in wall time: on a busy machine
   * a starved engine is slow, not hung, and a false restart costs every browser a reconnection.
   */
  hangMs?: number;
  /** An engine silent this long in wall time is restarted whatever its CPU time (default 15 s). */
  hangWallMs?: number;
  onWarning?: (message: string) => void;
}

/** Thrown to callers whose call was lost with an engine that died or was restarted. */
export class EngineGoneError extends Error {
  constructor(reason: string) {
    super(`the Perspective engine was restarted (${reason})`);
  }
}

const WORKER_FILE = join(__dirname, "engine-worker.js");
/** Delay before a new spare is started after a restart. */
const SPARE_DELAY_MS = 1000;

class EngineThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextCall = 1;
  dead = false;
  /** Sequence, send time and engine CPU time (ms) at sending of the heartbeat waiting for its pong. */
  ping: { n: number; at: number; cpu?: number } | undefined;
  /** The engine thread's kernel id, once it is ready (Linux). */
  tid: number | undefined;
  private pings = 0;

  constructor(
    private readonly onMessage: (t: EngineThread, m: FromEngine) => void,
    private readonly onExit: (t: EngineThread, why: string) => void,
  ) {
    this.worker = new Worker(WORKER_FILE);
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    this.worker.on("message", (m: FromEngine) => {
      if (m.op === "ready") {
        this.tid = m.tid;
        return readyResolve();
      }
      if (m.op === "pong") {
        if (this.ping?.n === m.n) this.ping = undefined;
        return;
      }
      if (m.op === "result") {
        const c = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (m.error !== undefined) c?.reject(new Error(m.error));
        else c?.resolve(m.value);
        return;
      }
      this.onMessage(this, m);
    });
    this.worker.on("error", (err) => this.gone(`crashed: ${err.message}`, readyReject));
    this.worker.on("exit", (code) => this.gone(`exited with code ${code}`, readyReject));
    // The engine never keeps Node-RED (or a test) alive on its own. After the listeners: adding a "message"
    // listener refs the worker's port again.
    this.worker.unref();
  }

  private gone(why: string, readyReject: (e: Error) => void): void {
    if (this.dead) return;
    this.dead = true;
    readyReject(new Error(`the Perspective engine ${why}`));
    this.failCalls(why);
    this.onExit(this, why);
  }

  failCalls(why: string): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.reject(new EngineGoneError(why));
  }

  post(m: ToEngine, transfer: ArrayBuffer[] = []): void {
    if (this.dead) return;
    this.worker.postMessage(m, transfer);
  }

  call(call: EngineCall): Promise<unknown> {
    if (this.dead) return Promise.reject(new EngineGoneError("the engine is down"));
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.post({ op: "call", id, call });
    });
  }

  /** CPU ms the engine thread has used, or undefined where the OS does not say. */
  cpuMs(): number | undefined {
    return this.tid === undefined ? undefined : threadCpuMs(this.tid);
  }

  sendPing(): void {
    this.ping = { n: ++this.pings, at: Date.now(), cpu: this.cpuMs() };
    this.post({ op: "ping", n: this.ping.n });
  }

  kill(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.failCalls(why);
    void this.worker.terminate().catch(() => undefined);
  }
}

export class EngineSupervisor {
  private active: EngineThread;
  private spare: EngineThread | undefined;
  private readonly heartbeatMs: number;
  private readonly hangMs: number;
  private readonly hangWallMs: number;
  private readonly timer: NodeJS.Timeout;
  private lastTick = Date.now();
  private stopped = false;
  private restarting: Promise<void> | undefined;
  /** Engines started so far, the first included. */
  generation = 1;
  restarts = 0;
  /** The last restart: why, when it began and when the new engine was refilled (ms since the epoch). */
  lastRestart: { reason: string; startedAt: number; upAt?: number } | undefined;
  /** Called with each response of a browser session. */
  onResponse: (sid: number, buf: Uint8Array) => void = () => undefined;
  /** Called with each row delta of a watched table. */
  onDelta: (entity: string, buf: Uint8Array | undefined, port: number) => void = () => undefined;
  /** Called once a replacement engine is ready, before anyone else uses it (the host refills it). */
  onRestart: (reason: string) => Promise<void> = async () => undefined;

  constructor(private readonly opts: EngineOptions = {}) {
    this.heartbeatMs = opts.heartbeatMs ?? 250;
    this.hangMs = opts.hangMs ?? 1500;
    this.hangWallMs = opts.hangWallMs ?? 15000;
    this.active = this.spawn();
    this.active.ready.then(() => this.ensureSpare(), () => undefined);
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Resolves when the current engine has loaded Perspective. */
  get ready(): Promise<void> {
    return this.active.ready;
  }

  private spawn(): EngineThread {
    return new EngineThread(
      (t, m) => {
        if (t !== this.active) return;
        if (m.op === "response") this.onResponse(m.sid, m.buf);
        else if (m.op === "delta") this.onDelta(m.entity, m.buf, m.port);
        else if (m.op === "warning") this.opts.onWarning?.(`Perspective engine: ${m.message}`);
      },
      (t, why) => {
        if (t === this.spare) this.spare = undefined;
        if (t !== this.active || this.stopped) return;
        // The replacement died while it was being refilled: start over once this restart has finished.
        if (this.restarting) void this.restarting.finally(() => t === this.active && this.restart(why));
        else void this.restart(why);
      },
    );
  }

  private ensureSpare(): void {
    if (!this.stopped && !this.spare) this.spare = this.spawn();
  }

  /** Resolves once a warm spare engine is loaded (tests wait for it before they measure a restart). */
  async spareReady(): Promise<void> {
    for (;;) {
      const s = this.spare;
      if (s) {
        try {
          await s.ready;
          if (s === this.spare) return;
        } catch {
          // it died; the next one is on its way
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.lastTick > this.heartbeatMs + 200;
    this.lastTick = now;
    if (this.stopped || this.restarting) return;
    const t = this.active;
    // Our own thread was held up (a blocked Node-RED loop): its pongs may be queued, so judge next time.
    if (late) return;
    if (t.ping) {
      const wall = now - t.ping.at;
      const cpu = t.ping.cpu === undefined ? undefined : t.cpuMs();
      const busy = cpu === undefined || t.ping.cpu === undefined ? wall : cpu - t.ping.cpu;
      if (busy > this.hangMs || wall > this.hangWallMs) {
        void this.restart(`no heartbeat for ${wall} ms${cpu === undefined ? "" : ` (${busy} ms of engine CPU)`}`);
      }
      return;
    }
    t.ready.then(() => t === this.active && !t.ping && t.sendPing(), () => undefined);
  }

  /** Replaces the engine (hung, crashed or asked to) and lets the owner refill the new one. */
  restart(reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.restarting) return this.restarting;
    this.restarting = (async () => {
      this.restarts++;
      const record: { reason: string; startedAt: number; upAt?: number } = { reason, startedAt: Date.now() };
      this.lastRestart = record;
      this.opts.onWarning?.(`Perspective engine restarted: ${reason}`);
      this.active.kill(reason);
      for (;;) {
        const next = this.spare ?? this.spawn();
        this.spare = undefined;
        this.active = next;
        this.generation++;
        try {
          await next.ready;
          break;
        } catch (err) {
          next.kill("failed to start");
          this.opts.onWarning?.(`${(err as Error).message}; trying again`);
          await new Promise((r) => setTimeout(r, 1000));
          if (this.stopped) return;
        }
      }
      // The next spare compiles Perspective (CPU-heavy): start it once the refill is done, not during it.
      setTimeout(() => this.ensureSpare(), SPARE_DELAY_MS).unref();
      try {
        await this.onRestart(reason);
      } catch (err) {
        this.opts.onWarning?.(`refilling the Perspective engine failed: ${(err as Error).message}`);
      }
      record.upAt = Date.now();
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  /** Resolves once no restart is under way (at once when none is). */
  whenUp(): Promise<void> {
    return this.restarting ?? Promise.resolve();
  }

  call(call: EngineCall): Promise<unknown> {
    return this.active.call(call);
  }

  openSession(sid: number): void {
    this.active.post({ op: "open", sid });
  }

  request(sid: number, buf: Uint8Array): void {
    // The bytes came from ws (a Buffer slice of a shared pool perhaps): copy once into a buffer of their own,
    // which is then moved to the engine.
    const own = buf.slice();
    this.active.post({ op: "request", sid, buf: own }, [own.buffer as ArrayBuffer]);
  }

  watch(entity: string): void {
    this.active.post({ op: "watch", entity });
  }

  unwatch(entity: string): void {
    this.active.post({ op: "unwatch", entity });
  }

  closeSession(sid: number): void {
    this.active.post({ op: "close", sid });
  }

  /** Test hooks: make the engine die, or hang in a loop that answers no heartbeat. */
  crashForTest(): void {
    this.active.post({ op: "crash" });
  }
  hangForTest(): void {
    this.active.post({ op: "hang" });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.active.kill("stopped");
    this.spare?.kill("stopped");
    this.spare = undefined;
  }
}
