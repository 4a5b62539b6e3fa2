// Schemaless OpenTSDB telnet (protocol 2) and JSON (protocol 3) writes on /ws, and the ttl argument: super table
// <metric> with columns _ts and _value, NCHAR tags, timestamps in the given precision or inferred from their digits
// (10 = s, 13 = ms), as TDengine's schemaless documentation describes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { RawWs } from "./emulator-raw-client.js";

let emu: Emulator;
before(async () => {
  emu = await startEmulator();
  emu.sql("create database sml");
});
after(async () => {
  await emu.stop();
});

async function connected(): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/ws`);
  assert.equal((await c.json("conn", { req_id: 1, user: "root", password: "taosdata", db: "sml" })).code, 0);
  return c;
}

describe("emulator schemaless OpenTSDB protocols", () => {
  it("telnet: metric, timestamp (seconds by digits or by precision), value and tags", async () => {
    const c = await connected();
    const r = await c.json("insert", { req_id: 2, protocol: 2, precision: "", ttl: 0, data: "cpu.load 1626006833 4 host=h0 dc=eu\ncpu.load 1626006834000 5.5 host=h1 dc=eu" });
    assert.deepEqual([r.code, r.affected_rows, r.total_rows], [0, 2, 2]);
    assert.deepEqual(emu.sql("select _ts, _value, host, dc from sml.`cpu.load` order by _ts").rows, [
      [1626006833000n, 4, "h0", "eu"],
      [1626006834000n, 5.5, "h1", "eu"],
    ]);
    const typed = await c.json("insert", { req_id: 3, protocol: 2, precision: "ms", data: "cpu.load 1626006835000 6 host=h0 dc=eu" });
    assert.equal(typed.code, 0);
    // A line that is not telnet (here: InfluxDB line protocol) fails on its timestamp, as TDengine reports it.
    const bad = await c.json("insert", { req_id: 4, protocol: 2, precision: "ns", data: "st,t1=3i64 c1=3i64 1626006833639000000" });
    assert.notEqual(bad.code, 0);
    assert.match(String(bad.message), /parse timestamp failed/);
    c.close();
  });

  it("JSON: one point or an array, typed {value, type} timestamps and values, tags as NCHAR", async () => {
    const c = await connected();
    const one = { metric: "meter_current", timestamp: 1626846400, value: 10.3, tags: { groupid: 2, location: "SF" } };
    const two = [
      { metric: "meter_current", timestamp: { value: 1626846401000, type: "ms" }, value: { value: 11, type: "double" }, tags: { groupid: 3, location: "LA" } },
      { metric: "meter_current", timestamp: 1626846402000, value: 12.5, tags: { groupid: 2, location: "SF" } },
    ];
    assert.equal((await c.json("insert", { req_id: 2, protocol: 3, precision: "", data: JSON.stringify(one) })).code, 0);
    const r = await c.json("insert", { req_id: 3, protocol: 3, precision: "", data: JSON.stringify(two) });
    assert.deepEqual([r.code, r.affected_rows], [0, 2]);
    assert.deepEqual(emu.sql("select _ts, _value, groupid, location from sml.meter_current order by _ts").rows, [
      [1626846400000n, 10.3, "2", "SF"],
      [1626846401000n, 11, "3", "LA"],
      [1626846402000n, 12.5, "2", "SF"],
    ]);
    assert.deepEqual(emu.sql("select count(*) from sml.meter_current partition by tbname").rows.length, 2, "one subtable per tag set");
    c.close();
  });

  it("records ttl on the subtables it creates and refuses an invalid protocol", async () => {
    const c = await connected();
    assert.equal((await c.json("insert", { req_id: 2, protocol: 1, precision: "ms", ttl: 7, data: "ttl_m,k=a v=1 1626846400000" })).code, 0);
    assert.deepEqual(emu.sql("select stable_name, ttl from information_schema.ins_tables where stable_name = 'ttl_m'").rows, [["ttl_m", 7]]);
    const bad = await c.json("insert", { req_id: 3, protocol: 9, data: "x" });
    assert.notEqual(bad.code, 0);
    c.close();
  });
});
