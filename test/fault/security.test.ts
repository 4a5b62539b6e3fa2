// Security in a real Node-RED (red.js): httpNodeAuth keeps unauthenticated requests off the viewer page and its
// WebSocket, asset routes refuse traversal in raw HTTP requests, the TDengine password never shows in
// flows.json, exported flows, logs, status texts or error messages; and TLS (wss://) to TDengine works with a
// custom CA and fails closed on a bad certificate.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { startEmulator, type Emulator } from "../../emulator";
import { loadPerspective } from "../../lib/perspective/load";
import { openClient, TdengineError } from "../../lib/tdengine/index";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeDir } from "../support/runtime";
import { waitFor } from "../support/wait";

const USER = "viewer";
const VIEW_PASSWORD = "view-pass-8271";
const DB_PASSWORD = "Sup3r-Secret-TDengine-pw-4417";
const BASIC = "Basic " + Buffer.from(`${USER}:${VIEW_PASSWORD}`).toString("base64");

function bcryptHash(pw: string): string {
  // Node-RED ships bcryptjs; take it from Node-RED's own dependency tree.
  const path = require.resolve("bcryptjs", { paths: [runtimeDir] });
  return (require(path) as { hashSync(p: string, rounds: number): string }).hashSync(pw, 8);
}

/** Sends a request line exactly as written (no client-side normalisation of ../) and returns the status code. */
function rawStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      const h = Object.entries({ Host: `127.0.0.1:${port}`, Connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      s.write(`GET ${path} HTTP/1.1\r\n${h}\r\n`);
    });
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    s.on("error", reject);
  });
}

function upgrade(url: string, headers: Record<string, string> = {}, handshakeTimeout = 5000): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout });
    ws.on("open", () => {
      resolve("open");
      ws.close();
    });
    ws.on("unexpected-response", (_req, res) => resolve(`status ${res.statusCode}`));
    ws.on("error", (e) => resolve(`error ${e.message}`));
  });
}

describe("security", () => {
  let emu: Emulator;
  let nr: NodeRedProcess;
  const comms: string[] = [];
  let commsSocket: WebSocket | undefined;

  // A server whose conn refusal echoes the password it was sent: every place the error travels must mask it.
  let echo: WebSocketServer;
  before(async () => {
    echo = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
    await new Promise<void>((r) => echo.once("listening", () => r()));
    echo.on("connection", (ws) =>
      ws.on("message", (data: Buffer) => {
        const req = JSON.parse(data.toString()) as { action: string; args: { req_id: number; password?: string } };
        ws.send(JSON.stringify({ code: 0x0357, message: `Authentication failure for root:${req.args.password ?? ""}`, action: req.action, req_id: req.args.req_id }));
      }),
    );
  });
  after(() => new Promise<void>((r) => echo.close(() => r())));

  before(async () => {
    emu = await startEmulator();
    nr = await startNodeRed({ settings: { httpNodeAuth: { user: USER, pass: bcryptHash(VIEW_PASSWORD) } } });
    // Everything the editor would be shown: status texts, debug messages, notifications.
    commsSocket = new WebSocket(nr.url.replace(/^http/, "ws") + "/comms");
    commsSocket.on("message", (d) => comms.push(String(d)));
    await new Promise<void>((r) => commsSocket!.once("open", () => r()));
    commsSocket.send(JSON.stringify({ subscribe: "#" }));
  });
  after(async () => {
    commsSocket?.close();
    await nr?.stop();
    await emu?.stop();
  });

  it("a deploy whose login fails with an error echoing the password, and failing writes, never reveals the password", async () => {
    const echoUrl = `ws://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const flows = [
      { id: "tab", type: "tab", label: "sec" },
      { id: "cfg", type: "tdengine-config", url: echoUrl, database: "sec", timeout: 1000, maxBackoff: 200, credentials: { user: "root", password: DB_PASSWORD } },
      {
        id: "w", type: "tdengine-write", z: "tab", server: "cfg", stable: "meters", subtableMode: "template", subtable: "d_${g}",
        columns: "ts TIMESTAMP, v INT", tags: "g INT", autoCreate: true, batchSize: 10, flushInterval: 10, closeTimeout: 200, wires: [],
      },
      { id: "inj", type: "inject", z: "tab", repeat: "0.2", once: true, onceDelay: 0.1, payload: '{"ts":1700000000000,"v":1,"g":1}', payloadType: "json", wires: [["w"]] },
      { id: "c", type: "catch", z: "tab", scope: ["w"], wires: [["dbg"]] },
      { id: "dbg", type: "debug", z: "tab", active: true, tosidebar: true, console: true, tostatus: true, complete: "true", wires: [] },
      { id: "out", type: "perspective-out", z: "tab", table: "numbers", schema: '{"n":"integer"}', wires: [] },
    ];
    await nr.deploy(flows);
    // The emulator refuses the login; the node reports it in its status and the catch/debug path logs errors.
    await waitFor("a refused login shown in a status", () => comms.some((m) => /status\/cfg|status\/w/.test(m) && /ring/.test(m)), { timeoutMs: 20000 });
    await waitFor("a failed write reported through catch -> debug", () => /debug/.test(comms.join("\n")) && /tdengine|TDengine|write|login|auth/i.test(nr.output()), { timeoutMs: 20000 });
    const seen = comms.join("\n") + nr.output();
    assert.match(seen, /Authentication failure for root:\*\*\*/, "the refused login, secret masked, was reported somewhere (the grep below is meaningful)");
    const flowsFile = readFileSync(join(nr.userDir, "flows.json"), "utf8");
    const exported = await (await nr.admin("GET", "/flows")).text();
    const exportedV2 = await (await nr.admin("GET", "/flows", undefined, { "Node-RED-API-Version": "v2" })).text();
    const others = readdirSync(nr.userDir).filter((f) => /\.json$/.test(f) && !f.includes("_cred")).map((f) => readFileSync(join(nr.userDir, f), "utf8"));
    const places: Record<string, string> = { "flows.json": flowsFile, "GET /flows": exported, "GET /flows v2": exportedV2, "Node-RED output": nr.output(), "editor comms (status, debug, errors)": comms.join("\n"), "other JSON files in userDir": others.join("\n") };
    for (const [where, text] of Object.entries(places)) {
      assert.ok(text.length > 0, `${where} was captured`);
      assert.ok(!text.includes(DB_PASSWORD), `the password appears in ${where}`);
    }
    // The credentials file holds it, encrypted with credentialSecret: not in clear either.
    const cred = readFileSync(join(nr.userDir, "flows_cred.json"), "utf8");
    assert.ok(!cred.includes(DB_PASSWORD), "flows_cred.json is encrypted");
    assert.ok(!(await (await nr.admin("GET", "/credentials/tdengine-config/cfg")).text()).includes(DB_PASSWORD), "the credentials API hides it");
  });

  it("the viewer page and WebSocket refuse unauthenticated and wrongly authenticated requests", async () => {
    const ws = nr.url.replace(/^http/, "ws");
    await waitFor("the viewer page is served", async () => (await fetch(`${nr.url}/perspective/`, { headers: { Authorization: BASIC } })).status === 200);
    // The page's routes exist before the host has loaded Perspective and attached its upgrade handler.
    await waitFor("the viewer WebSocket is served", async () => (await upgrade(`${ws}/perspective/ws`, { Authorization: BASIC }, 1000)) === "open");
    assert.equal((await fetch(`${nr.url}/perspective/`)).status, 401);
    assert.equal((await fetch(`${nr.url}/perspective/config.json`)).status, 401);
    assert.equal(await upgrade(`${ws}/perspective/ws`), "status 401");
    assert.equal(await upgrade(`${ws}/perspective/ws`, { Authorization: "Basic " + Buffer.from(`${USER}:nope`).toString("base64") }), "status 401");
    assert.equal(await upgrade(`${ws}/perspective/ws`, { Authorization: "Bearer x" }), "status 401");
    assert.equal(await upgrade(`${ws}/perspective/ws`, { Authorization: BASIC }), "open");
  });

  it("an authenticated browser client still cannot change a table", async () => {
    const client = await (await loadPerspective()).default.websocket(`ws://${USER}:${VIEW_PASSWORD}@127.0.0.1:${nr.port}/perspective/ws`);
    void client.on_error(() => undefined);
    try {
      await waitFor("the table is served", async () => (await client.get_hosted_table_names()).includes("numbers"));
      const t = await client.open_table("numbers");
      const before = await t.size();
      await assert.rejects(() => t.update([{ n: 666 }]), /read-only/);
      await assert.rejects(() => t.clear(), /read-only/);
      assert.equal(await t.size(), before, "the table is unchanged");
      // Last: after a refused delete the client's own handle is not usable any more.
      await assert.rejects(() => t.delete(), /read-only/);
      // Creating tables is refused too: test/nodes/perspective-out.test.ts.
    } finally {
      await client.terminate().catch(() => undefined);
    }
  });

  it("asset routes refuse traversal in raw requests (../, %2e%2e, encoded slashes, absolute paths)", async () => {
    const h = { Authorization: BASIC };
    const attempts = [
      "/perspective/../settings.js",
      "/perspective/assets/../../settings.js",
      "/perspective/assets/../../../package.json",
      "/perspective/assets/%2e%2e/%2e%2e/package.json",
      "/perspective/assets/%2E%2E%2F%2E%2E%2Fpackage.json",
      "/perspective/assets/..%2f..%2f..%2fpackage.json",
      "/perspective/assets/..%5c..%5cpackage.json",
      "/perspective/assets/%252e%252e/%252e%252e/package.json",
      "/perspective/assets//etc/passwd",
      "/perspective/assets/%2fetc%2fpasswd",
      "/perspective//etc/passwd",
      "/perspective/assets/@finos/perspective/../../../../package.json",
      "/perspective/assets/@finos/perspective/package.json",
      "/perspective/flows.json",
      "/perspective/assets/%00.js",
    ];
    for (const a of attempts) {
      const status = await rawStatus(nr.port, a, h);
      assert.ok(status === 404 || status === 400 || status === 301, `${a}: ${status}`);
      if (status === 301) continue; // a redirect to the normalised path, which is then checked below
    }
    // Whatever the normalisation, no request returns the settings file or the package manifest.
    for (const a of attempts) {
      const res = await fetch(`${nr.url}${a}`, { headers: h, redirect: "follow" });
      const body = await res.text();
      assert.ok(!/module\.exports|"dependencies"|root:x:0/.test(body), `${a} leaked a file (${res.status})`);
    }
    assert.equal(await rawStatus(nr.port, "/perspective/", h), 200, "still serving");
  });

  it("TLS: wss:// with a custom CA works; an untrusted or mismatched certificate fails closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-fault-"));
    try {
      const ssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
      writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      writeFileSync(join(dir, "wrong.cnf"), "subjectAltName=DNS:elsewhere.invalid\n");
      ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA");
      for (const [name, ext] of [["server", "san.cnf"], ["wrong", "wrong.cnf"]]) {
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/CN=127.0.0.1");
        ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", ext);
      }
      ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "self.key", "-out", "self.crt", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
      const read = (f: string): string => readFileSync(join(dir, f), "utf8");
      const ca = read("ca.crt");

      const good = await startEmulator({ tls: { key: read("server.key"), cert: read("server.crt") } });
      const wrongName = await startEmulator({ tls: { key: read("wrong.key"), cert: read("wrong.crt") } });
      const selfSigned = await startEmulator({ tls: { key: read("self.key"), cert: read("self.crt") } });
      try {
        assert.match(good.wsUrl, /^wss:\/\//);
        const client = await openClient({ url: good.wsUrl, tls: { ca } });
        const r = await client.query("SELECT SERVER_VERSION()");
        assert.equal(r.rows.length, 1);
        await client.close();
        const refusals: Array<[string, Promise<unknown>]> = [
          ["no CA given (system roots only)", openClient({ url: good.wsUrl, timeoutMs: 3000 })],
          ["certificate for another host name", openClient({ url: wrongName.wsUrl, tls: { ca }, timeoutMs: 3000 })],
          ["self-signed certificate not from the CA", openClient({ url: selfSigned.wsUrl, tls: { ca }, timeoutMs: 3000 })],
        ];
        for (const [what, p] of refusals) {
          await assert.rejects(p, (e: unknown) => e instanceof TdengineError && e.kind === "tls" && e.retryable === false, what);
        }
        assert.equal(good.stats().requests >= 1, true);
      } finally {
        await good.stop();
        await wrongName.stop();
        await selfSigned.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
