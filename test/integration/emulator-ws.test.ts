// The emulator's /ws endpoint spoken raw: hand-built JSON and binary frames, reply shapes and block bytes
// written out by hand from the protocol facts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { waitFor } from "../support/wait.js";
import { RawWs, binaryQuery, bindPayload, colBlock, f64s, fetchRawBlock, header, i32s, i64s, stmt2Bind } from "./emulator-raw-client.js";

const hex = (s: string): string => s.replace(/\s+/g, "");
const COMMON = ["code", "message", "action", "req_id", "timing"];

let emu: Emulator;
before(async () => {
  emu = await startEmulator();
  emu.sql("create database power");
  emu.sql("create table power.t (ts timestamp, v int, s varchar(4))");
  emu.sql("insert into power.t values (1700000000000, 1, 'ab') (1700000000001, null, null)");
  emu.sql("create stable power.meters (ts timestamp, current double, label nchar(8)) tags (group_id int, location varchar(16))");
});
after(async () => {
  await emu.stop();
});

async function connected(db = "power"): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/ws`);
  const r = await c.json("conn", { req_id: 1, user: "root", password: "taosdata", db });
  assert.equal(r.code, 0);
  return c;
}

describe("emulator /ws session rules", () => {
  it("allows only version/conn/check_server_status before conn", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/ws`);
    const v = await c.json("version", { req_id: 7 });
    assert.deepEqual(Object.keys(v), [...COMMON, "version"]);
    assert.deepEqual({ ...v, timing: 0 }, { code: 0, message: "", action: "version", req_id: 7, timing: 0, version: "3.3.6.0" });
    const q = await c.json("query", { req_id: 8, sql: "show databases" });
    assert.deepEqual({ ...q, timing: 0 }, { code: 65535, message: "server not connected", action: "query", req_id: 8, timing: 0 });
    c.send(binaryQuery(9n, "show databases"));
    const b = await c.nextJson();
    assert.deepEqual([b.code, b.message, b.action, b.req_id], [65535, "server not connected", "binary_query", 9]);
    c.send(fetchRawBlock(10n, 1n));
    const f = await c.nextJson();
    assert.deepEqual([f.code, f.action, f.req_id], [65535, "fetch_raw_block", 10]);
    c.close();
  });

  it("rejects a wrong password with 855 and keeps the socket usable; a second conn is a duplicate", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/ws`);
    const bad = await c.json("conn", { req_id: 2, user: "root", password: "bad" });
    assert.deepEqual({ ...bad, timing: 0 }, { code: 855, message: "Authentication failure", action: "conn", req_id: 2, timing: 0 });
    const ok = await c.json("conn", { req_id: 3, user: "root", password: "taosdata", db: "" });
    assert.deepEqual({ ...ok, timing: 0 }, { code: 0, message: "", action: "conn", req_id: 3, timing: 0, version: "3.3.6.0" });
    assert.equal(typeof ok.timing, "number");
    const dup = await c.json("conn", { req_id: 4, user: "root", password: "taosdata" });
    assert.deepEqual([dup.code, dup.message, dup.req_id], [65535, "duplicate connections", 4]);
    c.close();
  });

  it("answers unknown actions, malformed frames and echoes large req_ids exactly", async () => {
    const c = await connected();
    const u = await c.json("nope", { req_id: 5 });
    assert.deepEqual([u.code, u.message, u.action, u.req_id], [65535, "unknown action nope", "nope", 5]);
    c.send(header(6n, 0n, 77n));
    const ub = await c.nextJson();
    assert.deepEqual([ub.code, ub.message], [65535, "unknown binary action 77"]);
    c.send('{"action":"version","args":{"req_id":18446744073709551615}}');
    const r = await c.next();
    assert.ok(r.kind === "json" && r.raw.includes('"req_id":18446744073709551615'));
    c.close();
  });
});

describe("emulator /ws queries", () => {
  it("answers DDL/INSERT with is_update and the affected rows", async () => {
    const c = await connected();
    const r = await c.json("query", { req_id: 11, sql: "insert into power.t values (1700000000005, 5, 'e')" });
    assert.deepEqual({ ...r, timing: 0 }, {
      code: 0, message: "", action: "query", req_id: 11, timing: 0, id: 0, is_update: true, affected_rows: 1, fields_count: 0,
      fields_names: null, fields_types: null, fields_lengths: null, precision: 0, fields_precisions: null, fields_scales: null,
    });
    const err = await c.json("query", { req_id: 12, sql: "select * from power.nosuch" });
    assert.deepEqual([err.code, err.action, err.req_id], [9731, "query", 12]);
    assert.match(String(err.message), /Table does not exist/);
    const syn = await c.json("query", { req_id: 13, sql: "selec 1" });
    assert.equal(syn.code, 9728);
    c.close();
  });

  it("serves binary query + fetch_raw_block with the exact reply and block layout, then finishes and frees", async () => {
    const c = await connected();
    c.send(binaryQuery(21n, "select * from t where ts < 1700000000002"));
    const q = await c.nextJson();
    assert.deepEqual({ ...q, timing: 0 }, {
      code: 0, message: "", action: "binary_query", req_id: 21, timing: 0, id: 1, is_update: false, affected_rows: 0,
      fields_count: 3, fields_names: ["ts", "v", "s"], fields_types: [9, 4, 8], fields_lengths: [8, 4, 4], precision: 0,
      fields_precisions: [0, 0, 0], fields_scales: [0, 0, 0],
    });
    c.send(fetchRawBlock(22n, 1n));
    const f = await c.nextBinary();
    const expected = hex(`
      ffffffffffffffff 0700000000000000 0100 TTTTTTTTTTTTTTTT 1600000000000000 00000000 00000000 0100000000000000 00 5d000000
      01000000 5d000000 02000000 03000000 00000080 0000000000000000
      09 08000000 04 04000000 08 06000000
      10000000 08000000 04000000
      00 0068e5cf8b010000 0168e5cf8b010000
      40 01000000 00000000
      00000000 ffffffff 0200 6162`);
    const got = f.toString("hex");
    assert.equal(got.slice(0, 36) + "TTTTTTTTTTTTTTTT" + got.slice(52), expected);
    c.send(fetchRawBlock(23n, 1n));
    const done = await c.nextBinary();
    assert.equal(done.length, 51);
    assert.equal(done.toString("hex").slice(52), hex("1700000000000000 00000000 00000000 0100000000000000 01"));
    c.send(fetchRawBlock(24n, 1n));
    const gone = await c.nextBinary();
    const msg = "result is nil";
    assert.equal(gone.readUInt32LE(34), 65535);
    assert.equal(gone.readUInt32LE(38), msg.length);
    assert.equal(gone.toString("utf8", 42, 42 + msg.length), msg);
    assert.equal(gone[50 + msg.length], 1);
    c.close();
  });

  it("splits large results into blocks of at most 4096 rows", async () => {
    emu.sql("create table power.big (ts timestamp, v int)");
    const t0 = 1700000000000;
    for (let k = 0; k < 10; k++) {
      const vals = Array.from({ length: 1000 }, (_, i) => `(${t0 + k * 1000 + i}, ${k * 1000 + i})`).join(" ");
      emu.sql(`insert into power.big values ${vals}`);
    }
    const c = await connected();
    const q = await c.json("query", { req_id: 30, sql: "select * from big" });
    const counts: number[] = [];
    for (let i = 0; ; i++) {
      c.send(fetchRawBlock(BigInt(31 + i), BigInt(q.id as number)));
      const f = await c.nextBinary();
      if (f[50] === 1) break;
      counts.push(f.readInt32LE(55 + 8));
    }
    assert.deepEqual(counts, [4096, 4096, 1808]);
    c.close();
  });

  it("sends no reply to free_result and frees the result", async () => {
    const c = await connected();
    const q = await c.json("query", { req_id: 40, sql: "select * from t" });
    c.send(JSON.stringify({ action: "free_result", args: { req_id: 41, id: q.id } }));
    const v = await c.json("version", { req_id: 42 });
    assert.equal(v.req_id, 42);
    c.send(fetchRawBlock(43n, BigInt(q.id as number)));
    const f = await c.nextBinary();
    assert.equal(f.readUInt32LE(34), 65535);
    c.close();
  });

  it("accepts permessage-deflate", async () => {
    const c = await RawWs.open(`${emu.wsUrl}/ws`, { perMessageDeflate: true });
    assert.match(c.ws.extensions, /permessage-deflate/);
    const v = await c.json("version", { req_id: 1 });
    assert.equal(v.code, 0);
    c.close();
  });
});

describe("emulator /ws stmt2 and schemaless", () => {
  it("runs init/prepare/bind/exec/close for INSERT INTO ? USING ... TAGS", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 50, single_stb_insert: true, single_table_bind_once: true });
    assert.deepEqual({ ...init, timing: 0 }, { code: 0, message: "", action: "stmt2_init", req_id: 50, timing: 0, stmt_id: 1 });
    const p = await c.json("stmt2_prepare", { req_id: 51, stmt_id: 1, sql: "insert into ? using meters tags (?, ?) values (?, ?, ?)", get_fields: true });
    assert.deepEqual({ ...p, timing: 0 }, {
      code: 0, message: "", action: "stmt2_prepare", req_id: 51, timing: 0, stmt_id: 1, is_insert: true,
      fields: [
        { name: "tbname", field_type: 8, precision: 0, scale: 0, bytes: 271, bind_type: 4 },
        { name: "group_id", field_type: 4, precision: 0, scale: 0, bytes: 4, bind_type: 2 },
        { name: "location", field_type: 8, precision: 0, scale: 0, bytes: 18, bind_type: 2 },
        { name: "ts", field_type: 9, precision: 0, scale: 0, bytes: 8, bind_type: 1 },
        { name: "current", field_type: 7, precision: 0, scale: 0, bytes: 8, bind_type: 1 },
        { name: "label", field_type: 10, precision: 0, scale: 0, bytes: 34, bind_type: 1 },
      ],
      fields_count: 6,
    });
    const now = BigInt(Date.now());
    const payload = bindPayload([
      {
        name: "d1001",
        tags: [colBlock(4, [0], i32s(2)), colBlock(8, [0], Buffer.from("SF"), [2])],
        cols: [colBlock(9, [0, 0], i64s(now, now + 1n)), colBlock(7, [0, 1], f64s(10.5, 0)), colBlock(10, [0, 0], Buffer.from("éa"), [2, 1])],
      },
      {
        name: "d1002",
        tags: [colBlock(4, [1], i32s(0)), colBlock(8, [0], Buffer.from("LA"), [2])],
        cols: [colBlock(9, [0], i64s(now)), colBlock(7, [0], f64s(1)), colBlock(10, [1], Buffer.alloc(0), [0])],
      },
    ]);
    c.send(stmt2Bind(52n, 1n, payload));
    const b = await c.nextJson();
    assert.deepEqual({ ...b, timing: 0 }, { code: 0, message: "", action: "stmt2_bind", req_id: 52, timing: 0, stmt_id: 1 });
    const e = await c.json("stmt2_exec", { req_id: 53, stmt_id: 1 });
    assert.deepEqual({ ...e, timing: 0 }, { code: 0, message: "", action: "stmt2_exec", req_id: 53, timing: 0, stmt_id: 1, affected: 3 });
    assert.deepEqual(emu.sql("select tbname, ts, current, label, group_id, location from power.meters order by tbname, ts").rows, [
      ["d1001", now, 10.5, "é", 2, "SF"],
      ["d1001", now + 1n, null, "a", 2, "SF"],
      ["d1002", now, 1, null, null, "LA"],
    ]);
    const cl = await c.json("stmt2_close", { req_id: 54, stmt_id: 1 });
    assert.deepEqual([cl.code, cl.stmt_id], [0, 1]);
    const gone = await c.json("stmt2_exec", { req_id: 55, stmt_id: 1 });
    assert.deepEqual([gone.code, gone.message, gone.stmt_id], [65535, "stmt2 is nil", 1]);
    c.close();
  });

  it("supports the super-table form INSERT INTO stb (tbname, ts, ..., tags) VALUES (?, ...)", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 56 });
    const id = init.stmt_id as number;
    const p = await c.json("stmt2_prepare", { req_id: 57, stmt_id: id, sql: "insert into meters (tbname, ts, location, current) values (?, ?, ?, ?)", get_fields: true });
    assert.deepEqual((p.fields as { name: string; bind_type: number }[]).map((f) => [f.name, f.bind_type]), [["tbname", 4], ["ts", 1], ["location", 2], ["current", 1]]);
    const ts = BigInt(Date.now());
    c.send(stmt2Bind(58n, BigInt(id), bindPayload([{ name: "d2001", tags: [colBlock(8, [0], Buffer.from("NY"), [2])], cols: [colBlock(9, [0], i64s(ts)), colBlock(7, [0], f64s(7.5))] }])));
    assert.equal((await c.nextJson()).code, 0);
    const e = await c.json("stmt2_exec", { req_id: 59, stmt_id: id });
    assert.equal(e.affected, 1);
    assert.deepEqual(emu.sql("select tbname, current, location, group_id from power.meters where tbname = 'd2001'").rows, [["d2001", 7.5, "NY", null]]);
    c.close();
  });

  it("reports too-long values from a bind at exec with a TDengine code", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 60 });
    await c.json("stmt2_prepare", { req_id: 61, stmt_id: init.stmt_id, sql: "insert into t values (?, ?, ?)", get_fields: false });
    c.send(stmt2Bind(62n, BigInt(init.stmt_id as number), bindPayload([{ tags: [], cols: [colBlock(9, [0], i64s(BigInt(Date.now()))), colBlock(4, [0], i32s(1)), colBlock(8, [0], Buffer.from("toolong"), [7])] }])));
    assert.equal((await c.nextJson()).code, 0);
    const e = await c.json("stmt2_exec", { req_id: 63, stmt_id: init.stmt_id });
    assert.equal(e.code, 0x2610);
    c.close();
  });

  it("runs a SELECT with ? parameters through stmt2_result and fetch", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 70 });
    const id = init.stmt_id as number;
    const p = await c.json("stmt2_prepare", { req_id: 71, stmt_id: id, sql: "select ts, v from t where v = ?", get_fields: true });
    assert.deepEqual([p.is_insert, p.fields_count, p.fields], [false, 1, null]);
    c.send(stmt2Bind(72n, BigInt(id), bindPayload([{ tags: [], cols: [colBlock(4, [0], i32s(1))] }])));
    assert.equal((await c.nextJson()).code, 0);
    const e = await c.json("stmt2_exec", { req_id: 73, stmt_id: id });
    assert.equal(e.affected, 0);
    const r = await c.json("stmt2_result", { req_id: 74, stmt_id: id });
    assert.deepEqual({ ...r, timing: 0, id: 0 }, {
      code: 0, message: "", action: "stmt2_result", req_id: 74, timing: 0, stmt_id: id, id: 0, fields_count: 2,
      fields_names: ["ts", "v"], fields_types: [9, 4], fields_lengths: [8, 4], precision: 0,
      fields_precisions: [0, 0], fields_scales: [0, 0],
    });
    c.send(fetchRawBlock(75n, BigInt(r.id as number)));
    const f = await c.nextBinary();
    assert.equal(f.readInt32LE(55 + 8), 1);
    c.close();
  });

  it("accepts schemaless InfluxDB line protocol", async () => {
    const c = await connected();
    const ts = Date.now();
    const r = await c.json("insert", { req_id: 80, protocol: 1, precision: "ms", ttl: 0, data: `weather,city=paris temp=21.5,hum=40i ${ts}\nweather,city=oslo temp=3 ${ts}` });
    assert.deepEqual({ ...r, timing: 0 }, { code: 0, message: "", action: "insert", req_id: 80, timing: 0, affected_rows: 2, total_rows: 2 });
    assert.deepEqual(emu.sql("select city, temp, hum from power.weather order by temp").rows, [
      ["oslo", 3, null],
      ["paris", 21.5, 40n],
    ]);
    const bad = await c.json("insert", { req_id: 81, protocol: 0, data: "x" });
    assert.equal(bad.code, 65535);
    c.close();
  });
});

describe("emulator reply reordering", () => {
  it("can return replies of concurrent requests out of order, each with its req_id", async () => {
    const re = await startEmulator({ reorderReplies: true });
    try {
      const c = await RawWs.open(`${re.wsUrl}/ws`);
      assert.equal((await c.json("conn", { req_id: 1, user: "root", password: "taosdata" })).code, 0);
      // Replies are held for a short window and flushed in reverse; retry a few batches in case a slow
      // machine spreads one batch over several windows.
      let reordered = false;
      for (let attempt = 0; attempt < 5 && !reordered; attempt++) {
        const base = 100 * (attempt + 1);
        for (let i = 0; i < 5; i++) c.send(JSON.stringify({ action: "version", args: { req_id: base + i } }));
        await waitFor("5 replies", () => c.replies.length >= 5);
        const ids = c.replies.splice(0).map((r) => (r.kind === "json" ? (r.msg.req_id as number) : -1));
        assert.deepEqual([...ids].sort((a, b) => a - b), [0, 1, 2, 3, 4].map((i) => base + i));
        reordered = ids.some((id, i) => id !== base + i);
      }
      assert.ok(reordered, "replies were never reordered");
      c.close();
    } finally {
      await re.stop();
    }
  });
});
