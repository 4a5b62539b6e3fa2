// Dashboard 2.0's own access checks on the data a ui-perspective widget reads (real Node-RED processes, real
// sockets): while a widget shows a host's table, the host's config.json, files and WebSocket pass the checks
// the dashboard applies to itself (settings.js `dashboard.middleware` on HTTP, `dashboard.ioMiddleware` on
// its sockets, or by default no connection from another origin); a browser the dashboard refuses is refused.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { request, responseKind } from "../support/perspective-frames";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";

const DASHBOARD_SETTINGS = `
module.exports.dashboard = {
  // A dashboard signed in with one cookie for its pages and another for its socket (any scheme would do).
  middleware: function (req, res, next) {
    // Counts its runs on a request: the widgets of one dashboard share one check.
    res.setHeader("X-Dashboard-Checks", String(Number(res.getHeader("X-Dashboard-Checks") || 0) + 1));
    if (/(^|;\\s*)dash-http=1(;|$)/.test(req.headers.cookie || "")) return next();
    res.statusCode = 401;
    res.end("dashboard sign-in needed");
  },
  ioMiddleware: function (socket, next) {
    if (/(^|;\\s*)dash-io=1(;|$)/.test(socket.request.headers.cookie || "")) return next();
    next(new Error("no dashboard session"));
  },
};`;

const PRODUCER = [
  { id: "tab", type: "tab", label: "t" },
  { id: "tick", type: "inject", z: "tab", x: 100, y: 40, repeat: "0.5", once: true, onceDelay: 0.1, payload: '{"v": 1}', payloadType: "json", wires: [["out"]] },
  { id: "out", type: "perspective-out", z: "tab", x: 300, y: 40, table: "guarded", mode: "limit", limit: 10, schema: '{"v":"float"}', wires: [] },
];
const DASHBOARD = [
  { id: "base", type: "ui-base", name: "Dashboard", path: "/dashboard", includeClientData: true, acceptsClientConfig: ["ui-notification", "ui-control"] },
  { id: "page1", type: "ui-page", name: "Meters", ui: "base", path: "/meters", icon: "home", layout: "grid", order: 1, className: "", visible: "true", disabled: false },
  { id: "group1", type: "ui-group", name: "Perspective", page: "page1", width: "12", height: "1", order: 1, showTitle: true, className: "", visible: "true", disabled: "false" },
];
const WIDGET = { id: "w", type: "ui-perspective", z: "tab", x: 300, y: 120, group: "group1", order: 1, width: "6", height: "4", server: "", table: "guarded", layout: "", followTheme: true, className: "", wires: [] };
const WIDGET2 = { ...WIDGET, id: "w2", y: 200, order: 2 };

type Outcome = { open: true; answered: boolean } | { open: false; status: number };

/** Opens the host's WebSocket with these headers; when it opens, asks for the table names and waits for the answer. */
function connect(nr: NodeRedProcess, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${nr.url.replace(/^http/, "ws")}/perspective/ws`, { headers });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error("no answer within 10 s"))), 10000);
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ open: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on("error", () => undefined);
    ws.on("open", () => ws.send(request(7, "", 4))); // get_hosted_tables
    ws.on("message", (data: Buffer) => {
      if (responseKind(new Uint8Array(data)).msgId !== 7) return;
      clearTimeout(timer);
      resolve({ open: true, answered: true });
      ws.close();
    });
  });
}

const configStatus = async (nr: NodeRedProcess, cookie?: string): Promise<number> =>
  (await fetch(`${nr.url}/perspective/config.json`, { headers: cookie ? { Cookie: cookie } : {} })).status;

describe(`Dashboard 2.0's own auth on the widget's data (Node-RED ${runtimeVersion})`, () => {
  describe("with dashboard.middleware and dashboard.ioMiddleware set", () => {
    let nr: NodeRedProcess;
    before(async () => {
      nr = await startNodeRed({ dashboard: true, flows: [...PRODUCER, ...DASHBOARD, WIDGET, WIDGET2], settingsSource: DASHBOARD_SETTINGS });
      await waitFor("the widget to register", () => /Node-RED Dashboard 2\.0 \(v1\.31\.\d+\) started/.test(nr.output()));
    });
    after(async () => nr?.stop());

    it("refuses what the dashboard refuses, serves what it accepts", async () => {
      // The dashboard itself, as the browser meets it.
      assert.equal((await fetch(`${nr.url}/dashboard/meters`)).status, 401, "the dashboard refuses a browser that is not signed in");
      assert.equal((await fetch(`${nr.url}/dashboard/meters`, { headers: { Cookie: "dash-http=1" } })).status, 200);

      // HTTP: the table list (and every file of the host's page) needs what the dashboard's pages need.
      assert.equal(await configStatus(nr), 401);
      await waitFor("the table in the list", async () => {
        const res = await fetch(`${nr.url}/perspective/config.json`, { headers: { Cookie: "dash-http=1" } });
        return res.status === 200 && ((await res.json()) as { tables: { name: string }[] }).tables.some((t) => t.name === "guarded");
      });
      assert.equal((await fetch(`${nr.url}/perspective/replica.js`)).status, 401, "the page's files too");
      const checked = await fetch(`${nr.url}/perspective/config.json`, { headers: { Cookie: "dash-http=1" } });
      assert.equal(checked.headers.get("x-dashboard-checks"), "1", "two widgets, one check");

      // WebSocket: the dashboard's HTTP middleware, then its socket middleware.
      assert.deepEqual(await connect(nr, {}), { open: false, status: 401 }, "not signed in");
      for (let i = 0; i < 3; i++) assert.deepEqual(await connect(nr, { Cookie: "dash-http=1" }), { open: false, status: 403 }, "no dashboard socket session");
      assert.deepEqual(await connect(nr, { Cookie: "dash-http=1; dash-io=1" }), { open: true, answered: true }, "signed in: replication works");
      const refusal = "Dashboard 2.0's ioMiddleware refused a Perspective connection: no dashboard session";
      await waitFor("the refusal in the log", () => nr.output().includes(refusal));
      assert.equal(nr.output().split(refusal).length - 1, 1, "three refusals, one log line (the next report counts the others)");
    });

    it("lifts the dashboard's checks from the host when no widget reads from it any more", async () => {
      // One of the two widgets removed: the other still holds the checks.
      await nr.deploy([...PRODUCER, ...DASHBOARD, WIDGET], "nodes");
      await waitFor("the second widget gone", async () => {
        const flows = (await (await nr.admin("GET", "/flows")).json()) as { id: string }[];
        return !flows.some((n) => n.id === "w2");
      });
      assert.equal(await configStatus(nr), 401, "still checked");
      assert.deepEqual(await connect(nr, {}), { open: false, status: 401 });
      await nr.deploy([...PRODUCER, ...DASHBOARD], "full");
      await waitFor("the host open again", async () => (await configStatus(nr)) === 200, { timeoutMs: 20000 });
      assert.deepEqual(await connect(nr, {}), { open: true, answered: true });
    });
  });

  describe("with Dashboard 2.0's default socket check (no ioMiddleware)", () => {
    let nr: NodeRedProcess;
    before(async () => {
      nr = await startNodeRed({ dashboard: true, flows: [...PRODUCER, ...DASHBOARD, WIDGET] });
      await waitFor("the widget to register", () => /Node-RED Dashboard 2\.0 \(v1\.31\.\d+\) started/.test(nr.output()));
    });
    after(async () => nr?.stop());

    it("refuses a WebSocket from another origin, as the dashboard refuses cross-domain sockets", async () => {
      const host = new URL(nr.url).host;
      assert.deepEqual(await connect(nr, { Origin: "http://elsewhere.example" }), { open: false, status: 403 });
      assert.deepEqual(await connect(nr, { Origin: `http://${host}` }), { open: true, answered: true }, "the dashboard's own origin");
      assert.deepEqual(await connect(nr, {}), { open: true, answered: true }, "no Origin: not a browser, as for the dashboard");
      assert.deepEqual(
        await connect(nr, { Origin: "https://dashboard.example", "X-Forwarded-Host": "dashboard.example" }),
        { open: true, answered: true },
        "behind a reverse proxy that says which host it forwarded",
      );
      assert.deepEqual(await connect(nr, { Origin: "https://elsewhere.example", "X-Forwarded-Host": "dashboard.example" }), { open: false, status: 403 });
      assert.equal(await configStatus(nr), 200, "no HTTP middleware set: the table list stays open");
    });
  });
});
