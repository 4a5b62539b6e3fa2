// Keeps a local Perspective table equal to a hosted one: a snapshot of one flat view (`to_arrow`), then the
// row deltas of that view (`on_update` in row mode). Group-bys, expressions, filters and sorts then run on the
// local table, so the server only streams rows. Shared by the dashboard page and the fan-out benchmark's Node
// clients: it uses the Perspective client API and a WebSocket, nothing of the DOM.
//
// Ordering between the snapshot and the deltas. The subscription is sent BEFORE the snapshot request, on the
// same socket. The server handles a session's requests in order and sends every message in the order it
// happens, so each delta reaches us either before the snapshot's reply (its rows are already in the snapshot:
// drop it) or after it (its rows are not: apply it). Which side a delta is on must be read from the order of
// the frames on the socket, not from when the client library runs our callbacks: several frames can be
// handled in one task, and a delta's callback then runs before the snapshot's promise resumes us (measured:
// one delta in every attempt under 10k rows/s). So the socket is ours (openClient) and a WireTap counts the
// subscription's frames that arrive before the snapshot's reply. Applying a pre-snapshot delta again would be
// harmless for an index table (an upsert) but duplicates rows in a limit table and pushes its oldest rows
// out; skipping a later one loses rows.

/* global TextDecoder */
const VIEW_TO_ARROW = 16;
const VIEW_ON_UPDATE = 21;

/** Reads field 1 (msg_id), field 2 (entity_id) and the oneof's field number of a Perspective protobuf message. */
export function readHeader(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let pos = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < b.length; i++) {
      const x = b[pos++];
      v += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new Error("bad varint");
  };
  const out = { msgId: 0, entityId: "", kind: undefined };
  while (pos < b.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = varint();
      value = b.subarray(pos, pos + n);
      pos += n;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error("bad wire type");
    if (field === 1 && wire === 0) out.msgId = value;
    else if (field === 2 && wire === 2) out.entityId = new TextDecoder().decode(value);
    else if (field >= 3 && out.kind === undefined) out.kind = field;
  }
  return out;
}

/** Watches the frames of one client: which requests it sent, and how many subscription frames came before a snapshot. */
export class WireTap {
  constructor() {
    /** Request kind (oneof field number) -> how many were sent. */
    this.sent = new Map();
    this.bytesIn = 0;
    this.framesIn = 0;
    this.watches = new Map();
  }
  onSend(bytes) {
    let h;
    try {
      h = readHeader(bytes);
    } catch {
      return;
    }
    this.sent.set(h.kind, (this.sent.get(h.kind) || 0) + 1);
    if (h.kind === VIEW_ON_UPDATE || h.kind === VIEW_TO_ARROW) {
      let w = this.watches.get(h.entityId);
      if (!w) this.watches.set(h.entityId, (w = { updateId: undefined, arrowId: undefined, before: 0, done: false }));
      if (h.kind === VIEW_ON_UPDATE) w.updateId = h.msgId;
      else w.arrowId = h.msgId;
    }
  }
  onReceive(bytes) {
    this.bytesIn += bytes.byteLength;
    this.framesIn++;
    if (this.watches.size === 0) return;
    let h;
    try {
      h = readHeader(bytes);
    } catch {
      return;
    }
    for (const w of this.watches.values()) {
      if (w.done) continue;
      if (h.msgId === w.arrowId) w.done = true;
      else if (h.msgId === w.updateId) w.before++;
    }
  }
  /**
   * Subscription frames that arrived before the snapshot's reply, for the one replication in flight on this
   * client (replicate() takes them one at a time), and forgets it.
   */
  takeDeltasBeforeSnapshot() {
    for (const [id, w] of this.watches) {
      if (w.done && w.updateId !== undefined) {
        this.watches.delete(id);
        return w.before;
      }
    }
    throw new Error("no snapshot reply seen");
  }
}

/**
 * A Perspective client on a WebSocket we own, so that `tap` sees every frame in socket order.
 * @param {string} url
 * @param {{WebSocket: any, makeClient: (send: Function, close: Function) => any, tap: WireTap, onClose?: (reason: string) => void}} deps
 */
export async function openClient(url, { WebSocket: WS, makeClient, tap, onClose }) {
  const ws = new WS(url);
  ws.binaryType = "arraybuffer";
  let client;
  let closed = false;
  const fail = (reason) => {
    if (closed) return;
    closed = true;
    if (client) void client.handle_error(reason, null).catch(() => undefined);
    if (onClose) onClose(reason);
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("WebSocket error"));
    ws.onclose = (e) => reject(new Error(`WebSocket closed ${e.code}`));
  });
  ws.onerror = () => fail("WebSocket error");
  ws.onclose = (e) => fail(`WebSocket closed ${e.code}`);
  client = makeClient(
    async (req) => {
      if (ws.readyState !== 1) throw new Error(`WebSocket not open (${ws.readyState})`);
      tap.onSend(req);
      ws.send(req.slice().buffer);
    },
    async () => ws.close(),
  );
  ws.onmessage = (e) => {
    const data = e.data instanceof ArrayBuffer ? e.data : e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength);
    tap.onReceive(data);
    void client.handle_response(data).catch(() => undefined);
  };
  return { client, socket: ws, close: () => { closed = true; ws.close(); } };
}

/**
 * Replicates `remote` (from `client.open_table(name)`) into a table made by `makeTable(arrow, options)`.
 * @param {object} remote
 * @param {(data: ArrayBuffer, options: {index?: string, limit?: number}) => Promise<object>} makeTable
 * @param {{tap: WireTap, index?: string, limit?: number, onDelta?: (delta: ArrayBuffer, local: object) => void,
 *   maxBacklogDeltas?: number, maxBacklogMs?: number, onBehind?: (b: {deltas: number, ageMs: number}, local: object) => void}} opts
 *   onDelta runs once a delta's update has been sent to the local table, before its reply: requests it makes
 *   are answered after the update
 *   onBehind runs once when more than maxBacklogDeltas deltas wait to be applied, or the oldest of them came more
 *   than maxBacklogMs ago (again only after the backlog has cleared)
 *   index/limit as the server table has them (asked from the server when neither is given)
 */
export async function replicate(remote, makeTable, opts) {
  const { tap } = opts;
  let index = opts.index;
  let limit = opts.limit;
  if (index === undefined && limit === undefined) {
    index = (await remote.get_index()) ?? undefined;
    limit = index === undefined ? (await remote.get_limit()) ?? undefined : undefined;
  }
  // One replication at a time per client: the tap tells them apart by order only.
  const previous = tap.busy || Promise.resolve();
  let release;
  tap.busy = new Promise((r) => (release = r));
  await previous;
  try {
    return await replicateNow(remote, makeTable, opts, index, limit);
  } finally {
    tap.watches.clear();
    release();
  }
}

async function replicateNow(remote, makeTable, opts, index, limit) {
  const { tap } = opts;
  const view = await remote.view();
  const stats = { snapshotRows: 0, dropped: 0, applied: 0 };
  let local;
  let closed = false;
  /** Deltas received before we know how many of them the snapshot already holds. */
  let early = [];
  let chain = Promise.resolve();
  /** When each delta queued and not yet applied was received (oldest first). */
  const waiting = [];
  let behind = false;
  const backlog = () => ({ deltas: waiting.length, ageMs: waiting.length > 0 ? Date.now() - waiting[0] : 0 });
  const apply = (delta) => {
    waiting.push(Date.now());
    // A client that cannot keep up (a slow machine, a busy tab) would otherwise fall further behind for as long
    // as the stream lasts, holding every delta it has not applied yet: say so once, and let the caller start
    // over from a fresh snapshot.
    if (!behind && !closed && opts.onBehind) {
      const b = backlog();
      if (b.deltas > (opts.maxBacklogDeltas ?? Infinity) || b.ageMs > (opts.maxBacklogMs ?? Infinity)) {
        behind = true;
        try {
          opts.onBehind(b, local);
        } catch {
          // The caller's problem; replication goes on.
        }
      }
    }
    chain = chain.then(async () => {
      try {
        if (closed) return;
        const updated = local.update(delta);
        // Called before the update's reply: what onDelta asks the local engine now is queued right behind this
        // update, so it is answered after the update and ahead of the requests the update makes the viewers send
        // (a page's worker is busy rendering them). Waiting for the reply first cost a second round trip.
        if (opts.onDelta) opts.onDelta(delta, local);
        await updated;
        stats.applied++;
      } finally {
        waiting.shift();
        // Caught up: a later backlog is news again.
        if (waiting.length === 0) behind = false;
      }
    });
    chain.catch(() => undefined);
  };
  let updateId;
  try {
    updateId = await view.on_update(({ delta }) => {
      // Kept past this callback (queued, applied later): own a copy rather than trust the buffer the client
      // library handed out to stay valid.
      const own = delta.slice(0);
      if (early) early.push(own);
      else apply(own);
    }, { mode: "row" });
    // Own a copy, like the deltas.
    const snapshot = (await view.to_arrow()).slice(0);
    const covered = tap.takeDeltasBeforeSnapshot();
    const options = index !== undefined ? { index } : limit !== undefined ? { limit } : {};
    local = await makeTable(snapshot, options);
    stats.snapshotRows = await local.size();
    stats.dropped = Math.min(covered, early.length);
    const later = early.slice(covered);
    early = undefined;
    for (const d of later) apply(d);
  } catch (err) {
    await view.delete().catch(() => undefined);
    throw err;
  }
  return {
    table: local,
    view,
    stats,
    /** Resolves once every delta received so far is in the local table. */
    settled: () => chain,
    /** Deltas received and not applied yet, and how long ago the oldest of them came. */
    backlog,
    async close() {
      closed = true;
      await view.remove_update(updateId).catch(() => undefined);
      await view.delete().catch(() => undefined);
    },
  };
}
