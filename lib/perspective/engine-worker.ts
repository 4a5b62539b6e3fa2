// The Perspective engine, in a worker thread: one PerspectiveServer, its browser sessions and a local client
// that creates and feeds the tables. Everything here may be slow (WASM), so nothing here runs on Node-RED's
// thread. Messages are handled strictly in order (a table op, then a snapshot, then a request...), which the
// host's replay log relies on.
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { loadPerspective, type Client, type Table } from "./load";
import type { EngineCall, FromEngine, ToEngine } from "./engine-messages";
import { currentThreadId } from "./thread-cpu";

interface Session {
  handle_request(buf: Uint8Array): Promise<void>;
  close(): void;
}

const port = parentPort!;
/** Nice value of the engine thread (Node-RED's stays as it is). */
const ENGINE_NICE = 10;
const post = (m: FromEngine, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const warn = (message: string): void => post({ op: "warning", message });

async function main(): Promise<void> {
  const psp = await loadPerspective();
  const server = new psp.PerspectiveServer();
  const local: { client?: Client } = {};
  const localSession = server.make_session(async (resp) => {
    await local.client!.handle_response(resp);
  });
  const client = psp.make_client(async (req) => {
    await localSession.handle_request(req);
  });
  local.client = client;
  const tables = new Map<string, Table>();
  /** Watched tables: one flat view each, its row deltas posted once for every subscribed browser. */
  const watches = new Map<string, { delete(): Promise<void> }>();
  const unwatch = async (entity: string): Promise<void> => {
    const v = watches.get(entity);
    watches.delete(entity);
    await v?.delete().catch((err: unknown) => warn(`closing the shared view of ${entity} failed: ${(err as Error)?.message ?? err}`));
  };
  const sessions = new Map<number, Session>();

  const table = (entity: string): Table => {
    const t = tables.get(entity);
    if (!t) throw new Error(`no table ${entity}`);
    return t;
  };

  async function call(c: EngineCall): Promise<{ value?: unknown; transfer?: ArrayBuffer[] }> {
    switch (c.fn) {
      case "make": {
        const options: { name: string; index?: string; limit?: number } = { name: c.options.name };
        if (c.options.index) options.index = c.options.index;
        else if (c.options.limit) options.limit = c.options.limit;
        // A {column: type} object is a schema to the engine; the typings only list data shapes.
        tables.set(c.options.name, await client.table(c.schema as unknown as Record<string, unknown[]>, options));
        return {};
      }
      case "update":
        await table(c.entity).update(c.data as Record<string, unknown[]>);
        return {};
      case "updateArrow":
        await table(c.entity).update(c.arrow);
        return {};
      case "replace":
        await table(c.entity).replace(c.data as Record<string, unknown[]>);
        return {};
      case "clear":
        await table(c.entity).clear();
        return {};
      case "remove":
        await table(c.entity).remove(c.keys as string[]);
        return {};
      case "size":
        return { value: await table(c.entity).size() };
      case "delete": {
        const t = table(c.entity);
        tables.delete(c.entity);
        // Our own view would hold the table forever (a lazy delete waits for every view).
        await unwatch(c.entity);
        // Lazily: a plain delete fails while a browser holds a view, and leaves the handle unusable. A lazy
        // delete resolves only when the last view goes, so it is not awaited here (it would hold up the queue).
        t.delete({ lazy: true }).catch((err: unknown) => warn(`deleting ${c.entity} failed: ${(err as Error)?.message ?? err}`));
        return {};
      }
      case "snapshot": {
        const v = await table(c.entity).view();
        try {
          const rows = await v.num_rows();
          const arrow = await v.to_arrow();
          return { value: { arrow, rows }, transfer: [arrow] };
        } finally {
          await v.delete();
        }
      }
    }
  }

  async function handle(m: ToEngine): Promise<void> {
    switch (m.op) {
      case "ping":
        post({ op: "pong", n: m.n });
        return;
      case "open": {
        const sid = m.sid;
        // Responses are copied out of WASM memory once and their buffer transferred to the host.
        const s = server.make_session(async (resp) => {
          const copy = resp.slice();
          post({ op: "response", sid, buf: copy }, [copy.buffer as ArrayBuffer]);
        });
        sessions.set(sid, s);
        return;
      }
      case "request": {
        const s = sessions.get(m.sid);
        if (!s) return;
        // Not awaited in the queue: a request that waits on the engine must not hold up table updates.
        s.handle_request(m.buf).catch((err: unknown) => warn(`request failed: ${(err as Error)?.message ?? err}`));
        return;
      }
      case "close": {
        const s = sessions.get(m.sid);
        sessions.delete(m.sid);
        try {
          // Releases the views this client held. 3.8.0 can throw here (two views under one id): contained.
          s?.close();
        } catch (err) {
          warn(`closing a session failed: ${(err as Error)?.message ?? err}`);
        }
        return;
      }
      case "call": {
        try {
          const { value, transfer } = await call(m.call);
          post({ op: "result", id: m.id, value }, transfer);
        } catch (err) {
          post({ op: "result", id: m.id, error: (err as Error)?.message ?? String(err) });
        }
        return;
      }
      case "watch": {
        if (watches.has(m.entity) || !tables.has(m.entity)) return;
        const entity = m.entity;
        const v = await table(entity).view();
        watches.set(entity, v);
        // Called in the same turn as the update that caused it, before the next queued message (a browser's
        // snapshot request) is handled: a delta reaches the host before any snapshot that already holds it.
        await v.on_update(({ delta, port_id }: { delta?: ArrayBuffer; port_id?: number }) => {
          const buf = delta ? new Uint8Array(delta.slice(0)) : undefined;
          post({ op: "delta", entity, buf, port: port_id ?? 0 }, buf ? [buf.buffer as ArrayBuffer] : []);
        }, { mode: "row" });
        return;
      }
      case "unwatch":
        await unwatch(m.entity);
        return;
      case "crash":
        throw new Error("engine crash requested by a test");
      case "hang":
        for (;;) {
          // Spins like a runaway WASM loop: no heartbeat is answered until the supervisor terminates us.
        }
    }
  }

  // Pings are answered at once, outside the queue: the queue may legitimately wait on a long table update,
  // but a ping only goes unanswered when the thread itself is stuck.
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (m: ToEngine) => {
    if (m.op === "ping") return handle(m);
    if (m.op === "crash" || m.op === "hang") return void handle(m).catch((err: Error) => setImmediate(() => { throw err; }));
    // After each message the thread yields to its event loop, so a burst of requests (each short) cannot
    // starve the heartbeat and get the engine restarted as if it were stuck.
    queue = queue
      .then(() => handle(m))
      .catch((err: unknown) => warn(`engine message failed: ${(err as Error)?.message ?? err}`))
      .then(() => new Promise<void>((r) => setImmediate(r)));
  });
  const tid = currentThreadId();
  if (tid !== undefined) {
    try {
      // Node-RED's own thread first: when the CPU is short, the flows keep their pace and the dashboard
      // engine takes what is left (Linux: a thread's nice value is its own).
      setPriority(tid, ENGINE_NICE);
    } catch {
      // not allowed here: the engine runs at Node-RED's priority
    }
  }
  post({ op: "ready", tid });
}

main().catch((err: unknown) => {
  // Without Perspective there is no engine: exit, and the supervisor reports it.
  warn(`the engine could not start: ${(err as Error)?.message ?? err}`);
  process.exit(1);
});
