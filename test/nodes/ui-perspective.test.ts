// ui-perspective with Dashboard 2.0's config nodes loaded in the runtime under test (node-red-node-test-helper):
// the widget registers with its group, the dashboard knows where its component is, a message sets the layout
// the dashboard keeps for browsers that open it later, and a bad layout goes to Catch with its message.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { freePort } from "../support/free-port";
import helper from "../support/helper";
import { packageName } from "../support/node-red-process";
import { waitFor } from "../support/wait";

const uiPerspective = require("../../nodes/ui-perspective/ui-perspective");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");
const dashboardDir = "@flowfuse/node-red-dashboard/nodes/config/";
const uiBase = require(dashboardDir + "ui_base");
const uiPage = require(dashboardDir + "ui_page");
const uiGroup = require(dashboardDir + "ui_group");
const uiTheme = require(dashboardDir + "ui_theme");

const LAYOUT = { plugin: "Datagrid", columns: ["ts", "voltage"], group_by: ["location"] };
const DASHBOARD = [
  { id: "base", type: "ui-base", name: "Dashboard", path: "/dashboard", includeClientData: true, acceptsClientConfig: [] },
  { id: "theme", type: "ui-theme", name: "Theme", colors: { surface: "#ffffff", primary: "#0094ce", bgPage: "#eeeeee", groupBg: "#ffffff", groupOutline: "#cccccc" } },
  { id: "page", type: "ui-page", name: "Page", ui: "base", path: "/p", layout: "grid", theme: "theme", order: 1, visible: "true", disabled: false },
  { id: "group", type: "ui-group", name: "Group", page: "page", width: "12", height: "1", order: 1, showTitle: true, visible: "true", disabled: "false" },
];
const widget = (props: Record<string, unknown> = {}) => ({
  id: "w1", type: "ui-perspective", z: "tab", x: 100, y: 100, group: "group", order: 1, width: "6", height: "8", server: "",
  table: "meters_values", layout: JSON.stringify(LAYOUT), followTheme: true, className: "", wires: [], ...props,
});
const CATCH = [
  { id: "tab", type: "tab", label: "t" },
  { id: "c1", type: "catch", z: "tab", x: 100, y: 200, scope: ["w1"], uncaught: false, wires: [["h1"]] },
  { id: "h1", type: "helper", z: "tab", x: 300, y: 200 },
];

type Widget = { src?: { package: string; name: string; src: string; component: string }; props: Record<string, unknown> };
type Base = { ui: { widgets: Map<string, Widget> }; stores: { state: { getAll(id: string): Record<string, unknown> | undefined } } };

type Caught = { error: { message: string }; _msgid: string };
/** The next message the Catch node passes on, after `act` (fails after 10 s without one). */
function caughtAfter(act: () => void): Promise<Caught> {
  const got = new Promise<Caught>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("nothing reached the Catch node within 10 s")), 10000);
    helper.getNode("h1").on("input", (m: unknown) => {
      clearTimeout(timer);
      resolve(m as Caught);
    });
  });
  act();
  return got;
}

describe("ui-perspective with Dashboard 2.0", () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  const load = (flows: object[]) => helper.load([uiBase, uiPage, uiGroup, uiTheme, uiPerspective, perspectiveConfig], [...CATCH, ...DASHBOARD, ...flows] as object[]);
  const base = () => helper.getNode("base") as unknown as Base;

  it("registers with its group; the dashboard loads its component from this package's resources", async () => {
    await load([widget()]);
    const w = await waitFor("the widget in the dashboard's config", () => base().ui.widgets.get("w1"));
    assert.deepEqual(
      { package: w.src?.package, name: w.src?.name, src: w.src?.src, component: w.src?.component },
      { package: packageName, name: "ui-perspective", src: "ui-perspective.umd.js", component: "UIPerspective" },
    );
    assert.equal(w.props.pagePath, "/perspective/", "where the browser finds the host's page and WebSocket");
    assert.deepEqual(w.props.layout, LAYOUT, "the layout, parsed");
    assert.equal(w.props.table, "meters_values");
  });

  it("keeps a layout sent in msg.payload (or msg.ui_update.layout) for browsers that open the dashboard later", async () => {
    await load([widget()]);
    const n = helper.getNode("w1");
    const line = { plugin: "Y Line", columns: ["voltage"] };
    n.receive({ payload: line } as never);
    await waitFor("the layout in the dashboard's state", () => JSON.stringify(base().stores.state.getAll("w1")?.runtimeLayout) === JSON.stringify(line));
    n.receive({ ui_update: { layout: null } } as never);
    await waitFor("a reset to the configured layout", () => base().stores.state.getAll("w1")?.runtimeLayout === null);
    // Only a class: no layout asked for, nothing to report.
    n.receive({ ui_update: { class: "big" } } as never);
    await waitFor("the class in the dashboard's state", () => base().stores.state.getAll("w1")?.class === "big");
    assert.equal(base().stores.state.getAll("w1")?.runtimeLayout, null);
  });

  for (const [what, msg, error] of [
    ["a string that is not JSON", { payload: "not json" }, /msg\.payload is not valid JSON/],
    ["an unknown key", { payload: { plugin: "Datagrid", colums: [] } }, /unknown keys: colums/],
    ["a wrong type", { payload: { plugin: "Datagrid", group_by: "location" } }, /"group_by" must be an array/],
    ["a list of several viewers", { payload: [LAYOUT, LAYOUT] }, /one viewer configuration object/],
    ["no payload", { topic: "x" }, /msg\.payload must be a viewer layout/],
  ] as const) {
    it(`reports ${what} to Catch with the message and keeps the layout`, async () => {
      await load([widget()]);
      const before = base().stores.state.getAll("w1")?.runtimeLayout;
      const m = await caughtAfter(() => helper.getNode("w1").receive({ ...msg, _msgid: "m1" } as never));
      assert.match(m.error.message, error);
      assert.equal(m._msgid, "m1", "the original message");
      assert.equal(base().stores.state.getAll("w1")?.runtimeLayout, before, "nothing stored");
    });
  }

  it("says what is wrong with its configuration and does not register", async () => {
    await load([widget({ table: "" })]);
    const logged = () => (helper.log().args as unknown as { msg?: unknown; id?: string }[][]).map((a) => a[0]).filter((e) => e?.id === "w1").map((e) => String(e.msg));
    await waitFor("the error in the log", () => logged().includes("no table chosen"));
    assert.equal(base().ui.widgets.has("w1"), false, "not registered");
    const m = await caughtAfter(() => helper.getNode("w1").receive({ payload: LAYOUT } as never));
    assert.match(m.error.message, /no table chosen/);
  });

  it("takes a host on a port of its own: the browser is told the port, and only pages of this Node-RED may read it", async () => {
    const port = await freePort();
    await load([{ id: "own", type: "perspective-config", path: "/own-port", port: String(port), bind: "127.0.0.1" }, widget({ server: "own" })]);
    const w = await waitFor("the widget in the dashboard's config", () => base().ui.widgets.get("w1"));
    assert.equal(w.props.pagePath, "/own-port/");
    assert.equal(w.props.pagePort, port);
    const nodeRed = new URL(helper.url()).port;
    const config = (origin: string) => fetch(`http://127.0.0.1:${port}/own-port/config.json`, { headers: { Origin: origin } });
    await waitFor("the own port to listen", () => config(`http://127.0.0.1:${nodeRed}`).then((r) => r.ok, () => false));
    assert.equal((await config(`http://127.0.0.1:${nodeRed}`)).headers.get("access-control-allow-origin"), `http://127.0.0.1:${nodeRed}`, "the dashboard's pages may read it");
    assert.equal((await config("http://elsewhere.example")).headers.get("access-control-allow-origin"), null, "other sites' pages may not");
    assert.equal((await config(`http://localhost:${nodeRed}`)).headers.get("access-control-allow-origin"), null, "nor another host name");
  });

  it("with Dashboard 2.0's middleware set, a host that cannot serve says why (its path taken), not something else", async () => {
    helper.settings({ dashboard: { middleware: (_req: unknown, _res: unknown, next: () => void) => next() } });
    try {
      await load([
        { id: "first", type: "perspective-config", path: "/dup" },
        { id: "second", type: "perspective-config", path: "/dup" },
        widget({ server: "second" }),
      ]);
      const logged = () => (helper.log().args as unknown as { msg?: unknown; id?: string }[][]).map((a) => a[0]).filter((e) => e?.id === "w1").map((e) => String(e.msg));
      await waitFor("the reason in the widget's log", () => logged().includes("the path /dup is already used by another Perspective host"));
      assert.deepEqual(logged(), ["the path /dup is already used by another Perspective host"]);
    } finally {
      helper.settings({});
    }
  });

  it("refuses a host on a port of its own where the dashboard is signed in to, saying why on its status, in the log and to Catch", async () => {
    // Statuses set while a node starts: recorded on Node-RED's Node class (found through a first load).
    await load([widget()]);
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(helper.getNode("w1"))) as { status(this: { id: string }, s: unknown): void };
    await helper.unload();
    const statuses: unknown[] = [];
    const original = proto.status;
    proto.status = function (s: unknown) {
      if (this.id === "w1") statuses.push(s);
      return original.call(this, s);
    };
    helper.settings({ httpNodeMiddleware: (_req: unknown, _res: unknown, next: () => void) => next() });
    try {
      const port = await freePort();
      await load([{ id: "own", type: "perspective-config", path: "/own-port", port: String(port), bind: "127.0.0.1" }, widget({ server: "own" })]);
    } finally {
      proto.status = original;
      helper.settings({});
    }
    const logged = () => (helper.log().args as unknown as { msg?: unknown; id?: string }[][]).map((a) => a[0]).filter((e) => e?.id === "w1").map((e) => String(e.msg));
    await waitFor("the reason in the log", () => logged().find((m) => m.startsWith("the Perspective host has a port of its own")));
    assert.match(logged().join("\n"), /would not send it the dashboard's sign-in/);
    assert.deepEqual(statuses, [{ fill: "red", shape: "ring", text: "own-port host: the dashboard signs in" }]);
    assert.equal(base().ui.widgets.has("w1"), false, "not registered");
    const m = await caughtAfter(() => helper.getNode("w1").receive({ payload: LAYOUT } as never));
    assert.match(m.error.message, /choose a host served on Node-RED's port/);
  });
});
