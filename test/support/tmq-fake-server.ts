// A small scripted stand-in for taosAdapter's /rest/tmq endpoint, for the TMQ client and tdengine-subscribe tests:
// topics of (ts TIMESTAMP, v INT) rows spread over vgroups, consumer groups that split the vgroups between their
// live consumers, committed offsets per group and vgroup, positions per consumer. A message is one appended batch
// of one vgroup; its offset is its index in the vgroup, and a consumer's position is the index of the next one.
// Replies are written here byte by byte from the protocol facts (reference §4 and taosAdapter
// controller/ws/tmq/tmq.go); nothing is shared with the client's decoder or with the emulator.
// `intercept` lets a test answer any request itself (hostile and malformed frames).
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

type Args = Record<string, unknown>;
export interface Request {
  action: string;
  args: Args;
}

interface Consumer {
  ws: WebSocket;
  group: string;
  clientId: string;
  topics: string[];
  reset: string;
  autoCommit: boolean;
  /** "topic/vgroup" -> next message index. */
  position: Map<string, number>;
  lastMessage?: { id: number; topic: string; vgroup: number; index: number };
  rr: number;
}

export interface FakeTmqServer {
  url: string;
  /** Appends one message (a batch of rows of one subtable) to a vgroup of a topic. */
  append(topic: string, vgroup: number, rows: Array<[number, number]>, table?: string): void;
  /** Live subscribed consumers (sockets that subscribed and have not unsubscribed or closed). */
  consumers(group?: string): number;
  /** Vgroups of a topic currently assigned to each live consumer of a group, by client id. */
  assignments(group: string, topic: string): Map<string, number[]>;
  committed(group: string, topic: string, vgroup: number): number | undefined;
  /** Every request received, in order. */
  received: Request[];
  /** Answer a request yourself: return true when handled. */
  intercept?: (ws: WebSocket, req: Request) => boolean;
  /** Drops every connection (a server-side outage). */
  dropAll(): void;
  /** Stops listening and drops every connection, then listens again on the same port (state kept, as after a
   * taosAdapter restart in front of the same TDengine). */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

const MARKER = "ffffffffffffffff";

function le(bytes: number, v: number | bigint): Buffer {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64LE(BigInt(v));
  else if (bytes === 4) b.writeInt32LE(Number(v));
  else if (bytes === 2) b.writeUInt16LE(Number(v));
  else b.writeUInt8(Number(v));
  return b;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

const zigzag = (n: number): Buffer => varint(n >= 0 ? n * 2 : -n * 2 - 1);
const name = (s: string): Buffer => Buffer.concat([varint(Buffer.byteLength(s) + 1), Buffer.from(s), Buffer.from([0])]);

/** Raw block (§2.6) of a TIMESTAMP (ms) and an INT column. */
export function tsIntBlock(rows: Array<[number, number]>): Buffer {
  const R = rows.length;
  const bitmap = Buffer.alloc((R + 7) >> 3);
  const ts = Buffer.concat(rows.map(([t]) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(t)); return b; }));
  const v = Buffer.concat(rows.map(([, x]) => { const b = Buffer.alloc(4); b.writeInt32LE(x); return b; }));
  const body = Buffer.concat([bitmap, ts, bitmap, v]);
  const total = 28 + 10 + 8 + body.length;
  return Buffer.concat([
    le(4, 1), le(4, total), le(4, R), le(4, 2), le(4, 0), le(8, 0),
    Buffer.from([9]), le(4, 8), Buffer.from([4]), le(4, 4),
    le(4, ts.length), le(4, v.length),
    body,
  ]);
}

/** TMQ raw data of one data message: old-style head (two offsets), one block with schema and table name. */
export function tmqRawData(rows: Array<[number, number]>, table: string, precision = 0): Buffer {
  const block = tsIntBlock(rows);
  const blockBytes = Buffer.concat([Buffer.alloc(17), Buffer.from([precision]), block]);
  const schema = Buffer.concat([
    zigzag(2), zigzag(1),
    Buffer.from([9, 1]), zigzag(8), zigzag(1), name("ts"),
    Buffer.from([4, 1]), zigzag(4), zigzag(2), name("v"),
  ]);
  return Buffer.concat([
    Buffer.from([1]), le(8, 0), Buffer.from([1]), le(8, 5),
    le(4, 1), Buffer.from([1, 1]),
    varint(blockBytes.length), blockBytes, schema, name(table),
  ]);
}

/** fetch_raw_data reply (action 8): success with meta type 1 and the data, or an error. */
export function rawDataReply(reqId: number | bigint, messageId: number, data?: Buffer, error?: { code: number; message: string }): Buffer {
  const head = [Buffer.from(MARKER, "hex"), le(8, 8), le(2, 1), le(8, 7)];
  if (error) {
    const m = Buffer.from(error.message);
    return Buffer.concat([...head, le(8, reqId), le(4, error.code), le(4, m.length), m, le(8, messageId)]);
  }
  const d = data ?? Buffer.alloc(0);
  return Buffer.concat([...head, le(8, reqId), le(4, 0), le(4, 0), le(8, messageId), le(2, 1), le(4, d.length), d]);
}

export async function fakeTmqServer(opts: { vgroups?: number; topics?: string[]; port?: number } = {}): Promise<FakeTmqServer> {
  const vgroupCount = opts.vgroups ?? 4;
  const logs = new Map<string, Array<{ rows: Array<[number, number]>; table: string }>>(); // "topic/vg"
  const topics = new Set(opts.topics ?? ["t1"]);
  const committed = new Map<string, number>(); // "group|topic/vg"
  const live = new Set<Consumer>();
  const waiting = new Set<() => void>();
  let messageIds = 0;
  const received: Request[] = [];
  let server = new WebSocketServer({ host: "127.0.0.1", port: opts.port ?? 0, path: "/rest/tmq" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const key = (topic: string, vg: number): string => `${topic}/${vg}`;
  const log = (topic: string, vg: number): Array<{ rows: Array<[number, number]>; table: string }> => {
    const k = key(topic, vg);
    let l = logs.get(k);
    if (!l) logs.set(k, (l = []));
    return l;
  };

  /** Vgroups of a topic for one consumer: the group's live consumers in join order share them round-robin. */
  function assigned(c: Consumer, topic: string): number[] {
    const members = [...live].filter((m) => m.group === c.group && m.topics.includes(topic));
    const i = members.indexOf(c);
    if (i < 0) return [];
    const out: number[] = [];
    for (let vg = 1; vg <= vgroupCount; vg++) if ((vg - 1) % members.length === i) out.push(vg);
    return out;
  }

  function positionOf(c: Consumer, topic: string, vg: number): number {
    const k = key(topic, vg);
    let p = c.position.get(k);
    if (p === undefined) {
      p = committed.get(`${c.group}|${k}`) ?? (c.reset === "earliest" ? 0 : log(topic, vg).length);
      c.position.set(k, p);
    }
    return p;
  }

  function commitAll(c: Consumer): void {
    for (const topic of c.topics) for (const vg of assigned(c, topic)) {
      const p = c.position.get(key(topic, vg));
      if (p !== undefined) committed.set(`${c.group}|${key(topic, vg)}`, p);
    }
  }

  function leave(c: Consumer): void {
    if (!live.delete(c)) return;
    // Positions of the others are re-read from the committed offsets after a rebalance, as taosc does.
    for (const m of live) if (m.group === c.group) m.position.clear();
  }

  function nextMessage(c: Consumer): { topic: string; vg: number; index: number } | undefined {
    const pairs: Array<[string, number]> = [];
    for (const topic of c.topics) for (const vg of assigned(c, topic)) pairs.push([topic, vg]);
    for (let i = 0; i < pairs.length; i++) {
      const [topic, vg] = pairs[(c.rr + i) % pairs.length];
      const index = positionOf(c, topic, vg);
      if (index < log(topic, vg).length) {
        c.rr = (c.rr + i + 1) % pairs.length;
        return { topic, vg, index };
      }
    }
    return undefined;
  }

  const reply = (ws: WebSocket, action: string, reqId: unknown, fields: Args = {}): void => {
    ws.send(JSON.stringify({ code: 0, message: "", action, req_id: reqId, timing: 1, ...fields }));
  };
  const error = (ws: WebSocket, action: string, reqId: unknown, message: string, code = 0xffff): void => {
    ws.send(JSON.stringify({ code, message, action, req_id: reqId, timing: 1 }));
  };

  const onConnection = (ws: WebSocket): void => {
    let me: Consumer | undefined;
    ws.on("close", () => me && leave(me));
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) return;
      let req: Request;
      try {
        req = JSON.parse(data.toString()) as Request;
      } catch {
        return;
      }
      received.push(req);
      if (fake.intercept?.(ws, req)) return;
      const { action, args } = req;
      const id = args.req_id;
      if (action === "subscribe") {
        const want = args.topics as string[];
        const missing = want.find((t) => !topics.has(t));
        if (missing) return error(ws, action, id, `Topic not exist`, 0x4000);
        if (me && live.has(me)) return error(ws, action, id, "duplicate subscribe");
        me = {
          ws, group: String(args.group_id), clientId: String(args.client_id), topics: want,
          reset: String(args.offset_rest ?? args.offset_reset ?? "latest"), autoCommit: args.auto_commit === "true",
          position: new Map(), rr: 0,
        };
        for (const m of live) if (m.group === me.group) m.position.clear();
        live.add(me);
        return reply(ws, action, id, { version: "3.3.6.0" });
      }
      if (!me || !live.has(me)) return error(ws, action, id, "tmq not init");
      const c = me;
      switch (action) {
        case "poll": {
          const answer = (): void => {
            if (!live.has(c)) return;
            const next = nextMessage(c);
            if (!next) return reply(ws, action, id, { have_message: false });
            c.position.set(key(next.topic, next.vg), next.index + 1);
            c.lastMessage = { id: ++messageIds, topic: next.topic, vgroup: next.vg, index: next.index };
            reply(ws, action, id, {
              have_message: true, topic: next.topic, database: "db", vgroup_id: next.vg, message_type: 1,
              message_id: c.lastMessage.id, offset: next.index,
            });
          };
          if (c.autoCommit) commitAll(c);
          if (nextMessage(c) || Number(args.blocking_time) <= 0) return answer();
          const wake = (): void => {
            clearTimeout(timer);
            waiting.delete(wake);
            answer();
          };
          const timer = setTimeout(wake, Number(args.blocking_time));
          waiting.add(wake);
          return;
        }
        case "fetch_raw_data": {
          const m = c.lastMessage;
          if (!m || m.id !== Number(args.message_id)) {
            return void ws.send(rawDataReply(BigInt(id as number), Number(args.message_id), undefined, { code: 0xffff, message: "message ID is not equal" }));
          }
          const msg = log(m.topic, m.vgroup)[m.index];
          return void ws.send(rawDataReply(BigInt(id as number), m.id, tmqRawData(msg.rows, msg.table)));
        }
        case "commit":
          commitAll(c);
          return reply(ws, action, id, { message_id: args.message_id });
        case "commit_offset":
          committed.set(`${c.group}|${key(String(args.topic), Number(args.vgroup_id))}`, Number(args.offset));
          return reply(ws, action, id, { topic: args.topic, vgroup_id: args.vgroup_id, offset: args.offset });
        case "committed":
        case "position": {
          const tvs = args.topic_vgroup_ids as Array<{ topic: string; vgroup_id: number }>;
          const out = tvs.map((tv) =>
            action === "committed"
              ? committed.get(`${c.group}|${key(tv.topic, tv.vgroup_id)}`) ?? -2147467247
              : c.position.get(key(tv.topic, tv.vgroup_id)) ?? -2147467247,
          );
          return reply(ws, action, id, { [action]: out });
        }
        case "seek": {
          const vg = Number(args.vgroup_id);
          if (!assigned(c, String(args.topic)).includes(vg)) return error(ws, action, id, "Vgroup not on this consumer", 0x4011);
          c.position.set(key(String(args.topic), vg), Number(args.offset));
          return reply(ws, action, id);
        }
        case "assignment": {
          const topic = String(args.topic);
          const list = assigned(c, topic).map((vg) => ({ vgroup_id: vg, offset: positionOf(c, topic, vg), begin: 0, end: log(topic, vg).length }));
          return reply(ws, action, id, { assignment: list });
        }
        case "list_topics":
          return reply(ws, action, id, { topics: c.topics });
        case "unsubscribe":
          leave(c);
          return reply(ws, action, id);
        default:
          return error(ws, action, id, `unknown action ${action}`);
      }
    });
  };
  server.on("connection", onConnection);

  const fake: FakeTmqServer = {
    url: `ws://127.0.0.1:${port}`,
    received,
    append(topic, vgroup, rows, table = `d${vgroup}`) {
      topics.add(topic);
      log(topic, vgroup).push({ rows, table });
      for (const w of [...waiting]) w();
    },
    consumers: (group) => [...live].filter((c) => group === undefined || c.group === group).length,
    assignments(group, topic) {
      const out = new Map<string, number[]>();
      for (const c of live) if (c.group === group) out.set(c.clientId, assigned(c, topic));
      return out;
    },
    committed: (group, topic, vg) => committed.get(`${group}|${key(topic, vg)}`),
    dropAll() {
      for (const ws of server.clients) ws.terminate();
    },
    async restart(downMs) {
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise((r) => setTimeout(r, downMs));
      server = new WebSocketServer({ host: "127.0.0.1", port, path: "/rest/tmq" });
      await new Promise<void>((resolve) => server.once("listening", () => resolve()));
      server.on("connection", onConnection);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of [...waiting]) w();
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
  return fake;
}
