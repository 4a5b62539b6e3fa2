// The emulator's REST side spoken raw with fetch: auth rules, error shapes, result shapes and value encodings.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";

let emu: Emulator;
const BASIC = "Basic " + Buffer.from("root:taosdata").toString("base64");

async function rest(body: string, opts: { path?: string; auth?: string | null } = {}): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? BASIC : opts.auth;
  if (auth !== null) headers.Authorization = auth;
  const res = await fetch(`${emu.httpUrl}${opts.path ?? "/rest/sql"}`, { method: "POST", body, headers });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (404 page)
  }
  return { status: res.status, json, text };
}

function withoutTiming(j: Record<string, unknown>): Record<string, unknown> {
  const { timing, ...rest } = j;
  assert.equal(typeof timing, "number");
  return rest;
}

before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu.stop();
});

describe("emulator REST", () => {
  it("answers /-/ping and 404 for unknown paths", async () => {
    assert.equal((await fetch(`${emu.httpUrl}/-/ping`)).status, 200);
    const r = await rest("show databases", { path: "/rest/nope" });
    assert.equal(r.status, 404);
  });

  it("enforces the Authorization rules with 401 codes, and 200 + 855 for a wrong password", async () => {
    let r = await rest("show databases", { auth: null });
    assert.deepEqual([r.status, withoutTiming(r.json)], [401, { code: 4357, desc: "no auth info input" }]);
    r = await rest("show databases", { auth: "Digest abc" });
    assert.deepEqual([r.status, r.json.code], [401, 4386]);
    r = await rest("show databases", { auth: "Basic " });
    assert.deepEqual([r.status, r.json.code], [401, 4388]);
    r = await rest("show databases", { auth: "Basic " + Buffer.from("root:nope").toString("base64") });
    assert.deepEqual([r.status, withoutTiming(r.json)], [200, { code: 855, desc: "Authentication failure" }]);
  });

  it("lets users created with CREATE USER connect, with their own password, until they are dropped", async () => {
    const as = (user: string, pass: string) => ({ auth: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64") });
    const pass = "Ab1!@#$%^&*()-_+=[]{}:;><?|~,.";
    let r = await rest(`create user user1 pass '${pass}'`);
    assert.equal(r.json.code, 0);
    r = await rest("create user user1 pass 'other'");
    assert.deepEqual([r.json.code, r.json.desc], [0x0350, "User already exists"]);
    assert.equal((await rest("create user if not exists user1 pass 'other'")).json.code, 0);
    assert.equal((await rest("show databases", as("user1", pass))).json.code, 0);
    assert.equal((await rest("show databases", as("user1", "other"))).json.code, 855);
    assert.equal((await rest("alter user user1 pass 'Changed1!' sysinfo 0")).json.code, 0);
    assert.equal((await rest("show databases", as("user1", pass))).json.code, 855);
    assert.equal((await rest("show databases", as("user1", "Changed1!"))).json.code, 0);
    assert.equal((await rest("drop user user1")).json.code, 0);
    assert.equal((await rest("show databases", as("user1", "Changed1!"))).json.code, 855);
    assert.deepEqual((await rest("drop user user1")).json.code, 0x0351);
    assert.equal((await rest("drop user if exists user1")).json.code, 0);
    assert.equal((await rest("drop user root")).json.code, 0x0357, "the configured user stays");
    assert.equal((await rest("show databases")).json.code, 0);
  });

  it("rejects empty bodies, blank SQL and a non-numeric req_id with 400", async () => {
    let r = await rest("");
    assert.deepEqual([r.status, r.json.code], [400, 4358]);
    r = await rest("   ");
    assert.deepEqual([r.status, r.json.code], [400, 4359]);
    r = await rest("show databases", { path: "/rest/sql?req_id=abc" });
    assert.deepEqual([r.status, r.json.code], [400, 65535]);
  });

  it("returns the affected_rows envelope for DDL and INSERT, with the db from the URL", async () => {
    let r = await rest("create database if not exists rdb precision 'us'");
    assert.equal(r.text, '{"code":0,"column_meta":[["affected_rows","INT",4]],"data":[[0]],"rows":1}');
    r = await rest("create table t (ts timestamp, b bool, i bigint, f float, d double, s varchar(8), n nchar(4), vb varbinary(4), u int unsigned)", { path: "/rest/sql/rdb" });
    assert.equal(r.json.code, 0);
    r = await rest("insert into rdb.t values ('2024-05-01T03:04:05.123456Z', true, 9007199254740993, 1.1, 0.25, 'hé', 'ün', '\\x7f8290', 4294967295) ('2024-05-01T03:04:06Z', null, null, null, null, null, null, null, null)");
    assert.equal(r.text, '{"code":0,"column_meta":[["affected_rows","INT",4]],"data":[[2]],"rows":1}');
  });

  it("returns query results with adapter type names, RFC3339 timestamps, hex binaries and exact numbers", async () => {
    const r = await rest("select * from t", { path: "/rest/sql/rdb" });
    assert.equal(
      r.text,
      '{"code":0,"column_meta":[["ts","TIMESTAMP",8],["b","BOOL",1],["i","BIGINT",8],["f","FLOAT",4],["d","DOUBLE",8],["s","VARCHAR",8],["n","NCHAR",4],["vb","VARBINARY",4],["u","INT UNSIGNED",4]],' +
        '"data":[["2024-05-01T03:04:05.123456Z",true,9007199254740993,1.1,0.25,"hé","ün","7f8290",4294967295],["2024-05-01T03:04:06.000000Z",null,null,null,null,null,null,null,null]],"rows":2}',
    );
  });

  it("returns SQL errors as 200 with code and desc", async () => {
    let r = await rest("select * from rdb.nosuch");
    assert.equal(r.status, 200);
    assert.equal(r.json.code, 9731);
    assert.match(String(r.json.desc), /Table does not exist/);
    r = await rest("selec 1");
    assert.deepEqual([r.status, r.json.code], [200, 9728]);
    r = await rest("select * from nodb.t");
    assert.equal(r.json.code, 904);
  });

  it("does not upgrade WebSockets outside /ws", async () => {
    const port = emu.port;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.write("GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      });
      let buf = "";
      s.on("data", (d) => (buf += d.toString()));
      s.on("close", () => resolve(buf));
      s.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1.1 404/);
  });
});
