// TTL through the emulator's endpoints: schemaless `ttl` (InfluxDB line, OpenTSDB telnet and JSON over /ws) gives the
// subtables it creates a TTL, and they expire ttl × ttlUnit after their creation; SQL TTL over REST; the emulator's
// own periodic sweep (ttlPushInterval) drops them without being asked. The clock is injected: no real waiting except
// for the periodic sweep, which is awaited with waitFor.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { RawWs } from "./emulator-raw-client.js";
import { waitFor } from "../support/wait.js";

const T0 = Date.UTC(2026, 0, 1);
let now = T0;
let emu: Emulator;

before(async () => {
  // ttlUnit 1: TTL counts seconds (TDengine's test setting); sweeps only when asked.
  emu = await startEmulator({ clock: () => now, ttlUnit: 1, ttlPushInterval: 0 });
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

const subtables = (stable: string): unknown[][] => emu.sql(`select ttl from information_schema.ins_tables where db_name = 'sml' and stable_name = '${stable}'`).rows;

describe("emulator TTL over the endpoints", () => {
  it("schemaless ttl: line, telnet and JSON subtables expire ttl units after creation, not before", async () => {
    now = T0;
    const c = await connected();
    const line = await c.json("insert", { req_id: 2, protocol: 1, precision: "ms", ttl: 30, data: "m_line,k=a v=1 1767225600000\nm_line,k=b v=2 1767225600000" });
    const telnet = await c.json("insert", { req_id: 3, protocol: 2, precision: "ms", ttl: 30, data: "m_telnet 1767225600000 4 host=h0" });
    const json = await c.json("insert", { req_id: 4, protocol: 3, precision: "ms", ttl: 60, data: JSON.stringify({ metric: "m_json", timestamp: 1767225600000, value: 1, tags: { host: "h0" } }) });
    const zero = await c.json("insert", { req_id: 5, protocol: 1, precision: "ms", ttl: 0, data: "m_zero,k=a v=1 1767225600000" });
    assert.deepEqual([line.code, telnet.code, json.code, zero.code], [0, 0, 0, 0]);
    assert.deepEqual(subtables("m_line"), [[30], [30]]);
    assert.deepEqual(emu.sql("select count(*) from sml.m_line").rows, [[2n]]);

    now = T0 + 29_999;
    assert.deepEqual(emu.expireTables(), []);
    now = T0 + 30_000;
    assert.deepEqual(emu.expireTables().map((n) => n.split(".")[0]).sort(), ["sml", "sml", "sml"]);
    assert.deepEqual(subtables("m_line"), []);
    assert.deepEqual(subtables("m_telnet"), []);
    assert.deepEqual(emu.sql("select count(*) from sml.m_line").rows, [[0n]]);
    assert.deepEqual(subtables("m_json"), [[60]]);
    now = T0 + 60_000;
    assert.equal(emu.expireTables().length, 1);
    assert.deepEqual(subtables("m_json"), []);
    assert.deepEqual(subtables("m_zero"), [[0]]);
    // Writing the same series again creates a fresh subtable with the new request's ttl.
    assert.equal((await c.json("insert", { req_id: 6, protocol: 1, precision: "ms", ttl: 5, data: "m_line,k=a v=3 1767225601000" })).code, 0);
    assert.deepEqual(subtables("m_line"), [[5]]);
    assert.deepEqual(emu.sql("select v from sml.m_line").rows, [[3]]);
    c.close();
  });

  it("SQL TTL and ALTER TABLE … TTL over REST show in ins_tables and expire", async () => {
    now = T0;
    const rest = async (sql: string): Promise<{ code: number; data?: unknown[][] }> => {
      const r = await fetch(`${emu.httpUrl}/rest/sql/sml`, { method: "POST", body: sql, headers: { authorization: `Basic ${Buffer.from("root:taosdata").toString("base64")}` } });
      return (await r.json()) as { code: number; data?: unknown[][] };
    };
    assert.equal((await rest("create table r1 (ts timestamp, v int) ttl 10")).code, 0);
    assert.equal((await rest("alter table r1 ttl 20")).code, 0);
    assert.deepEqual((await rest("select ttl from information_schema.ins_tables where table_name = 'r1'")).data, [[20]]);
    now = T0 + 19_000;
    assert.deepEqual(emu.expireTables(), []);
    now = T0 + 20_000;
    assert.deepEqual(emu.expireTables(), ["sml.r1"]);
    assert.notEqual((await rest("select * from r1")).code, 0);
  });
});

describe("emulator TTL: the periodic sweep", () => {
  it("drops expired tables every ttlPushInterval seconds without being asked", async () => {
    let clock = T0;
    const own = await startEmulator({ clock: () => clock, ttlUnit: 1, ttlPushInterval: 1 });
    try {
      own.sql("create database d");
      own.sql("create table d.t1 (ts timestamp, v int) ttl 5");
      own.sql("create table d.t2 (ts timestamp, v int)");
      clock = T0 + 5_000;
      await waitFor("the sweep to drop d.t1", () => own.sql("select table_name from information_schema.ins_tables where db_name = 'd'").rows.length === 1);
      assert.deepEqual(own.sql("show d.tables").rows, [["t2"]]);
    } finally {
      await own.stop();
    }
  });
});
