// Dashboard clients for the fan-out benchmark, many per process, run as a child with an IPC channel:
//   replica: the page's own replication (viewer/replica.js) with a Node Perspective client and a local table
//            in this process; freshness of each applied delta = now minus the newest row timestamp of the
//            local table afterwards (what the page measures).
//   light:   the raw protocol only: make the flat view, subscribe on_update in row mode, take the view's
//            snapshot (to_arrow) as a page does, count the bytes, apply nothing. The request bodies come from
//            what a real client sends (captured once), so no encoder is written here beyond the envelope
//            (msg_id, entity_id, the request's field number).
// Usage (by bench/fanout.ts): node fanout-client.js <ws url> <table entity> <replica|light> <count>
// IPC: sends {ready} once every client subscribed; on {report} answers {samples, arrivals, bytes, deltas}; on
// {reset} forgets samples so far. arrivals[i] goes with samples[i]: the same newest row's age when the frame
// carrying its delta arrived, before this client applied it (what the server and the network took).
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { loadPerspective } from "../../lib/perspective/load";
import { readMsgId } from "../../lib/perspective/protocol";
import { fieldsOf } from "../../test/support/perspective-frames";

const [url, entity, mode, countArg] = process.argv.slice(2);
const count = Number(countArg);

interface ReplicaModule {
  WireTap: new () => { onSend(b: Uint8Array): void; onReceive(b: ArrayBuffer): void; sent: Map<number, number> };
  openClient(url: string, deps: unknown): Promise<{ client: PerspectiveClient; close(): void }>;
  replicate(remote: unknown, make: (d: ArrayBuffer, o: object) => Promise<LocalTable>, opts: object): Promise<{ table: LocalTable }>;
}
interface PerspectiveClient {
  open_table(name: string): Promise<unknown>;
}
interface LocalTable {
  view(c: object): Promise<{ to_columns(o: object): Promise<Record<string, unknown[]>> }>;
}

let samples: number[] = [];
let arrivals: number[] = [];
let bytes = 0;
let deltas = 0;

async function importReplica(): Promise<ReplicaModule> {
  const file = join(__dirname, "..", "..", "..", "viewer", "replica.js");
  return (await import(pathToFileURL(file).href)) as ReplicaModule;
}

async function startReplica(psp: Awaited<ReturnType<typeof loadPerspective>>, replica: ReplicaModule): Promise<void> {
  const tap = new replica.WireTap();
  const orig = tap.onReceive.bind(tap);
  let arrived = 0;
  tap.onReceive = (b: ArrayBuffer) => {
    bytes += b.byteLength;
    arrived = Date.now();
    orig(b);
  };
  const { client } = await replica.openClient(url, { WebSocket, makeClient: psp.make_client, tap });
  const remote = await client.open_table(entity);
  const probe: { newest?: { to_columns(o: object): Promise<Record<string, unknown[]>> } } = {};
  let reading = false;
  const r = await replica.replicate(remote, (d, o) => psp.default.table(d, o) as unknown as Promise<LocalTable>, {
    tap,
    onDelta: () => {
      deltas++;
      // One read at a time: under load a client measures its newest delta, like a repaint.
      const newest = probe.newest;
      if (!newest || reading) return;
      reading = true;
      // The frame of this delta is the last one received (onDelta runs as its update is sent).
      const at = arrived;
      void newest.to_columns({ start_row: 0, end_row: 1 }).then((c) => {
        const ts = Number(c.ts?.[0]);
        if (!Number.isFinite(ts)) return;
        samples.push(Date.now() - ts);
        arrivals.push(at - ts);
      }).finally(() => (reading = false));
    },
  });
  probe.newest = await r.table.view({ columns: ["ts"], sort: [["ts", "desc"]] });
}

/** A Request envelope: msg_id (1), entity_id (2), then the request `body` as field `kind`. */
function envelope(msgId: number, entityId: string, kind: number, body: Uint8Array): Uint8Array {
  const parts: number[] = [];
  const varint = (n: number): void => {
    while (n > 127) {
      parts.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    parts.push(n);
  };
  const bytesField = (field: number, b: Uint8Array): void => {
    varint(field * 8 + 2);
    varint(b.length);
    for (const x of b) parts.push(x);
  };
  varint(8);
  varint(msgId);
  bytesField(2, new TextEncoder().encode(entityId));
  bytesField(kind, body);
  return new Uint8Array(parts);
}

/** Body of a TableMakeViewReq with only its view_id: a flat view, as `table.view()` sends it. */
function makeViewBody(viewId: string): Uint8Array {
  const id = new TextEncoder().encode(viewId);
  return new Uint8Array([0x0a, id.length, ...id]);
}

/**
 * The bodies a real client puts in view_on_update({mode: "row"}) and view_to_arrow(), captured from its own frames
 * to a server here.
 */
async function captureBodies(psp: Awaited<ReturnType<typeof loadPerspective>>): Promise<{ onUpdate: Uint8Array; toArrow: Uint8Array }> {
  let body: Uint8Array | undefined;
  let arrow: Uint8Array | undefined;
  const server = new psp.PerspectiveServer();
  const holder: { client?: ReturnType<typeof psp.make_client> } = {};
  const session = server.make_session(async (resp: Uint8Array) => {
    await holder.client!.handle_response(resp);
  });
  holder.client = psp.make_client(async (req: Uint8Array) => {
    const onUpdate = fieldsOf(req).find((f) => f.field === 21);
    if (onUpdate) body = (onUpdate.value as Uint8Array).slice();
    const toArrow = fieldsOf(req).find((f) => f.field === 16);
    if (toArrow) arrow = (toArrow.value as Uint8Array).slice();
    await session.handle_request(req);
  });
  // A schema object (column -> type name); the typings only list data shapes.
  const t = await holder.client.table({ x: "integer" } as unknown as Record<string, unknown[]>);
  const v = await t.view();
  await v.on_update(() => undefined, { mode: "row" });
  await v.to_arrow();
  await v.delete();
  await t.delete();
  if (!body || !arrow) throw new Error("could not capture the on_update and to_arrow request bodies");
  return { onUpdate: body, toArrow: arrow };
}

async function startLight(index: number, bodies: { onUpdate: Uint8Array; toArrow: Uint8Array }): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const viewId = `bench-light-${process.pid}-${index}`;
  // Replies are told from deltas by their msg_id (the subscription's is 2).
  const waiting = new Map<number, () => void>();
  ws.on("message", (data: Buffer) => {
    bytes += data.length;
    const id = readMsgId(data) ?? 0;
    const answered = waiting.get(id);
    if (answered) {
      waiting.delete(id);
      answered();
    } else deltas++;
  });
  const ask = (msgId: number, entityId: string, kind: number, body: Uint8Array): Promise<void> =>
    new Promise<void>((resolve) => {
      waiting.set(msgId, resolve);
      ws.send(envelope(msgId, entityId, kind, body));
    });
  await ask(1, entity, 6, makeViewBody(viewId));
  // As a page: the subscription, then the snapshot (taken whole, then dropped).
  ws.send(envelope(2, viewId, 21, bodies.onUpdate));
  await ask(3, viewId, 16, bodies.toArrow);
}

async function main(): Promise<void> {
  const psp = await loadPerspective();
  const replica = await importReplica();
  if (mode === "replica") {
    for (let i = 0; i < count; i++) await startReplica(psp, replica);
  } else {
    const bodies = await captureBodies(psp);
    // 25 at a time: a thousand one after another took minutes on a loaded machine.
    for (let i = 0; i < count; i += 25) await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, k) => startLight(i + k, bodies)));
  }
  process.on("message", (m: { type: string }) => {
    if (m.type === "reset") {
      samples = [];
      arrivals = [];
      bytes = 0;
      deltas = 0;
    } else if (m.type === "report") {
      process.send?.({ type: "report", samples, arrivals, bytes, deltas });
    }
  });
  process.send?.({ type: "ready" });
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout client: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
