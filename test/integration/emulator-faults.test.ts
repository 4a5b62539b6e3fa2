// Fault injection and restart of the emulator, observed through raw sockets and fetch.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { waitFor } from "../support/wait.js";
import { RawWs } from "./emulator-raw-client.js";

let emu: Emulator;
const BASIC = "Basic " + Buffer.from("root:taosdata").toString("base64");

before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu.stop();
});

async function connected(): Promise<RawWs> {
  const c = await RawWs.open(`${emu.wsUrl}/ws`);
  assert.equal((await c.json("conn", { req_id: 1, user: "root", password: "taosdata" })).code, 0);
  return c;
}

describe("emulator faults", () => {
  it("fails the next N requests with the given code, over WS and REST", async () => {
    const c = await connected();
    emu.faults.failNext(2, 0x000b, "Unable to establish connection");
    const a = await c.json("query", { req_id: 2, sql: "show databases" });
    assert.deepEqual([a.code, a.message, a.req_id], [11, "Unable to establish connection", 2]);
    const r = await fetch(`${emu.httpUrl}/rest/sql`, { method: "POST", body: "show databases", headers: { Authorization: BASIC } });
    assert.deepEqual(await r.json().then((j: { code: number }) => j.code), 11);
    const ok = await c.json("query", { req_id: 3, sql: "show databases" });
    assert.equal(ok.code, 0);
    c.close();
  });

  it("drops all connections and counts them in stats()", async () => {
    const c1 = await connected();
    const c2 = await connected();
    await waitFor("2 connections", () => emu.stats().connections >= 2);
    emu.faults.dropConnections();
    await waitFor("sockets closed", () => c1.closed && c2.closed);
    await waitFor("no connections", () => emu.stats().connections === 0);
    assert.ok(emu.stats().requests > 0);
  });

  it("refuses new connections for a while, then accepts them again", async () => {
    emu.faults.refuseConnections(300);
    await assert.rejects(RawWs.open(`${emu.wsUrl}/ws`));
    const c = await waitFor("a connection accepted again", async () => {
      try {
        return await RawWs.open(`${emu.wsUrl}/ws`);
      } catch {
        return null;
      }
    });
    c.close();
  });

  it("delays replies when asked", async () => {
    const c = await connected();
    emu.faults.delayReplies(150);
    const t0 = Date.now();
    const v = await c.json("version", { req_id: 9 });
    assert.equal(v.code, 0);
    assert.ok(Date.now() - t0 >= 140, "reply was delayed");
    emu.faults.reset();
    c.close();
  });

  it("restarts on the same port, keeping data and dropping connections", async () => {
    emu.sql("create database keep");
    emu.sql("create table keep.t (ts timestamp, v int)");
    emu.sql(`insert into keep.t values (${Date.now()}, 42)`);
    const c = await connected();
    const port = emu.port;
    await emu.restart();
    await waitFor("old socket closed", () => c.closed);
    assert.equal(emu.port, port);
    const c2 = await connected();
    const q = await c2.json("query", { req_id: 5, sql: "select v from keep.t" });
    assert.equal(q.code, 0);
    assert.deepEqual(emu.sql("select v from keep.t").rows, [[42]]);
    c2.close();
  });
});
