// The emulator's write counters: per table, rows inserted (new timestamp) and rows overwritten (a (table, ts) that
// already existed), whichever way they were written (SQL INSERT over REST and WebSocket, stmt2, schemaless), read
// through Emulator.stats() and GET /-/emulator/stats. The fault suite relies on them to see duplicate writes,
// which the table itself (one row per (table, ts)) hides.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { openClient, type TdengineClientApi } from "../../lib/tdengine/index.js";

let emu: Emulator;
let client: TdengineClientApi;
const BASIC = "Basic " + Buffer.from("root:taosdata").toString("base64");

before(async () => {
  emu = await startEmulator();
  emu.sql("CREATE DATABASE IF NOT EXISTS cnt PRECISION 'ms'");
  emu.sql("CREATE STABLE IF NOT EXISTS cnt.meters (ts TIMESTAMP, v INT) TAGS (g INT)");
  client = await openClient({ url: emu.wsUrl, database: "cnt", timeoutMs: 10_000 });
});
after(async () => {
  await client.close();
  await emu.stop();
});

const counts = (table: string): { inserted: number; overwritten: number } | undefined => emu.stats().tables[table];

describe("emulator write counters", () => {
  it("counts SQL INSERT rows as inserted, and rows on an existing (table, ts) as overwritten", async () => {
    await client.exec("INSERT INTO cnt.a USING cnt.meters TAGS (1) VALUES (1700000000000, 1) (1700000000001, 2)");
    assert.deepEqual(counts("cnt.a"), { inserted: 2, overwritten: 0 });
    // one existing timestamp, one new, and a timestamp repeated inside the batch (written twice: one overwrite)
    await client.exec("INSERT INTO cnt.a VALUES (1700000000001, 3) (1700000000005, 4) (1700000000005, 5)");
    assert.deepEqual(counts("cnt.a"), { inserted: 3, overwritten: 2 });
    assert.equal(emu.sql("SELECT COUNT(*) FROM cnt.a").rows[0][0], 3n);
    // over REST too
    const r = await fetch(`${emu.httpUrl}/rest/sql`, { method: "POST", body: "INSERT INTO cnt.a VALUES (1700000000000, 9)", headers: { Authorization: BASIC } });
    assert.equal(((await r.json()) as { code: number }).code, 0);
    assert.deepEqual(counts("cnt.a"), { inserted: 3, overwritten: 3 });
  });

  it("counts stmt2 binds the same way", async () => {
    const stmt = await client.prepare("INSERT INTO ? USING cnt.meters TAGS (?) VALUES (?,?)");
    await stmt.bind([{ table: "b", tags: [2], columns: [[1700000000000, 1700000000001], [1, 2]] }]);
    await stmt.exec();
    assert.deepEqual(counts("cnt.b"), { inserted: 2, overwritten: 0 });
    await stmt.bind([{ table: "b", tags: [2], columns: [[1700000000001, 1700000000002], [1, 2]] }]);
    await stmt.exec();
    await stmt.close();
    assert.deepEqual(counts("cnt.b"), { inserted: 3, overwritten: 1 });
  });

  it("counts schemaless lines the same way", async () => {
    await client.schemalessInsert(["sml,host=a v=1i64 1700000000000", "sml,host=a v=2i64 1700000000001"], { precision: "ms" });
    await client.schemalessInsert(["sml,host=a v=3i64 1700000000001"], { precision: "ms" });
    const smlTables = Object.entries(emu.stats().tables).filter(([k]) => !["cnt.a", "cnt.b"].includes(k));
    assert.equal(smlTables.length, 1, JSON.stringify(smlTables));
    assert.deepEqual(smlTables[0][1], { inserted: 2, overwritten: 1 });
  });

  it("totals the counters, counts restarts, and serves them at GET /-/emulator/stats behind Basic auth", async () => {
    const s = emu.stats();
    const sum = Object.values(s.tables).reduce((a, c) => ({ inserted: a.inserted + c.inserted, overwritten: a.overwritten + c.overwritten }), { inserted: 0, overwritten: 0 });
    assert.deepEqual({ inserted: s.inserted, overwritten: s.overwritten }, sum);
    const noAuth = await fetch(`${emu.httpUrl}/-/emulator/stats`);
    assert.equal(noAuth.status, 401);
    const wrong = await fetch(`${emu.httpUrl}/-/emulator/stats`, { headers: { Authorization: "Basic " + Buffer.from("root:nope").toString("base64") } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${emu.httpUrl}/-/emulator/stats`, { headers: { Authorization: BASIC } });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { restarts: number; inserted: number; overwritten: number; tables: Record<string, unknown> };
    assert.deepEqual({ restarts: body.restarts, inserted: body.inserted, overwritten: body.overwritten, tables: body.tables }, { restarts: s.restarts, inserted: s.inserted, overwritten: s.overwritten, tables: s.tables });
    assert.equal(s.restarts, 0);
    await emu.restart();
    assert.equal(emu.stats().restarts, 1);
    assert.deepEqual(emu.stats().tables, s.tables, "counters outlive a restart, like the data");
  });
});
