// Fidelity of the emulator where it used to give wrong answers: stmt2 table names qualified with a database, the
// fields of `INSERT INTO ? VALUES`, and the connection time zone (conn tz, options_connection, REST tz/conn_tz).
// Expected values are TDengine's documented behaviour (stmt2Test.cpp in TDengine, taosAdapter's REST layout).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { RawWs, bindPayload, colBlock, i32s, i64s, stmt2Bind } from "./emulator-raw-client.js";

let emu: Emulator;
before(async () => {
  emu = await startEmulator();
  emu.sql("create database power");
  emu.sql("create database other");
  emu.sql("create stable power.meters (ts timestamp, v int) tags (gid int)");
  emu.sql("create table power.nt (ts timestamp, v int)");
  emu.sql("create table power.tz (ts timestamp, v int)");
});
after(async () => {
  await emu.stop();
});

async function connected(args: Record<string, unknown> = {}): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/ws`);
  const r = await c.json("conn", { req_id: 1, user: "root", password: "taosdata", db: "", ...args });
  assert.equal(r.code, 0, String(r.message));
  return c;
}

async function rest(sql: string, query = ""): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emu.httpUrl}/rest/sql${query}`, { method: "POST", body: sql, headers: { Authorization: `Basic ${Buffer.from("root:taosdata").toString("base64")}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const oneRow = (name: string, ts: bigint, v: number): { name: string; tags: Buffer[]; cols: Buffer[] } => ({
  name,
  tags: [colBlock(4, [0], i32s(v))],
  cols: [colBlock(9, [0], i64s(ts)), colBlock(4, [0], i32s(v))],
});

describe("stmt2 table names with a database", () => {
  it("splits db.tb and `db`.`tb` into database and table, with no current database on the connection", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 2 });
    const p = await c.json("stmt2_prepare", { req_id: 3, stmt_id: init.stmt_id, sql: "INSERT INTO ? USING power.meters TAGS(?) VALUES(?,?)", get_fields: true });
    assert.equal(p.code, 0, String(p.message));
    assert.deepEqual((p.fields as { name: string }[]).map((f) => f.name), ["tbname", "gid", "ts", "v"]);
    c.send(stmt2Bind(4n, BigInt(init.stmt_id as number), bindPayload([oneRow("power.d0", 1700000000000n, 1), oneRow("`power`.`D1`", 1700000000000n, 2), oneRow("d2", 1700000000000n, 3)])));
    assert.equal((await c.nextJson()).code, 0);
    const e = await c.json("stmt2_exec", { req_id: 5, stmt_id: init.stmt_id });
    assert.equal(e.code, 0, String(e.message));
    assert.equal(e.affected, 3);
    // A bare name goes to the super table's database; back-quoted names keep their case.
    assert.deepEqual(emu.sql("select tbname, v, gid from power.meters order by v").rows, [["d0", 1, 1], ["D1", 2, 2], ["d2", 3, 3]]);
    assert.deepEqual(emu.sql("show power.tables").rows.map((r) => r[0]).sort(), ["D1", "d0", "d2", "nt", "tz"]);
    c.close();
  });

  it("refuses a bound name whose database lacks the super table, writing nothing", async () => {
    const c = await connected({ db: "power" });
    const init = await c.json("stmt2_init", { req_id: 2 });
    await c.json("stmt2_prepare", { req_id: 3, stmt_id: init.stmt_id, sql: "INSERT INTO ? USING meters TAGS(?) VALUES(?,?)", get_fields: true });
    c.send(stmt2Bind(4n, BigInt(init.stmt_id as number), bindPayload([oneRow("other.x0", 1700000000000n, 9)])));
    await c.nextJson();
    const e = await c.json("stmt2_exec", { req_id: 5, stmt_id: init.stmt_id });
    assert.equal(e.code, 0x2603);
    assert.deepEqual(emu.sql("show other.tables").rows, []);
    c.close();
  });

  it("INSERT INTO ? VALUES: asking for fields before a table is bound fails like taos_stmt2_get_fields; binding db.tb writes", async () => {
    const c = await connected();
    const init = await c.json("stmt2_init", { req_id: 2 });
    const withFields = await c.json("stmt2_prepare", { req_id: 3, stmt_id: init.stmt_id, sql: "INSERT INTO ? VALUES(?,?)", get_fields: true });
    assert.deepEqual([withFields.code, withFields.message], [0x022b, "Table does not exist"]);
    const p = await c.json("stmt2_prepare", { req_id: 4, stmt_id: init.stmt_id, sql: "INSERT INTO ? VALUES(?,?)", get_fields: false });
    assert.deepEqual([p.code, p.is_insert], [0, true]);
    c.send(stmt2Bind(5n, BigInt(init.stmt_id as number), bindPayload([{ name: "power.nt", tags: [], cols: [colBlock(9, [0], i64s(1700000000000n)), colBlock(4, [0], i32s(42))] }])));
    assert.equal((await c.nextJson()).code, 0);
    const e = await c.json("stmt2_exec", { req_id: 6, stmt_id: init.stmt_id });
    assert.deepEqual([e.code, e.affected], [0, 1]);
    assert.deepEqual(emu.sql("select ts, v from power.nt").rows, [[1700000000000n, 42]]);
    c.close();
  });
});

describe("connection time zone", () => {
  // 2025-08-08 08:08:08 in Asia/Shanghai (+08:00) is 1754611688000 ms (TDengine stmt2Test "timezone").
  const SHANGHAI_8_08 = 1754611688000n;

  it("reads timestamp strings in the zone given by conn tz (IANA and POSIX UTC-8) and by options_connection", async () => {
    const a = await connected({ tz: "Asia/Shanghai" });
    assert.equal((await a.json("query", { req_id: 2, sql: "insert into power.tz values ('2025-08-08 08:08:08', 1)" })).code, 0);
    a.close();
    const b = await connected({ tz: "UTC-8" });
    assert.equal((await b.json("query", { req_id: 2, sql: "insert into power.tz values ('2025-08-08 08:08:09', 2)" })).code, 0);
    b.close();
    const c = await connected();
    const o = await c.json("options_connection", { req_id: 2, options: [{ option: 1, value: "UTC" }] });
    assert.equal(o.code, 0);
    assert.equal((await c.json("query", { req_id: 3, sql: "insert into power.tz values ('2025-08-08 00:08:10', 3)" })).code, 0);
    const bad = await c.json("options_connection", { req_id: 4, options: [{ option: 1, value: "Mars/Olympus" }] });
    assert.notEqual(bad.code, 0);
    c.close();
    assert.deepEqual(emu.sql("select ts, v from power.tz").rows, [
      [SHANGHAI_8_08, 1],
      [SHANGHAI_8_08 + 1000n, 2],
      [SHANGHAI_8_08 + 2000n, 3],
    ]);
  });

  it("REST: conn_tz reads SQL strings and renders offsets; tz only renders; timezone() names the zone; bad zones are 400", async () => {
    const r1 = await rest("select ts from power.tz where ts = '2025-08-08 08:08:08'", "?conn_tz=Asia/Shanghai");
    assert.deepEqual(r1.body.data, [["2025-08-08T08:08:08.000+08:00"]]);
    const r2 = await rest(`select ts from power.tz where ts = ${SHANGHAI_8_08}`, "?tz=UTC");
    assert.deepEqual(r2.body.data, [["2025-08-08T00:08:08.000Z"]]);
    const r3 = await rest(`select ts from power.tz where ts = ${SHANGHAI_8_08}`, "?tz=America/New_York");
    assert.deepEqual(r3.body.data, [["2025-08-07T20:08:08.000-04:00"]]);
    const tzName = await rest("select timezone()", "?conn_tz=Asia/Shanghai");
    assert.match(String((tzName.body.data as string[][])[0][0]), /^Asia\/Shanghai \(.*, \+0800\)$/);
    const bad = await rest("select 1", "?tz=Nowhere/Land");
    assert.equal(bad.status, 400);
  });
});
