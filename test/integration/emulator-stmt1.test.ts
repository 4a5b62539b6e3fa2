// The older binding protocol (stmt1) on /ws, spoken raw: JSON set_tags/bind and the binary set_tags (action 1) /
// bind (action 2) frames whose raw block is built here by hand from the protocol facts (taosAdapter
// controller/ws/ws/stmt.go; block layout as in query results, NCHAR as UCS-4).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { RawWs, header } from "./emulator-raw-client.js";

let emu: Emulator;
before(async () => {
  emu = await startEmulator();
  emu.sql("create database power");
  emu.sql("create stable power.meters (ts timestamp, current float, voltage int, label nchar(4)) tags (location varchar(16), gid int)");
  emu.sql("create table power.n (ts timestamp, v int)");
});
after(async () => {
  await emu.stop();
});

async function connected(): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/ws`);
  assert.equal((await c.json("conn", { req_id: 1, user: "root", password: "taosdata", db: "power" })).code, 0);
  return c;
}

type Col = { type: number; bytes: number; fixed?: (number | bigint | null)[]; text?: (string | null)[] };

/** A raw block (version 1) of the given columns; the length field counts the whole frame, as the connector sends. */
function block(cols: Col[], rows: number): Buffer {
  const parts: Buffer[] = [];
  const lens: number[] = [];
  for (const c of cols) {
    if (c.text) {
      const offs = Buffer.alloc(4 * rows);
      const data: Buffer[] = [];
      let o = 0;
      c.text.forEach((v, r) => {
        if (v === null) return offs.writeInt32LE(-1, 4 * r);
        offs.writeInt32LE(o, 4 * r);
        const body = c.type === 10 ? Buffer.from(Uint32Array.from([...v].map((ch) => ch.codePointAt(0) as number)).buffer) : Buffer.from(v, "utf8");
        const len = Buffer.alloc(2);
        len.writeUInt16LE(body.length);
        data.push(len, body);
        o += 2 + body.length;
      });
      parts.push(offs, ...data);
      lens.push(o);
    } else {
      const vals = c.fixed as (number | bigint | null)[];
      const bitmap = Buffer.alloc((rows + 7) >> 3);
      const data = Buffer.alloc(rows * c.bytes);
      vals.forEach((v, r) => {
        if (v === null) return void (bitmap[r >> 3] |= 0x80 >> (r & 7));
        if (c.type === 9) data.writeBigInt64LE(BigInt(v), r * 8);
        else if (c.type === 6) data.writeFloatLE(Number(v), r * 4);
        else data.writeInt32LE(Number(v), r * 4);
      });
      parts.push(bitmap, data);
      lens.push(data.length);
    }
  }
  const head = Buffer.alloc(28 + cols.length * 9);
  head.writeUInt32LE(1, 0);
  head.writeInt32LE(rows, 8);
  head.writeInt32LE(cols.length, 12);
  head.writeBigUInt64LE(0n, 20);
  cols.forEach((c, i) => {
    head.writeUInt8(c.type, 28 + i * 5);
    head.writeInt32LE(c.bytes, 29 + i * 5);
    head.writeInt32LE(lens[i], 28 + cols.length * 5 + i * 4);
  });
  const body = Buffer.concat([head, ...parts]);
  body.writeUInt32LE(24 + body.length, 4);
  return body;
}

describe("emulator stmt1 on /ws", () => {
  it("init, prepare, set_table_name, binary set_tags and bind, add_batch, exec, close", async () => {
    const c = await connected();
    const init = await c.json("init", { req_id: 2 });
    assert.equal(init.code, 0);
    const id = init.stmt_id as number;
    const p = await c.json("prepare", { req_id: 3, stmt_id: id, sql: "INSERT INTO ? USING meters TAGS (?, ?) VALUES (?, ?, ?, ?)" });
    assert.deepEqual([p.code, p.is_insert, p.stmt_id], [0, true, id]);
    const tf = await c.json("get_tag_fields", { req_id: 4, stmt_id: id });
    assert.deepEqual(tf.fields, [
      { name: "location", field_type: 8, precision: 0, scale: 0, bytes: 18 },
      { name: "gid", field_type: 4, precision: 0, scale: 0, bytes: 4 },
    ]);
    const cf = await c.json("get_col_fields", { req_id: 5, stmt_id: id });
    assert.deepEqual((cf.fields as { name: string; field_type: number }[]).map((f) => [f.name, f.field_type]), [["ts", 9], ["current", 6], ["voltage", 4], ["label", 10]]);
    assert.equal((await c.json("set_table_name", { req_id: 6, stmt_id: id, name: "power.d1" })).code, 0);
    c.send(Buffer.concat([header(7n, BigInt(id), 1n), block([{ type: 8, bytes: 18, text: ["SF"] }, { type: 4, bytes: 4, fixed: [7] }], 1)]));
    assert.deepEqual(await c.nextJson().then((r) => [r.code, r.action, r.stmt_id]), [0, "set_tags", id]);
    // Two binds before one add_batch: both land.
    for (const [k, t0] of [[8n, 1700000000000n], [9n, 1700000000002n]] as const) {
      c.send(Buffer.concat([header(k, BigInt(id), 2n), block([
        { type: 9, bytes: 8, fixed: [t0, t0 + 1n] },
        { type: 6, bytes: 4, fixed: [1.5, null] },
        { type: 4, bytes: 4, fixed: [220, 221] },
        { type: 10, bytes: 16, text: ["é中", null] },
      ], 2)]));
      assert.deepEqual(await c.nextJson().then((r) => [r.code, r.action]), [0, "bind"]);
    }
    assert.equal((await c.json("add_batch", { req_id: 10, stmt_id: id })).code, 0);
    const e = await c.json("exec", { req_id: 11, stmt_id: id });
    assert.deepEqual([e.code, e.affected], [0, 4]);
    assert.deepEqual(emu.sql("select ts, current, voltage, label, location, gid from power.meters").rows, [
      [1700000000000n, 1.5, 220, "é中", "SF", 7],
      [1700000000001n, null, 221, null, "SF", 7],
      [1700000000002n, 1.5, 220, "é中", "SF", 7],
      [1700000000003n, null, 221, null, "SF", 7],
    ]);
    // close answers nothing; the statement is gone afterwards.
    c.send(JSON.stringify({ action: "close", args: { req_id: 12, stmt_id: id } }));
    const gone = await c.json("exec", { req_id: 13, stmt_id: id });
    assert.deepEqual([gone.code, gone.message], [0xffff, "stmt is nil"]);
    c.close();
  });

  it("JSON set_tags / bind; refuses tags of the wrong count, rows before tags and exec before add_batch", async () => {
    const c = await connected();
    const id = (await c.json("init", { req_id: 2 })).stmt_id as number;
    await c.json("prepare", { req_id: 3, stmt_id: id, sql: "INSERT INTO ? USING meters TAGS (?, ?) VALUES (?, ?, ?, ?)" });
    await c.json("set_table_name", { req_id: 4, stmt_id: id, name: "d2" });
    const early = await c.json("bind", { req_id: 5, stmt_id: id, columns: [[1700000001000], [1], [2], ["x"]] });
    assert.match(String(early.message), /Tags are empty/);
    const wrong = await c.json("set_tags", { req_id: 6, stmt_id: id, tags: ["LA"] });
    assert.deepEqual([wrong.code, wrong.message], [0xffff, "stmt tags count not match"]);
    assert.equal((await c.json("set_tags", { req_id: 7, stmt_id: id, tags: ["LA", 2] })).code, 0);
    assert.equal((await c.json("bind", { req_id: 8, stmt_id: id, columns: [[1700000001000, 1700000001001], [1, 2], [3, 4], ["a", null]] })).code, 0);
    const noBatch = await c.json("exec", { req_id: 9, stmt_id: id });
    assert.deepEqual([noBatch.code, noBatch.message], [0x022a, "Stmt API usage error"]);
    await c.json("add_batch", { req_id: 10, stmt_id: id });
    const e = await c.json("exec", { req_id: 11, stmt_id: id });
    assert.deepEqual([e.code, e.affected], [0, 2]);
    assert.deepEqual(emu.sql("select voltage, label, location from power.d2").rows, [[3, "a", "LA"], [4, null, "LA"]]);
    c.close();
  });

  it("runs a query with ? through bind, exec and use_result", async () => {
    const c = await connected();
    emu.sql("insert into power.n values (1700000000000, 5) (1700000000001, 6)");
    const id = (await c.json("init", { req_id: 2 })).stmt_id as number;
    const p = await c.json("prepare", { req_id: 3, stmt_id: id, sql: "select v from n where v > ?" });
    assert.equal(p.is_insert, false);
    await c.json("bind", { req_id: 4, stmt_id: id, columns: [[5]] });
    await c.json("add_batch", { req_id: 5, stmt_id: id });
    await c.json("exec", { req_id: 6, stmt_id: id });
    const r = await c.json("use_result", { req_id: 7, stmt_id: id });
    assert.deepEqual([r.code, r.fields_names, r.fields_types, r.fields_count], [0, ["v"], [4], 1]);
    assert.ok((r.result_id as number) > 0);
    c.close();
  });
});
