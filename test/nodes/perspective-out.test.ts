// perspective-out in a Node-RED runtime (node-red-node-test-helper), checked from the outside with a real
// Perspective client over the WebSocket on Node-RED's own HTTP server, as a browser would see it.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import WebSocket from "ws";
import { getHost } from "../../lib/perspective/host";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { replicaRows, viewRows } from "../support/replica";
import { waitFor } from "../support/wait";

const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

// TDengine type codes as tdengine-poll puts them in msg.columns.
const COLUMNS = [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ns" },
  { name: "current", type: 6, typeName: "FLOAT", length: 4 },
  { name: "voltage", type: 4, typeName: "INT", length: 4 },
  { name: "phase", type: 6, typeName: "FLOAT", length: 4 },
  { name: "energy", type: 5, typeName: "BIGINT", length: 8 },
  { name: "ok", type: 1, typeName: "BOOL", length: 1 },
  { name: "raw", type: 16, typeName: "VARBINARY", length: 8 },
  { name: "location", type: 8, typeName: "VARCHAR", length: 24 },
  { name: "groupid", type: 4, typeName: "INT", length: 4 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
function meterRow(i: number, meter = i % 10): Record<string, unknown> {
  return {
    ts: BigInt(T0 + i) * 1000000n, // nanoseconds, as a BIGINT timestamp would arrive
    current: 10 + i / 100,
    voltage: 200 + (i % 30),
    phase: 0.25,
    energy: 2n ** 40n + BigInt(i),
    ok: i % 2 === 0,
    raw: new Uint8Array([0xca, 0xfe, i & 0xff]),
    location: `California.City${meter % 3}`,
    groupid: meter % 4,
    tbname: `d${meter}`,
  };
}

let wsBase = "";
const clients: Client[] = [];
async function connect(path = "/perspective/ws"): Promise<Client> {
  const psp = await loadPerspective();
  const c = await psp.default.websocket(wsBase + path);
  // Without a handler, closing the socket surfaces as an uncaught transport error.
  void c.on_error(() => undefined);
  clients.push(c);
  return c;
}

function outNode(id: string, props: Record<string, unknown>, wires: string[][] = []): Record<string, unknown> {
  return { id, type: "perspective-out", name: `writer ${id}`, interval: 10, wires, ...props };
}

// A complete node only watches the nodes it names.
const catchFlow = [
  { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
  { id: "caught", type: "helper" },
  { id: "completer", type: "complete", scope: ["out", "a", "b"], wires: [["completed"]] },
  { id: "completed", type: "helper" },
];

interface NodeLike {
  on(e: string, f: (m: never) => void): void;
  removeListener(e: string, f: (m: never) => void): void;
}

/** Sends msg into node `id` and resolves when Node-RED reports it done (complete) or failed (catch). */
function send(id: string, msg: Record<string, unknown>): Promise<{ error?: string }> {
  return new Promise((resolve) => {
    const completed = helper.getNode("completed") as unknown as NodeLike;
    const caught = helper.getNode("caught") as unknown as NodeLike;
    const onDone = (m: { _msgid: string }) => {
      if (m._msgid !== sent._msgid) return;
      cleanup();
      resolve({});
    };
    const onErr = (m: { _msgid: string; error: { message: string } }) => {
      if (m._msgid !== sent._msgid) return;
      cleanup();
      resolve({ error: m.error.message });
    };
    const cleanup = () => {
      completed.removeListener("input", onDone);
      caught.removeListener("input", onErr);
    };
    completed.on("input", onDone);
    caught.on("input", onErr);
    const sent = { _msgid: `m${Math.random()}`, ...msg };
    helper.getNode(id).receive(sent);
  });
}

const rowsOf = replicaRows;

describe("perspective-out", () => {
  before(async () => {
    await helper.startServer();
    wsBase = helper.url().replace(/^http/, "ws");
    await loadPerspective();
  });
  after(() => helper.stopServer());
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.terminate().catch(() => undefined);
    await helper.unload();
  });

  it("creates the table from msg.columns with the documented type mapping and converts every value", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "typed", mode: "limit", limit: 100, complete: true }, []), ...catchFlow]);
    const r = await send("out", { payload: [meterRow(1), meterRow(2)], columns: COLUMNS });
    assert.equal(r.error, undefined);
    const client = await connect();
    const t = await client.open_table("typed");
    assert.deepEqual(await t.schema(), {
      ts: "datetime", current: "float", voltage: "integer", phase: "float", energy: "float", ok: "boolean",
      raw: "string", location: "string", groupid: "integer", tbname: "string",
    });
    const rows = await rowsOf(client, "typed");
    assert.equal(rows.length, 2);
    assert.equal(rows[0].ts, T0 + 1, "ns timestamp converted to ms");
    assert.equal(rows[0].energy, 2 ** 40 + 1, "BIGINT beyond int32 kept exactly as float");
    assert.equal(rows[0].raw, "cafe01", "VARBINARY as hex");
    assert.equal(rows[0].ok, false);
    assert.equal(rows[1].ok, true);
    assert.equal(rows[1].voltage, 202);
  });

  it("limit: keeps only the newest `limit` rows", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "ring", mode: "limit", limit: 5 }), ...catchFlow]);
    for (let i = 0; i < 8; i++) assert.equal((await send("out", { payload: meterRow(i), columns: COLUMNS })).error, undefined);
    const client = await connect();
    const rows = await rowsOf(client, "ring");
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.map((r) => r.ts).sort(), [3, 4, 5, 6, 7].map((i) => T0 + i));
  });

  it("limit: a message of more rows than the limit leaves exactly its newest `limit` rows, also after later messages", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "ring2", mode: "limit", limit: 100 }), ...catchFlow]);
    const rows = Array.from({ length: 250 }, (_, i) => meterRow(i));
    assert.equal((await send("out", { payload: rows, columns: COLUMNS })).error, undefined);
    const client = await connect();
    const got = await rowsOf(client, "ring2");
    assert.deepEqual(got.map((r) => r.ts).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 100 }, (_, i) => T0 + 150 + i));
    assert.equal(got.find((r) => r.ts === T0 + 249)?.tbname, "d9", "the newest row whole");
    assert.equal((await send("out", { payload: [meterRow(250), meterRow(251)] })).error, undefined);
    const after = await rowsOf(client, "ring2");
    assert.deepEqual(after.map((r) => r.ts).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 100 }, (_, i) => T0 + 152 + i));
  });

  it("index: a row with an existing key replaces that row; a row without some columns leaves them as they were", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "latest", mode: "index", index: "tbname" }), ...catchFlow]);
    const rows = Array.from({ length: 25 }, (_, i) => meterRow(i));
    assert.equal((await send("out", { payload: rows, columns: COLUMNS })).error, undefined);
    assert.equal((await send("out", { payload: [{ tbname: "d3", voltage: 999 }] })).error, undefined);
    const client = await connect();
    const got = await rowsOf(client, "latest");
    assert.equal(got.length, 10, "one row per meter");
    const d3 = got.find((r) => r.tbname === "d3")!;
    assert.equal(d3.voltage, 999);
    assert.equal(d3.ts, T0 + 23, "untouched columns keep the last full row's values");
  });

  it("msg.action replace, clear and remove (by keys and by row objects); unknown actions fail", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "acts", mode: "index", index: "tbname" }), ...catchFlow]);
    assert.equal((await send("out", { payload: Array.from({ length: 10 }, (_, i) => meterRow(i)), columns: COLUMNS })).error, undefined);
    const client = await connect();
    assert.equal((await rowsOf(client, "acts")).length, 10);
    assert.equal((await send("out", { action: "remove", payload: ["d1", "d2"] })).error, undefined);
    assert.equal((await send("out", { action: "remove", payload: [{ tbname: "d3" }] })).error, undefined);
    assert.deepEqual((await rowsOf(client, "acts")).map((r) => r.tbname).sort(), ["d0", "d4", "d5", "d6", "d7", "d8", "d9"]);
    assert.equal((await send("out", { action: "replace", payload: [meterRow(100, 7)] })).error, undefined);
    assert.deepEqual((await rowsOf(client, "acts")).map((r) => r.tbname), ["d7"]);
    assert.equal((await send("out", { action: "clear" })).error, undefined);
    assert.equal((await rowsOf(client, "acts")).length, 0);
    const bad = await send("out", { action: "drop", payload: [] });
    assert.match(bad.error ?? "", /msg\.action must be one of update, replace, clear, remove/);
  });

  it("a bad row is rejected with a clear error while its batch-mates are written", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "bad", schema: '{"ts":"datetime","v":"integer","s":"string"}' }), ...catchFlow]);
    const r = await send("out", { payload: [{ ts: T0, v: 1, s: "a" }, { ts: "not a time", v: 2, s: "b" }, { ts: T0 + 2, v: 2 ** 33, s: "c" }, { ts: T0 + 3, v: 4, s: "d" }] });
    assert.match(r.error ?? "", /2 of 4 rows rejected/);
    assert.match(r.error ?? "", /row 1: column "ts"/);
    assert.match(r.error ?? "", /row 2: column "v": outside the 32-bit integer range/);
    const client = await connect();
    assert.deepEqual((await rowsOf(client, "bad")).map((x) => x.s), ["a", "d"]);
    const allBad = await send("out", { action: "replace", payload: [{ ts: "never", v: 1 }] });
    assert.match(allBad.error ?? "", /1 of 1 rows rejected/);
    assert.deepEqual((await rowsOf(client, "bad")).map((x) => x.s), ["a", "d"], "a replace with no valid row changes nothing");
    const noIndex = await send("out", { action: "remove", payload: ["a"] });
    assert.match(noIndex.error ?? "", /"remove" needs a table with an index column/);
    const noSchema = await send("out", { payload: 5 });
    assert.match(noSchema.error ?? "", /msg\.payload must be/);
  });

  it("shows rows in the table, connected clients and the write rate in its status; a closed socket ends its session", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "status", schema: '{"i":"integer"}' }), ...catchFlow]);
    const node = helper.getNode("out");
    const texts: string[] = [];
    node.on("call:status", (call: { args: [{ text?: string }] }) => texts.push(call.args[0]?.text ?? ""));
    await send("out", { payload: [{ i: 1 }, { i: 2 }, { i: 3 }] });
    const client = await connect();
    await waitFor("a status with the rows and the client", () => texts.some((t) => /^3 rows · 1 client · \d+\/s$/.test(t)), { timeoutMs: 5000 });
    // The session ends with its socket.
    await client.terminate();
    await waitFor("the client to be gone from the status", () => /^3 rows · 0 clients/.test(texts[texts.length - 1]), { timeoutMs: 5000 });
  });

  it("done() fires only once the rows are in the table, and fast messages are coalesced", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "fast", interval: 200, schema: '{"i":"integer"}', limit: 0 }), ...catchFlow]);
    const client = await connect();
    const t = await client.open_table("fast");
    const v = await t.view();
    let notifications = 0;
    await v.on_update(() => notifications++);
    // A remote on_update() resolves when the request is sent, not when the server has it: prime until seen.
    let primers = 0;
    await waitFor("the first notification", async () => {
      if (notifications > 0) return true;
      primers++;
      await send("out", { payload: { i: -1 } });
      return notifications > 0;
    });
    const before = notifications;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => send("out", { payload: { i } })));
    assert.ok(results.every((r) => r.error === undefined));
    assert.equal(await t.size(), primers + 50, "every row is in the table when done() has fired for it");
    await waitFor("notifications for the batch", () => notifications > before);
    assert.ok(notifications - before <= 3, `50 messages within one interval give at most a few table updates, got ${notifications - before}`);
  });

  it("browser sessions are read-only: update, replace, clear, remove, delete and new tables are refused and change nothing", async () => {
    await helper.load([perspectiveOut], [outNode("out", { table: "ro", mode: "index", index: "tbname" }), ...catchFlow]);
    assert.equal((await send("out", { payload: [meterRow(1), meterRow(2)], columns: COLUMNS })).error, undefined);
    const client = await connect();
    const t = await client.open_table("ro");
    const before = await rowsOf(client, "ro");
    const attempts: [string, () => Promise<unknown>][] = [
      ["update", () => t.update([{ tbname: "d9", voltage: 1 }])],
      ["replace", () => t.replace([{ tbname: "d9", voltage: 1 }])],
      ["clear", () => t.clear()],
      ["remove", () => t.remove(["d1"])],
      ["delete", () => t.delete()],
      ["make table", () => client.table({ x: [1] }, { name: "intruder" })],
    ];
    for (const [what, attempt] of attempts) {
      await assert.rejects(attempt(), /read-only connection/, `${what} must be refused`);
    }
    assert.deepEqual(await rowsOf(client, "ro"), before, "the table is unchanged");
    assert.ok(!(await client.get_hosted_table_names()).includes("intruder"), "no table was created");
  });

  it("leaves other WebSocket upgrades on Node-RED's server alone", async () => {
    const { WebSocketServer } = await import("ws");
    const other = new WebSocketServer({ noServer: true });
    const onUpgrade = (req: { url?: string }, socket: unknown, head: Buffer) => {
      if (req.url === "/other") other.handleUpgrade(req as never, socket as never, head, (ws) => ws.send("hello from other"));
    };
    helper._server.on("upgrade", onUpgrade);
    try {
      await helper.load([perspectiveOut], [outNode("out", { table: "x", schema: '{"a":"integer"}' }), ...catchFlow]);
      const got = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(wsBase + "/other");
        ws.on("message", (d) => {
          resolve(String(d));
          ws.close();
        });
        ws.on("error", reject);
      });
      assert.equal(got, "hello from other");
      // A path that only starts like ours is not ours either.
      const refused = await new Promise<string>((resolve) => {
        const ws = new WebSocket(wsBase + "/perspective/ws/extra", { handshakeTimeout: 1000 });
        ws.on("open", () => resolve("opened"));
        ws.on("error", (e) => resolve(e.message));
      });
      assert.notEqual(refused, "opened");
    } finally {
      helper._server.off("upgrade", onUpgrade);
      other.close();
    }
  });

  it("a perspective-config host serves its own path and keeps its tables apart from the default host", async () => {
    await helper.load([perspectiveOut, perspectiveConfig], [
      { id: "host", type: "perspective-config", path: "/dash" },
      outNode("a", { table: "same", server: "host", schema: '{"who":"string"}' }),
      outNode("b", { table: "same", schema: '{"who":"string"}' }),
      ...catchFlow,
    ]);
    await send("a", { payload: { who: "config host" } });
    await send("b", { payload: { who: "default host" } });
    const dash = await connect("/dash/ws");
    const def = await connect("/perspective/ws");
    assert.deepEqual((await rowsOf(dash, "same")).map((r) => r.who), ["config host"]);
    assert.deepEqual((await rowsOf(def, "same")).map((r) => r.who), ["default host"]);
  });

  it("a redeploy that keeps the node keeps the table and open views; a changed schema replaces it without breaking them; removal drops it", async () => {
    const flow = (schema: string) => [outNode("out", { table: "keep", schema, limit: 0 }), ...catchFlow];
    await helper.load([perspectiveOut], flow('{"n":"integer"}'));
    await send("out", { payload: [{ n: 1 }, { n: 2 }] });
    const client = await connect();
    const t = await client.open_table("keep");
    const v = await t.view();
    let updates = 0;
    await v.on_update(() => updates++);
    let sent = 2;
    await waitFor("the view's first notification", async () => {
      if (updates > 0) return true;
      await send("out", { payload: { n: ++sent } });
      return updates > 0;
    });

    await helper.setFlows(flow('{"n":"integer"}'), "full");
    const seen = updates;
    assert.equal((await send("out", { payload: { n: 100 } })).error, undefined);
    await waitFor("a notification after the redeploy on the view opened before it", () => updates > seen);
    const kept = (await viewRows(v)).map((r) => r.n);
    assert.deepEqual(kept, [...Array.from({ length: sent }, (_, i) => i + 1), 100], "same table, same rows, same view");

    await helper.setFlows(flow('{"n":"integer","label":"string"}'), "full");
    assert.equal((await send("out", { payload: { n: 5, label: "five" } })).error, undefined);
    const names: string[] = await client.get_hosted_table_names();
    const entity = names.find((n) => n.startsWith("keep"));
    assert.ok(entity && entity !== "keep", `the new table has its own engine name while the old one is held by a view (${names})`);
    assert.deepEqual((await viewRows(v)).map((r) => r.n), kept, "the old view still answers, with its last data");
    assert.deepEqual(await rowsOf(client, entity), [{ n: 5, label: "five" }]);
    await v.delete();

    // Removing the node drops its table (and, as nothing else uses the default host, closes its endpoint).
    await helper.setFlows(catchFlow, "full");
    const host = await getHost("default");
    assert.deepEqual(host.names().filter((n) => n.startsWith("keep")), []);
  });

  it("applies httpNodeMiddleware to the WebSocket upgrade and to the page, which gets the node's layouts", async () => {
    // node-red-node-test-helper does not mount RED.httpNode on its server: capture it and mount it, as Node-RED does.
    let httpNode: ((req: unknown, res: unknown, next: () => void) => void) | undefined;
    const probe = (RED: { httpNode: typeof httpNode; nodes: { registerType(t: string, f: unknown): void; createNode(n: unknown, c: unknown): void } }) => {
      httpNode = RED.httpNode;
      RED.nodes.registerType("probe", function (this: unknown, c: unknown) {
        RED.nodes.createNode(this, c);
      });
    };
    const app = (helper as unknown as { _app: { use(f: unknown): void } })._app;
    app.use((req: unknown, res: unknown, next: () => void) => (httpNode ? httpNode(req, res, next) : next()));
    helper.settings({
      httpNodeMiddleware: (req: { headers: Record<string, string> }, res: { sendStatus(n: number): void }, next: () => void) => {
        if (req.headers["x-token"] === "let-me-in") next();
        else if (req.headers["x-token"] === "forbidden") res.sendStatus(403);
        else res.sendStatus(401);
      },
    });
    try {
      const layouts = [{ plugin: "Datagrid", columns: ["a"] }, { plugin: "Y Line", columns: ["a"] }];
      await helper.load([perspectiveOut, probe], [
        outNode("out", { table: "guarded", schema: '{"a":"integer"}', layouts: JSON.stringify(layouts) }),
        { id: "p", type: "probe" },
        ...catchFlow,
      ]);
      const upgrade = (headers: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(wsBase + "/perspective/ws", { headers });
          ws.on("open", () => {
            resolve("open");
            ws.close();
          });
          ws.on("unexpected-response", (_req, res) => resolve(`status ${res.statusCode}`));
          ws.on("error", (e) => resolve(e.message));
        });
      assert.equal(await upgrade({}), "status 401");
      assert.equal(await upgrade({ "x-token": "wrong" }), "status 401");
      assert.equal(await upgrade({ "x-token": "forbidden" }), "status 403", "a 403 of the middleware refuses the upgrade too");
      assert.equal(await upgrade({ "x-token": "let-me-in" }), "open");
      assert.equal((await fetch(helper.url() + "/perspective/")).status, 401);
      const page = await fetch(helper.url() + "/perspective/", { headers: { "x-token": "let-me-in" } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<perspective-viewer id="v1">/);
      const cfg = await fetch(helper.url() + "/perspective/config.json", { headers: { "x-token": "let-me-in" } });
      const described = (await cfg.json()).tables.find((t: { name: string }) => t.name === "guarded");
      assert.equal(described?.entity, "guarded");
      assert.deepEqual(described?.layouts, layouts, "the node's viewer layouts are served to the page");
    } finally {
      helper.settings({});
      httpNode = undefined;
    }
  });

  it("puts the WebSocket under httpNodeRoot", async () => {
    helper.settings({ httpNodeRoot: "/api" });
    try {
      await helper.load([perspectiveOut], [outNode("out", { table: "rooted", schema: '{"a":"integer"}' }), ...catchFlow]);
      await send("out", { payload: { a: 7 } });
      const client = await connect("/api/perspective/ws");
      assert.deepEqual(await rowsOf(client, "rooted"), [{ a: 7 }]);
      const outside = await new Promise<string>((resolve) => {
        const ws = new WebSocket(wsBase + "/perspective/ws", { handshakeTimeout: 1000 });
        ws.on("open", () => resolve("opened"));
        ws.on("error", (e) => resolve(e.message));
      });
      assert.notEqual(outside, "opened", "nothing answers outside httpNodeRoot");
    } finally {
      helper.settings({});
    }
  });
});
