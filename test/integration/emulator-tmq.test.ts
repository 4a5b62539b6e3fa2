// The emulator's /rest/tmq endpoint spoken raw (hand-built JSON frames over a plain `ws` socket): reply shapes
// and the fetch_raw_data bytes written out by hand from taosAdapter's tmq.go and TDengine's SMqDataRsp encoding,
// consumer groups splitting vgroups, takeover from committed offsets, seek/position/committed, session timeout,
// and hostile frames.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { waitFor } from "../support/wait.js";
import { RawWs } from "./emulator-raw-client.js";

const COMMON = ["code", "message", "action", "req_id", "timing"];
const OFFSET_INVALID = -2147467247;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const u64 = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const noTiming = (m: Record<string, unknown>): Record<string, unknown> => ({ ...m, timing: 0 });

let emu: Emulator;
before(async () => {
  emu = await startEmulator({ vgroups: 4 });
  emu.sql("create database raw vgroups 1");
  emu.sql("create table raw.t (ts timestamp, v int)");
  emu.sql("create topic t_raw as select ts, v from raw.t");
  emu.sql("insert into raw.t values (1700000000000, 7) (1700000000001, null)");
  emu.sql("create database power");
  emu.sql("create stable power.meters (ts timestamp, v int) tags (gid int)");
  for (let i = 0; i < 16; i++) emu.sql(`create table power.d${i} using power.meters tags (${i})`);
  emu.sql("create topic t_power as stable power.meters");
  emu.sql("create topic t_big as select ts, v from power.meters where v >= 100");
});
after(async () => {
  await emu.stop();
});

let nextTs = 1700000100000;
/** One insert per table, `rows` rows each, values from `base`: returns the timestamps written. */
function write(rows: number, base = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < 16; i++) {
    const vals: string[] = [];
    for (let k = 0; k < rows; k++) {
      out.push(nextTs);
      vals.push(`(${nextTs++}, ${base + k})`);
    }
    emu.sql(`insert into power.d${i} values ${vals.join(" ")}`);
  }
  return out;
}

async function consumer(group: string, topics: string[], extra: Record<string, unknown> = {}): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/rest/tmq`);
  const r = await c.json("subscribe", { req_id: 1, user: "root", password: "taosdata", group_id: group, topics, offset_rest: "earliest", auto_commit: "false", ...extra });
  assert.equal(r.code, 0, String(r.message));
  return c;
}

async function assignment(c: RawWs, topic: string): Promise<{ vgroup_id: number; offset: number; begin: number; end: number }[]> {
  const r = await c.json("assignment", { req_id: 2, topic });
  assert.equal(r.code, 0, String(r.message));
  return r.assignment as { vgroup_id: number; offset: number; begin: number; end: number }[];
}

/** Timestamps of a raw block's first column (header 28 + 9 bytes per column, then bitmap, then i64s). */
function blockTs(block: Buffer): number[] {
  const rows = block.readInt32LE(8);
  const cols = block.readInt32LE(12);
  const at = 28 + 9 * cols + ((rows + 7) >> 3);
  return Array.from({ length: rows }, (_, i) => Number(block.readBigInt64LE(at + 8 * i)));
}

/** Poll once; when a message comes, read every block with fetch + fetch_block and return its timestamps. */
async function pollRows(c: RawWs, blocking = 0): Promise<{ poll: Record<string, unknown>; ts: number[] } | null> {
  const p = await c.json("poll", { req_id: 3, blocking_time: blocking });
  assert.equal(p.code, 0, String(p.message));
  if (!p.have_message) return null;
  const ts: number[] = [];
  for (;;) {
    const f = await c.json("fetch", { req_id: 4, message_id: p.message_id });
    assert.equal(f.code, 0, String(f.message));
    if (f.completed) break;
    c.send(JSON.stringify({ action: "fetch_block", args: { req_id: 5, message_id: p.message_id } }));
    const b = await c.nextBinary();
    ts.push(...blockTs(b.subarray(24)));
  }
  return { poll: p, ts };
}

/** Poll until a poll comes back empty; every timestamp delivered. */
async function drain(c: RawWs): Promise<number[]> {
  const all: number[] = [];
  for (;;) {
    const m = await pollRows(c);
    if (!m) return all;
    all.push(...m.ts);
  }
}

describe("emulator /rest/tmq reply shapes and bytes", () => {
  it("answers subscribe and poll with taosAdapter's fields, in its order", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/rest/tmq`);
    const v = await c.json("version", { req_id: 9 });
    assert.deepEqual(noTiming(v), { code: 0, message: "", action: "version", req_id: 9, timing: 0, version: "3.3.6.0" });
    const early = await c.json("poll", { req_id: 10, blocking_time: 0 });
    assert.deepEqual(noTiming(early), { code: 65535, message: "tmq not init", action: "poll", req_id: 10, timing: 0 });
    const s = await c.json("subscribe", { req_id: 12, user: "root", password: "taosdata", group_id: "shape", topics: ["t_raw"], offset_rest: "earliest" });
    assert.deepEqual(Object.keys(s), [...COMMON, "version"]);
    c.send('{"action":"poll","args":{"req_id":18446744073709551615,"blocking_time":0}}');
    const p = await c.next();
    assert.equal(p.kind, "json");
    if (p.kind !== "json") return;
    assert.match(p.raw, /"req_id":18446744073709551615,/, "u64 req_id echoed exactly");
    assert.deepEqual(Object.keys(p.msg), [...COMMON, "have_message", "topic", "database", "vgroup_id", "message_type", "message_id", "offset"]);
    const vg = emu.sql("select vgroup_id from information_schema.ins_tables where db_name = 'raw'").rows[0][0];
    assert.deepEqual({ ...p.msg, timing: 0, req_id: 0 }, { code: 0, message: "", action: "poll", req_id: 0, timing: 0, have_message: true, topic: "t_raw", database: "raw", vgroup_id: vg, message_type: 1, message_id: 1, offset: 0 });
    const none = await c.json("poll", { req_id: 11, blocking_time: 0 });
    assert.deepEqual(noTiming(none), { code: 0, message: "", action: "poll", req_id: 11, timing: 0, have_message: false, topic: "", database: "", vgroup_id: 0, message_type: 0, message_id: 0, offset: 0 });
    c.close();
  });

  it("sends fetch_raw_data as action 8 with TMQ raw data: offsets, block, schema and table name", async () => {
    const c = await consumer("bytes", ["t_raw"], { with_table_name: "true" });
    const p = await c.json("poll", { req_id: 1, blocking_time: 0 });
    c.send(JSON.stringify({ action: "fetch_raw_data", args: { req_id: 77, message_id: p.message_id } }));
    const got = await c.nextBinary();
    const block = Buffer.concat([
      hex("01000000 48000000 02000000 02000000 00000080 0000000000000000"), // version, length 72, rows, cols, flag, group id
      hex("09 08000000 04 04000000"), // ts TIMESTAMP bytes 8, v INT bytes 4
      hex("10000000 08000000"), // data lengths 16, 8
      hex("00"), u64(1700000000000), u64(1700000000001), // ts: no nulls
      hex("40"), hex("07000000 00000000"), // v: row 1 NULL (bit 0x80 >> 1)
    ]);
    const rsp = Buffer.concat([u64(1), hex("0000000000000002"), hex("00 00")]); // version 1, rows (big-endian), uncompressed, ms
    const rawData = Buffer.concat([
      hex("01"), u64(0), hex("01"), u64(1), // req offset (log, 0), rsp offset (log, 1)
      hex("01000000 01 01"), // 1 block, with table name, with schema
      Buffer.from([rsp.length + block.length]), rsp, block, // varint length 90
      hex("04 02"), hex("09 01 10 02 03"), Buffer.from("ts\0"), hex("04 01 08 04 02"), Buffer.from("v\0"), // schema: 2 cols, version 1
      hex("02"), Buffer.from("t\0"), // table name
    ]);
    const expected = Buffer.concat([
      hex("ffffffffffffffff"), u64(8), hex("0100"), u64(0), u64(77), u32(0), u32(0), u64(p.message_id as number), hex("0200"), u32(rawData.length), rawData,
    ]);
    got.fill(0, 18, 26); // timing
    assert.equal(got.toString("hex"), expected.toString("hex"));
    c.close();
  });

  it("answers fetch_raw_data errors as binary frames and JSON actions' errors with message_id", async () => {
    const c = await consumer("errs", ["t_raw"], { with_table_name: "false" });
    c.send(JSON.stringify({ action: "fetch_raw_data", args: { req_id: 5, message_id: 3 } }));
    const got = await c.nextBinary();
    got.fill(0, 18, 26);
    const msg = Buffer.from("message has been freed");
    assert.equal(got.toString("hex"), Buffer.concat([hex("ffffffffffffffff"), u64(8), hex("0100"), u64(0), u64(5), u32(0xffff), u32(msg.length), msg, u64(3)]).toString("hex"));
    const p = await c.json("poll", { req_id: 6, blocking_time: 0 });
    assert.equal(p.have_message, true);
    const wrong = await c.json("fetch", { req_id: 7, message_id: 99 });
    assert.deepEqual(noTiming(wrong), { code: 65535, message: "message ID are not equal", action: "fetch", req_id: 7, timing: 0, message_id: 99 });
    const meta = await c.json("fetch_json_meta", { req_id: 8, message_id: p.message_id });
    assert.deepEqual([meta.code, meta.message], [65535, "message type can not get meta, type: 1"]);
    const f = await c.json("fetch", { req_id: 9, message_id: p.message_id });
    assert.deepEqual(Object.keys(f), [...COMMON, "message_id", "completed", "table_name", "rows", "fields_count", "fields_names", "fields_types", "fields_lengths", "precision"]);
    assert.deepEqual([f.table_name, f.rows, f.fields_names, f.fields_types, f.fields_lengths], ["t", 2, ["ts", "v"], [9, 4], [8, 4]], "msg.with.table.name is always on since TDengine 3.2");
    c.close();
  });

  it("refuses bad subscriptions with the adapter's codes and keeps the socket usable", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/rest/tmq`);
    const base = { req_id: 1, user: "root", password: "taosdata", group_id: "g", topics: ["t_raw"] };
    const missing = await c.json("subscribe", { ...base, topics: ["nope"] });
    assert.deepEqual([missing.code, missing.message], [0x03e1, "Topic not exist"]);
    const reset = await c.json("subscribe", { ...base, offset_rest: "earliest1" });
    assert.deepEqual([reset.code, reset.message], [0x0118, "invalid value for key 'auto.offset.reset': earliest1"]);
    const unknown = await c.json("subscribe", { ...base, config: { "no.such.key": "1" } });
    assert.deepEqual([unknown.code, unknown.message], [0x0118, "unknown configuration key: no.such.key"]);
    const ac = await c.json("subscribe", { ...base, auto_commit: "yes" });
    assert.deepEqual([ac.code, ac.message], [65535, 'strconv.ParseBool: parsing "yes": invalid syntax']);
    const pw = await c.json("subscribe", { ...base, password: "bad" });
    assert.deepEqual([pw.code, pw.message], [65535, "Authentication failure"]);
    assert.equal((await c.json("subscribe", base)).code, 0);
    const twice = await c.json("subscribe", base);
    assert.deepEqual([twice.code, twice.message], [65535, "tmq should have unsubscribed first"]);
    assert.equal((await c.json("unsubscribe", { req_id: 2 })).code, 0);
    assert.equal((await c.json("subscribe", base)).code, 0, "subscribe again after unsubscribe");
    const topics = await c.json("list_topics", { req_id: 3 });
    assert.deepEqual(topics.topics, ["t_raw"]);
    c.close();
  });
});

describe("emulator /rest/tmq consumer groups", () => {
  it("splits a topic's vgroups between two members of a group, disjoint and complete; the union of rows is everything written", async () => {
    const written = write(3);
    const a = await consumer("split", ["t_power"]);
    const b = await consumer("split", ["t_power"]);
    const va = (await assignment(a, "t_power")).map((x) => x.vgroup_id);
    const vb = (await assignment(b, "t_power")).map((x) => x.vgroup_id);
    assert.equal(va.length, 2);
    assert.equal(vb.length, 2);
    const vgroups = emu.sql("select vgroups from information_schema.ins_databases where name = 'power'").rows[0][0];
    assert.equal(vgroups, 4);
    assert.equal(new Set([...va, ...vb]).size, 4, "four vgroups, each with exactly one member");
    const got = [...(await drain(a)), ...(await drain(b))];
    for (const ts of written) assert.ok(got.includes(ts), `row ${ts} delivered`);
    const subs = emu.sql("show subscriptions").rows.filter((r) => r[0] === "t_power" && r[1] === "split");
    assert.equal(subs.length, 4);
    assert.equal(new Set(subs.map((r) => r[3])).size, 2, "two consumer ids own the vgroups");
    const consumers = emu.sql("show consumers").rows.filter((r) => r[1] === "split");
    assert.deepEqual(consumers.map((r) => [r[3], r[4]]), [["ready", "t_power"], ["ready", "t_power"]]);
    a.close();
    b.close();
  });

  it("gives a leaving member's vgroups to the other from the committed offsets: committed rows not repeated, uncommitted repeated, none lost", async () => {
    const a = await consumer("takeover", ["t_power"]);
    await drain(a); // rows from earlier tests
    const b = await consumer("takeover", ["t_power"]);
    const aVgs = (await assignment(a, "t_power")).map((x) => x.vgroup_id);
    const first = write(2);
    const committedRows = await drain(a);
    assert.equal((await a.json("commit", { req_id: 5, message_id: 0 })).code, 0);
    const second = write(2, 10);
    const uncommitted = await drain(a);
    assert.ok(committedRows.length > 0 && uncommitted.length > 0);
    a.close();
    await waitFor("b owns all four vgroups", async () => (await assignment(b, "t_power")).length === 4);
    const takenOver = (await assignment(b, "t_power")).filter((x) => aVgs.includes(x.vgroup_id));
    const committed = await b.json("committed", { req_id: 6, topic_vgroup_ids: takenOver.map((x) => ({ topic: "t_power", vgroup_id: x.vgroup_id })) });
    assert.deepEqual(takenOver.map((x) => x.offset), committed.committed, "positions start at the committed offsets");
    const bRows = await drain(b);
    for (const ts of committedRows) assert.ok(!bRows.includes(ts), `committed row ${ts} not repeated`);
    for (const ts of uncommitted) assert.ok(bRows.includes(ts), `uncommitted row ${ts} repeated`);
    for (const ts of [...first, ...second]) assert.ok(committedRows.includes(ts) || bRows.includes(ts), `row ${ts} not lost`);
    b.close();
  });

  it("resumes from committed offsets after a reconnect, and a new group starts at auto.offset.reset", async () => {
    const a = await consumer("resume", ["t_power"]);
    await drain(a);
    assert.equal((await a.json("commit", { req_id: 5 })).code, 0);
    a.close();
    const fresh = write(1, 20);
    const again = await consumer("resume", ["t_power"]);
    assert.deepEqual((await drain(again)).sort(), fresh.sort(), "only the rows written after the commit");
    again.close();
    const latest = await consumer("resume-latest", ["t_power"], { offset_rest: "latest" });
    assert.deepEqual(await drain(latest), []);
    const after = write(1, 30);
    assert.deepEqual((await drain(latest)).sort(), after.sort());
    latest.close();
  });

  it("applies a query topic's WHERE and select list to the rows", async () => {
    const c = await consumer("where", ["t_big"]);
    await drain(c);
    write(1, 99); // v = 99: filtered out
    const big = write(1, 100);
    assert.deepEqual((await drain(c)).sort(), big.sort());
    c.close();
  });

  it("auto-commits inside poll at the configured interval", async () => {
    const c = await consumer("auto", ["t_raw"], { auto_commit: "true", auto_commit_interval_ms: "1" });
    const vg = (await assignment(c, "t_raw"))[0].vgroup_id;
    await drain(c);
    await waitFor("the position committed by a later poll", async () => {
      await c.json("poll", { req_id: 8, blocking_time: 0 });
      const r = await c.json("committed", { req_id: 9, topic_vgroup_ids: [{ topic: "t_raw", vgroup_id: vg }] });
      return (r.committed as number[])[0] === 1;
    });
    c.close();
  });
});

describe("emulator /rest/tmq offsets", () => {
  it("seeks within [begin, end], reports position and committed, and refuses foreign topics and vgroups", async () => {
    const c = await consumer("seek", ["t_raw"]);
    const [a] = await assignment(c, "t_raw");
    assert.deepEqual([a.offset, a.begin, a.end], [0, 0, 1]);
    const before = await c.json("committed", { req_id: 2, topic_vgroup_ids: [{ topic: "t_raw", vgroup_id: a.vgroup_id }] });
    assert.deepEqual(before.committed, [OFFSET_INVALID]);
    const first = await drain(c);
    assert.equal(first.length, 2);
    const pos = await c.json("position", { req_id: 3, topic_vgroup_ids: [{ topic: "t_raw", vgroup_id: a.vgroup_id }] });
    assert.deepEqual(noTiming(pos), { code: 0, message: "", action: "position", req_id: 3, timing: 0, position: [1] });
    const out = await c.json("seek", { req_id: 4, topic: "t_raw", vgroup_id: a.vgroup_id, offset: 2 });
    assert.deepEqual([out.code, out.message], [0x4007, "Offset out of range"]);
    const ok = await c.json("seek", { req_id: 5, topic: "t_raw", vgroup_id: a.vgroup_id, offset: 0 });
    assert.deepEqual(noTiming(ok), { code: 0, message: "", action: "seek", req_id: 5, timing: 0 });
    assert.deepEqual(await drain(c), first, "the same rows again after seeking back");
    const co = await c.json("commit_offset", { req_id: 6, topic: "t_raw", vgroup_id: a.vgroup_id, offset: 1 });
    assert.deepEqual(noTiming(co), { code: 0, message: "", action: "commit_offset", req_id: 6, timing: 0, topic: "t_raw", vgroup_id: a.vgroup_id, offset: 1 });
    const after = await c.json("committed", { req_id: 7, topic_vgroup_ids: [{ topic: "t_raw", vgroup_id: a.vgroup_id }] });
    assert.deepEqual(after.committed, [1]);
    const vg = await c.json("position", { req_id: 8, topic_vgroup_ids: [{ topic: "t_raw", vgroup_id: 999 }] });
    assert.deepEqual([vg.code, vg.message], [0x4008, "VgId does not belong to this consumer"]);
    const tp = await c.json("assignment", { req_id: 9, topic: "t_power" });
    assert.deepEqual([tp.code, tp.message], [0x4009, "Topic does not belong to this consumer"]);
    c.close();
  });

  it("resends the held message when poll names another message_id, and a newer queued poll replaces an older one", async () => {
    const c = await consumer("queue", ["t_power"]);
    await drain(c);
    const p = await c.json("poll", { req_id: 1, blocking_time: 0 });
    assert.equal(p.have_message, false);
    write(1, 40);
    const m = await c.json("poll", { req_id: 2, blocking_time: 0 });
    assert.equal(m.have_message, true);
    const again = await c.json("poll", { req_id: 3, blocking_time: 0, message_id: 0 });
    assert.deepEqual([again.message_id, again.offset, again.vgroup_id], [m.message_id, m.offset, m.vgroup_id], "the held message again");
    await drain(c);
    c.send(JSON.stringify({ action: "poll", args: { req_id: 10, blocking_time: 5000 } }));
    c.send(JSON.stringify({ action: "poll", args: { req_id: 11, blocking_time: 0 } }));
    c.send(JSON.stringify({ action: "poll", args: { req_id: 12, blocking_time: 0 } }));
    c.send(JSON.stringify({ action: "version", args: { req_id: 13 } }));
    const v = await c.nextJson();
    assert.equal(v.req_id, 13, "requests that do not need the consumer are answered during a poll");
    write(1, 50);
    const woke = await c.nextJson();
    assert.deepEqual([woke.req_id, woke.have_message], [10, true], "the blocking poll wakes on a write");
    const next = await c.nextJson();
    assert.equal(next.req_id, 12, "poll 11 was replaced by 12 and never answered");
    c.close();
  });

  it("refuses to drop a topic while a consumer subscribes to it", async () => {
    emu.sql("create topic t_busy as database raw");
    const c = await consumer("busy", ["t_busy"]);
    assert.throws(() => emu.sql("drop topic t_busy"), (e: Error & { code?: number }) => e.code === 0x03eb && /Topic subscribed cannot be dropped/.test(e.message));
    c.close();
    await waitFor("the consumer gone", () => !emu.sql("show consumers").rows.some((r) => r[1] === "busy"));
    emu.sql("drop topic t_busy");
  });
});

describe("emulator /rest/tmq liveness and hostile input", () => {
  it("removes a member whose socket stays silent past session.timeout.ms and gives its vgroups to the others", async () => {
    const e = await startEmulator({ vgroups: 2, tmqSessionTimeoutMs: 300 });
    try {
      e.sql("create database s");
      e.sql("create table s.t (ts timestamp, v int)");
      e.sql("create topic st as database s");
      const sub = { req_id: 1, user: "root", password: "taosdata", group_id: "hb", topics: ["st"] };
      const silent = await RawWs.open(`${e.wsUrl}/rest/tmq`, { autoPong: false });
      assert.equal((await silent.json("subscribe", sub)).code, 0);
      const live = await RawWs.open(`${e.wsUrl}/rest/tmq`);
      assert.equal((await live.json("subscribe", sub)).code, 0);
      assert.equal(((await live.json("assignment", { req_id: 2, topic: "st" })).assignment as unknown[]).length, 1);
      await waitFor("the silent member's socket closed", () => silent.closed);
      const all = await live.json("assignment", { req_id: 3, topic: "st" });
      assert.equal((all.assignment as unknown[]).length, 2, "the live member (answering pings) owns both vgroups");
      live.close();
    } finally {
      await e.stop();
    }
  });

  it("answers malformed frames with errors, ignores binary frames, closes on oversized frames, and keeps serving", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/rest/tmq`);
    c.send("{not json");
    assert.deepEqual(noTiming(await c.nextJson()), { code: 65535, message: "unmarshal ws request error", action: "", req_id: 0, timing: 0 });
    c.send("[1,2]");
    assert.equal((await c.nextJson()).message, "request no action");
    c.send(JSON.stringify({ action: "poll", args: { req_id: -1 } }));
    assert.deepEqual([(await c.nextJson()).message], ["unmarshal poll args error"]);
    c.send(JSON.stringify({ action: "subscribe", args: { req_id: 4, topics: "t_raw" } }));
    assert.deepEqual([(await c.nextJson()).message], ["unmarshal subscribe args error"]);
    c.send(JSON.stringify({ action: "nope", args: { req_id: 5 } }));
    assert.deepEqual([(await c.nextJson()).message], ["unknown action nope"]);
    c.send(Buffer.alloc(64, 1));
    assert.equal((await c.json("version", { req_id: 6 })).req_id, 6, "a binary frame is ignored");
    const big = await RawWs.open(`${emu.wsUrl}/rest/tmq`);
    big.send("x".repeat((1 << 20) + 1));
    await waitFor("the oversized frame closes its socket", () => big.closed);
    assert.equal((await c.json("version", { req_id: 7 })).code, 0, "other sockets keep working");
    c.close();
  });

  it("bounds the requests waiting for a blocking poll", async () => {
    emu.sql("create database flood vgroups 1");
    emu.sql("create table flood.t (ts timestamp, v int)");
    emu.sql("create topic t_flood as database flood");
    const c = await consumer("flood", ["t_flood"]);
    c.send(JSON.stringify({ action: "poll", args: { req_id: 1, blocking_time: 60000 } }));
    for (let i = 0; i < 1100; i++) c.send(JSON.stringify({ action: "commit", args: { req_id: 100 + i } }));
    const replies: Record<string, unknown>[] = [];
    // While the poll blocks, the requests beyond the bound are refused at once; the rest wait for the poll.
    while (replies.length < 1100 - 1024) replies.push(await c.nextJson());
    assert.ok(replies.every((r) => r.action === "commit" && r.message === "too many requests waiting for poll"));
    emu.sql("insert into flood.t values (1700000000002, 8)");
    while (replies.length < 1101) replies.push(await c.nextJson());
    assert.deepEqual([replies[76].action, replies[76].have_message], ["poll", true]);
    assert.equal(replies.filter((r) => r.action === "commit" && r.code === 0).length, 1024);
    c.close();
  });
});
