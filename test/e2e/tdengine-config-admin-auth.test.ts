// The editor's "Test connection" button (POST /tdengine-config/:id/test) in a real Node-RED with adminAuth on:
// only a user allowed to write may make Node-RED open a connection to TDengine. Anyone else is refused before a
// single byte reaches the database; an admin gets the server version, or a clear error that never echoes the
// password it was given.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeDir, runtimeVersion } from "../support/runtime";

const ADMIN_PASSWORD = "admin-pass-5531";
const VIEWER_PASSWORD = "viewer-pass-7702";
const DB_USER = "root";
const DB_PASSWORD = "Db-Secret-pw-9146";
const WRONG_DB_PASSWORD = "Wrong-Db-pw-3318";
// Not the emulator's default, so a reply carrying it can only have come from this emulator.
const SERVER_VERSION = "3.3.6.13";
// A config node the editor has open but not deployed yet: the dialog's values are all the endpoint gets.
const CONFIG_ID = "5e1f0c0ffee0a1b2";

function bcryptHash(pw: string): string {
  // Node-RED ships bcryptjs; take it from Node-RED's own dependency tree.
  const path = require.resolve("bcryptjs", { paths: [runtimeDir] });
  return (require(path) as { hashSync(p: string, rounds: number): string }).hashSync(pw, 8);
}

interface TestReply {
  ok: boolean;
  serverVersion?: string;
  warning?: string;
  error?: string;
}

describe(`tdengine-config "Test connection" endpoint behind adminAuth (Node-RED ${runtimeVersion})`, () => {
  let emu: Emulator;
  let nr: NodeRedProcess;
  let adminToken: string;
  let viewerToken: string;

  /**
   * Logs in (OAuth2 password grant) and returns the access token. Scope "*" is refused (403) to a user who lacks
   * some permission; "" asks for whatever the user has, as the editor's login dialog does.
   */
  async function login(username: string, password: string, scope: string): Promise<string> {
    const res = await fetch(nr.url + "/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: "node-red-admin", grant_type: "password", scope, username, password }),
    });
    assert.equal(res.status, 200, `login as ${username}`);
    const body = (await res.json()) as { access_token?: unknown };
    assert.equal(typeof body.access_token, "string", `access token for ${username}`);
    return body.access_token as string;
  }

  /** What the editor's button sends: the dialog's current values. */
  function testButton(password: string, token?: string): Promise<Response> {
    return nr.admin(
      "POST",
      `/tdengine-config/${CONFIG_ID}/test`,
      { url: emu.wsUrl, database: "", timeout: "5000", user: DB_USER, password, token: "" },
      token === undefined ? {} : { Authorization: `Bearer ${token}` },
    );
  }

  before(async () => {
    emu = await startEmulator({ password: DB_PASSWORD, serverVersion: SERVER_VERSION });
    nr = await startNodeRed({
      settings: {
        adminAuth: {
          type: "credentials",
          users: [
            { username: "admin", password: bcryptHash(ADMIN_PASSWORD), permissions: "*" },
            { username: "viewer", password: bcryptHash(VIEWER_PASSWORD), permissions: "read" },
          ],
        },
      },
    });
    adminToken = await login("admin", ADMIN_PASSWORD, "*");
    viewerToken = await login("viewer", VIEWER_PASSWORD, "");
  });
  after(async () => {
    await nr?.stop();
    await emu?.stop();
  });

  it("without a token (or with a forged one) the request is refused with 401 and TDengine is never contacted", async () => {
    const before = emu.stats();
    const anonymous = await testButton(DB_PASSWORD);
    assert.equal(anonymous.status, 401);
    const forged = await testButton(DB_PASSWORD, "not-a-real-token");
    assert.equal(forged.status, 401);
    assert.deepEqual(emu.stats(), before, "no connection and no request reached the emulator");
  });

  it("a read-only user is refused (401/403) and TDengine is never contacted", async () => {
    // The viewer's token is valid: it may read the flows, so the refusal below is about the write permission.
    const flows = await nr.admin("GET", "/flows", undefined, { Authorization: `Bearer ${viewerToken}` });
    assert.equal(flows.status, 200, "the viewer can read");
    const before = emu.stats();
    const res = await testButton(DB_PASSWORD, viewerToken);
    assert.ok(res.status === 401 || res.status === 403, `viewer refused, got ${res.status}`);
    assert.doesNotMatch(await res.text(), /serverVersion|"ok"/, "no test result in the refusal");
    assert.deepEqual(emu.stats(), before, "no connection and no request reached the emulator");
  });

  it("an admin gets the server version of the TDengine the dialog points at", async () => {
    const before = emu.stats();
    const res = await testButton(DB_PASSWORD, adminToken);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()) as TestReply, { ok: true, serverVersion: SERVER_VERSION });
    assert.ok(emu.stats().requests > before.requests, "the test connection reached the emulator");
  });

  it("an admin with a wrong TDengine password gets a clear failure that does not contain the password", async () => {
    const res = await testButton(WRONG_DB_PASSWORD, adminToken);
    assert.equal(res.status, 200);
    const text = await res.text();
    const reply = JSON.parse(text) as TestReply;
    assert.equal(reply.ok, false);
    assert.equal(reply.serverVersion, undefined);
    assert.match(reply.error ?? "", /auth/i, "the error says authentication failed");
    assert.ok(!text.includes(WRONG_DB_PASSWORD), `password absent from the reply: ${text}`);
    assert.ok(!text.includes(DB_PASSWORD), "the real password is absent too");
    assert.ok(!nr.output().includes(WRONG_DB_PASSWORD), "password absent from Node-RED's log");
  });

  it("a form post (what a cross-site page can send without a CORS preflight) is refused with 415, even with a token", async () => {
    const before = emu.stats();
    for (const [type, body] of [
      ["application/x-www-form-urlencoded", new URLSearchParams({ url: emu.wsUrl, user: DB_USER, password: DB_PASSWORD }).toString()],
      ["text/plain", JSON.stringify({ url: emu.wsUrl, user: DB_USER, password: DB_PASSWORD })],
    ]) {
      const res = await fetch(`${nr.url}/tdengine-config/${CONFIG_ID}/test`, { method: "POST", headers: { "Content-Type": type, Authorization: `Bearer ${adminToken}` }, body });
      assert.equal(res.status, 415, type);
    }
    assert.equal(emu.stats().requests, before.requests, "no request reached the emulator");
    assert.equal(emu.stats().actions.conn, before.actions.conn, "no connection was opened");
  });
});
