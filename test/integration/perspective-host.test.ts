// The Perspective host inside a real Node-RED (red.js, as users run it): httpNodeAuth protects the page and
// the WebSocket upgrade, the editor's own comms WebSocket keeps working, a deploy through the admin API keeps
// open views, the asset routes serve nothing but their files, and a host can have a port of its own.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import { freePort } from "../support/free-port";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";

const USER = "viewer";
const PASSWORD = "s3cret-pw";
// bcrypt hash of PASSWORD (cost 8), as `node-red admin hash-pw` writes it into settings.js.
const HASH = "$2b$08$TLDHTh9.UUJHYnP1sJ874uqwftcgu9Rsp1UuN5yfjG9rmZoFoOEsa";
const BASIC = "Basic " + Buffer.from(`${USER}:${PASSWORD}`).toString("base64");

function flows(ownPort: number, schema = '{"n":"integer","at":"datetime"}') {
  return [
    { id: "tab", type: "tab", label: "host" },
    { id: "own", type: "perspective-config", path: "/live", port: String(ownPort), bind: "127.0.0.1" },
    { id: "out", type: "perspective-out", z: "tab", table: "numbers", schema, limit: 0, interval: 20, wires: [] },
    { id: "out2", type: "perspective-out", z: "tab", server: "own", table: "elsewhere", schema: '{"n":"integer"}', wires: [] },
    { id: "feed", type: "inject", z: "tab", repeat: "0.2", once: true, onceDelay: 0.1, payload: '{"n":1}', payloadType: "json", wires: [["stamp"]] },
    { id: "stamp", type: "change", z: "tab", rules: [{ t: "set", p: "payload.at", pt: "msg", to: "", tot: "date" }], wires: [["out", "out2"]] },
  ];
}

/** Outcome of a WebSocket upgrade: "open" or the HTTP status it was refused with. */
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

describe(`the Perspective host in a running Node-RED ${runtimeVersion}`, () => {
  let nr: NodeRedProcess;
  let ownPort: number;
  let ws: string;
  const clients: Client[] = [];
  async function connect(url: string): Promise<Client> {
    const c = await (await loadPerspective()).default.websocket(url);
    void c.on_error(() => undefined);
    clients.push(c);
    return c;
  }

  before(async () => {
    ownPort = await freePort();
    nr = await startNodeRed({ flows: flows(ownPort), settings: { httpNodeAuth: { user: USER, pass: HASH } } });
    ws = nr.url.replace(/^http/, "ws");
    await loadPerspective();
    // "Starting flows" comes before the host has attached its upgrade handler (it loads Perspective first);
    // until then Node-RED leaves an upgrade on that path unanswered. Wait for the host, as a browser retries.
    await waitFor("the host's WebSocket", async () => (await upgrade(`${ws}/perspective/ws`, { Authorization: BASIC }, 1000)) === "open");
  });
  after(async () => {
    for (const c of clients) await c.terminate().catch(() => undefined);
    await nr?.stop();
  });

  it("httpNodeAuth protects the WebSocket upgrade and the page like any HTTP node", async () => {
    assert.equal(await upgrade(`${ws}/perspective/ws`), "status 401");
    assert.equal(await upgrade(`${ws}/perspective/ws`, { Authorization: "Basic " + Buffer.from(`${USER}:wrong`).toString("base64") }), "status 401");
    assert.equal(await upgrade(`${ws}/perspective/ws`, { Authorization: BASIC }), "open");
    assert.equal((await fetch(`${nr.url}/perspective/`)).status, 401);
    assert.equal((await fetch(`${nr.url}/perspective/assets/@finos/perspective/dist/cdn/perspective.js`)).status, 401);
    const page = await fetch(`${nr.url}/perspective/`, { headers: { Authorization: BASIC } });
    assert.equal(page.status, 200);
    // A Perspective client with credentials in the URL reads the table.
    const client = await connect(`ws://${USER}:${PASSWORD}@127.0.0.1:${nr.port}/perspective/ws`);
    const t = await client.open_table("numbers");
    await waitFor("rows from the flow", async () => (await t.size()) > 0);
  });

  it("the editor's comms WebSocket still works next to it", async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const c = new WebSocket(`${ws}/comms`);
      c.on("open", () => c.send(JSON.stringify({ subscribe: "status/#" })));
      c.on("message", (d) => {
        resolve(String(d));
        c.close();
      });
      c.on("error", reject);
    });
    assert.match(got, /status\//, "Node-RED pushes node status over its own socket");
  });

  it("serves only its files: traversal attempts and unknown files are not found", async () => {
    const h = { Authorization: BASIC };
    const ok = await fetch(`${nr.url}/perspective/assets/@finos/perspective-viewer/dist/wasm/perspective-viewer.wasm`, { headers: h });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/wasm");
    await ok.arrayBuffer();
    const attempts = [
      "/perspective/assets/@finos/perspective/package.json",
      "/perspective/assets/@finos/perspective/dist/cdn/perspective.js.map",
      "/perspective/assets/@finos/perspective/dist/esm/perspective.node.js",
      "/perspective/assets/%2e%2e/%2e%2e/package.json",
      "/perspective/assets/@finos/perspective/dist/cdn/..%2f..%2f..%2f..%2fpackage.json",
      "/perspective/..%2f..%2fpackage.json",
      "/perspective/%2e%2e%2fsettings.js",
    ];
    for (const a of attempts) {
      const res = await fetch(`${nr.url}${a}`, { headers: h });
      assert.equal(res.status, 404, a);
      await res.arrayBuffer();
    }
    // A malformed escape: Express refuses it on Node-RED's port (400), the own port answers 404; never a crash.
    assert.equal((await fetch(`${nr.url}/perspective/%E0%A4%A`, { headers: h })).status, 400);
    assert.equal((await fetch(`http://127.0.0.1:${ownPort}/live/%E0%A4%A`, { headers: h })).status, 404);
    assert.equal((await fetch(`${nr.url}/perspective/`, { headers: h })).status, 200, "still serving");
  });

  it("a host with a port of its own serves its page and tables there, with the same authentication", async () => {
    assert.equal(await upgrade(`ws://127.0.0.1:${ownPort}/live/ws`), "status 401");
    assert.equal((await fetch(`http://127.0.0.1:${ownPort}/live/`)).status, 401);
    const page = await fetch(`http://127.0.0.1:${ownPort}/live/`, { headers: { Authorization: BASIC } });
    assert.equal(page.status, 200);
    const cfg = await (await fetch(`http://127.0.0.1:${ownPort}/live/config.json`, { headers: { Authorization: BASIC } })).json();
    assert.deepEqual(cfg.tables.map((t: { name: string }) => t.name), ["elsewhere"]);
    const client = await connect(`ws://${USER}:${PASSWORD}@127.0.0.1:${ownPort}/live/ws`);
    const t = await client.open_table("elsewhere");
    await waitFor("rows on the own port", async () => (await t.size()) > 0);
  });

  it("a full deploy through the admin API keeps the table and the views open on it", async () => {
    const client = await connect(`ws://${USER}:${PASSWORD}@127.0.0.1:${nr.port}/perspective/ws`);
    const t = await client.open_table("numbers");
    const v = await t.view();
    let updates = 0;
    await v.on_update(() => updates++);
    await waitFor("updates before the deploy", () => updates > 1);
    const sizeBefore = await t.size();
    await nr.deploy(flows(ownPort), "full");
    const seen = updates;
    await waitFor("updates after the deploy on the same view", () => updates > seen + 2);
    assert.ok((await t.size()) > sizeBefore, "same table, still growing");
  });
});
