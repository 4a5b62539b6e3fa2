// tdengine-config against the emulator: one shared socket for all its users, closed when the last one goes;
// reconnection after drops with one log line per state change; users' status follows the connection; the
// "Test connection" admin endpoint; and the password stays out of exports and replies.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");

let emu: Emulator;

const SECRET = "taosdata";
const CREDS = { cfg: { user: "root", password: SECRET } };

function writer(id: string, extra: Record<string, unknown> = {}): object {
  return {
    id,
    type: "tdengine-write",
    server: "cfg",
    stable: "meters",
    subtable: "d_${groupid}",
    columns: "ts TIMESTAMP, v INT",
    tags: "groupid INT",
    autoCreate: true,
    batchSize: 10,
    flushInterval: 5,
    wires: [],
    ...extra,
  };
}

function cfg(extra: Record<string, unknown> = {}): object {
  return { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "cdb", timeout: 2000, maxBackoff: 100, ...extra };
}

type Status = { fill?: string; shape?: string; text?: string };

/** Records every status the node sets. */
function statuses(id: string): Status[] {
  const n = helper.getNode(id) as unknown as { status: (s: Status) => void };
  const seen: Status[] = [];
  const orig = n.status.bind(n);
  n.status = (s: Status) => {
    seen.push(s);
    orig(s);
  };
  return seen;
}

describe("tdengine-config node", () => {
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await emu.stop();
  });
  afterEach(async () => {
    await helper.unload();
    emu.faults.reset();
    await waitFor("no socket left", () => emu.stats().connections === 0);
  });

  it("shares one socket among its users and closes it when the flow is removed", async () => {
    await helper.load([configNode, writeNode], [cfg(), writer("w1"), writer("w2", { stable: "meters2", subtable: "e_${groupid}" })], CREDS);
    await waitFor("connected", () => emu.stats().connections === 1);
    const w1 = helper.getNode("w1");
    const w2 = helper.getNode("w2");
    w1.receive({ payload: { ts: Date.now(), v: 1, groupid: 1 } });
    w2.receive({ payload: { ts: Date.now(), v: 2, groupid: 1 } });
    await waitFor("both written", () => {
      try {
        return emu.sql("SELECT COUNT(*) FROM cdb.meters").rows[0][0] && emu.sql("SELECT COUNT(*) FROM cdb.meters2").rows[0][0];
      } catch {
        return false;
      }
    });
    assert.equal(emu.stats().connections, 1, "one shared connection");
    await helper.clearFlows();
    await waitFor("socket closed once the last user left", () => emu.stats().connections === 0);
  });

  it("reconnects after drops; users show the state; one log line per state change, not per retry", async () => {
    await helper.load([configNode, writeNode], [cfg(), writer("w1")], CREDS);
    await waitFor("connected", () => emu.stats().connections === 1);
    const seen = statuses("w1");
    const warnings: string[] = [];
    const c = helper.getNode("cfg");
    const origWarn = c.warn.bind(c);
    c.warn = (m: unknown) => {
      warnings.push(String(m));
      origWarn(m);
    };
    emu.faults.refuseConnections(800);
    emu.faults.dropConnections();
    await waitFor("red status", () => seen.some((s) => s.fill === "red" && s.shape === "ring"));
    await waitFor("reconnected", () => emu.stats().connections === 1, { timeoutMs: 10000 });
    await waitFor("green again", () => seen.length > 0 && seen[seen.length - 1].fill === "green");
    assert.equal(warnings.length, 1, `one warning for the whole outage, got: ${warnings.join(" | ")}`);
    assert.ok(!warnings[0].includes(SECRET));
  });

  it("keeps the password a password-type credential, out of the flow config, status errors and log lines", async () => {
    const wrong = "wrong-secret-42";
    await helper.load([configNode, writeNode], [cfg(), writer("w1")], { cfg: { user: "root", password: wrong } });
    const red = (helper as unknown as { _redNodes: { getCredentialDefinition(t: string): unknown; getFlows(): unknown } })._redNodes;
    assert.deepEqual(red.getCredentialDefinition("tdengine-config"), { user: { type: "text" }, password: { type: "password" }, token: { type: "password" } });
    const c = helper.getNode("cfg") as unknown as { connectionStatus: { state: string; error?: Error }; getClient(ms: number): Promise<unknown> };
    await waitFor("authentication failed", () => c.connectionStatus.state === "disconnected");
    assert.match(c.connectionStatus.error?.message ?? "", /Authentication failure/);
    await assert.rejects(c.getClient(50), (e: Error) => !e.message.includes(wrong) && /Authentication failure/.test(e.message));
    assert.ok(!JSON.stringify(red.getFlows()).includes(wrong), "not in the deployed flow configuration");
    const logged = JSON.stringify(helper.log().args);
    assert.ok(!logged.includes(wrong), "not in any log line");
  });

  it("redacts the password from a server error that contains it: connection state, getClient errors, log, Test connection", async () => {
    // A server whose conn refusal echoes the password it was sent (as a careless proxy might).
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wss.on("connection", (ws) =>
      ws.on("message", (data: Buffer) => {
        const req = JSON.parse(data.toString()) as { action: string; args: { req_id: number; password?: string } };
        ws.send(JSON.stringify({ code: 0x0357, message: `Authentication failure for root:${req.args.password ?? ""}`, action: req.action, req_id: req.args.req_id }));
      }),
    );
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    try {
      await helper.load([configNode, writeNode], [cfg({ url }), writer("w1", { z: undefined })], CREDS);
      const seen = statuses("w1");
      const c = helper.getNode("cfg") as unknown as { connectionStatus: { state: string; error?: Error }; getClient(ms: number): Promise<unknown> };
      await waitFor("refused", () => c.connectionStatus.state === "disconnected");
      helper.getNode("w1").receive({ payload: [{ ts: 1700000000000, v: 1, groupid: 1 }] });
      await waitFor("the write node shows the outage", () => seen.some((st) => st.fill === "red"));
      const err = await c.getClient(50).then(
        () => assert.fail("must not connect"),
        (e: Error) => e,
      );
      const test = await helper.request().post("/tdengine-config/cfg/test").send({ url, user: "root", password: "__PWRD__" }).expect(200);
      const shown = {
        status: c.connectionStatus.error?.message,
        getClient: err.message,
        statuses: seen.map((st) => st.text),
        log: helper.log().args,
        test: test.body as unknown,
      };
      assert.match(shown.status ?? "", /Authentication failure for root:\*\*\*/, "the message is kept, the secret masked");
      assert.match(JSON.stringify(shown.test), /Authentication failure for root:\*\*\*/);
      assert.ok(!JSON.stringify(shown).includes(SECRET), `the password shows: ${JSON.stringify(shown).slice(0, 2000)}`);
    } finally {
      await helper.unload();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  describe("Test connection endpoint", () => {
    it("connects with the dialog's values, using the stored password for the placeholder", async () => {
      await helper.load([configNode], [cfg()], CREDS);
      const ok = await helper.request().post("/tdengine-config/cfg/test").send({ url: emu.wsUrl, user: "root", password: "__PWRD__" }).expect(200);
      assert.deepEqual(ok.body, { ok: true, serverVersion: "3.3.6.0" });
      const typed = await helper.request().post("/tdengine-config/new-node/test").send({ url: emu.wsUrl, user: "root", password: SECRET }).expect(200);
      assert.equal(typed.body.ok, true, "works for an unsaved node too");
    });

    it("a database that does not exist yet is reported as connected, with a plain note, not as an error", async () => {
      await helper.load([configNode], [cfg()], CREDS);
      const res = await helper.request().post("/tdengine-config/cfg/test").send({ url: emu.wsUrl, user: "root", password: "__PWRD__", database: "not_created_yet" }).expect(200);
      assert.deepEqual(res.body, { ok: true, serverVersion: "3.3.6.0", warning: "database not_created_yet does not exist yet (the write node creates it)" });
    });

    it("sends the stored password only to the saved server: another host (or scheme) needs it typed again", async () => {
      const other = await startEmulator(); // same default credentials: a leak would log in
      try {
        await helper.load([configNode], [cfg()], CREDS);
        const before = emu.stats().requests;
        for (const url of [other.wsUrl, emu.wsUrl.replace("127.0.0.1", "localhost"), emu.wsUrl.replace(/^ws:/, "wss:")]) {
          for (const body of [{ url, user: "root", password: "__PWRD__" }, { url, user: "root" }]) {
            const r = await helper.request().post("/tdengine-config/cfg/test").send(body).expect(200);
            assert.equal(r.body.ok, false, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
            assert.match(r.body.error, /the saved password is only sent to the saved server \(ws:\/\/127\.0\.0\.1:\d+\): type the password again/);
          }
        }
        assert.equal(other.stats().requests + other.stats().connections, 0, "the other server was never contacted");
        assert.equal(emu.stats().requests, before, "nor the saved one under another name");
        const typed = await helper.request().post("/tdengine-config/cfg/test").send({ url: other.wsUrl, user: "root", password: SECRET }).expect(200);
        assert.deepEqual(typed.body, { ok: true, serverVersion: "3.3.6.0" }, "a typed password may go anywhere");
        const same = await helper.request().post("/tdengine-config/cfg/test").send({ url: emu.wsUrl + "/ws", user: "root", password: "__PWRD__" }).expect(200);
        assert.equal(same.body.ok, true, "the saved server (another path) gets the stored password");
      } finally {
        await other.stop();
      }
    });

    it("accepts JSON bodies only: a cross-site form (urlencoded, text/plain) cannot trigger a connection", async () => {
      await helper.load([configNode], [cfg()], CREDS);
      const before = emu.stats().requests;
      const form = await helper.request().post("/tdengine-config/cfg/test").type("form").send({ url: emu.wsUrl, user: "root", password: "__PWRD__" });
      assert.equal(form.status, 415);
      assert.deepEqual(form.body, { ok: false, error: "Test connection accepts application/json requests only" });
      const text = await helper.request().post("/tdengine-config/cfg/test").set("Content-Type", "text/plain").send(`{"url":"${emu.wsUrl}"}`);
      assert.equal(text.status, 415);
      assert.equal(emu.stats().requests, before, "TDengine was never contacted");
    });

    it("reports a failure without echoing the password", async () => {
      await helper.load([configNode], [cfg()], CREDS);
      const bad = await helper.request().post("/tdengine-config/cfg/test").send({ url: emu.wsUrl, user: "root", password: "wrong-secret" }).expect(200);
      assert.equal(bad.body.ok, false);
      assert.match(bad.body.error, /Authentication failure/);
      assert.ok(!JSON.stringify(bad.body).includes("wrong-secret"));
      const scheme = await helper.request().post("/tdengine-config/cfg/test").send({ url: "http://127.0.0.1:1" }).expect(200);
      assert.match(scheme.body.error, /must start with ws:\/\/ or wss:\/\//);
    });
  });
});
