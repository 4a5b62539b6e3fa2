// The ui-perspective widget on a real FlowFuse Dashboard 2.0 page in headless Chromium: a Node-RED with the
// dashboard installed, rows flowing into a perspective-out table, a dashboard page with two widgets of that
// table and a gauge. The widgets replicate the table (only replication requests on one WebSocket), show live
// rows, take a layout from a message (also on a page opened later), and keep working after a full redeploy,
// all behind httpNodeAuth with a signed-in browser. A page that falls behind replicates its table afresh.
// Then the shipped example (examples/dashboard-2.json) against the emulator; its screenshot is the README's.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startEmulator } from "../../emulator";
import { holdTableUpdates, REPLICATION_REQUESTS, watchPage } from "./dashboard-helpers";
import { packageName, packageRoot, startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { publishReadmePicture } from "../support/readme-pictures";
import { runtimeDir, runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";

const PRODUCER = `
const cities = ["California.SanFrancisco", "California.LosAngeles", "California.SanDiego", "California.SanJose", "California.PaloAlto"];
const now = Date.now();
const rows = [];
for (let i = 0; i < 10; i++) {
  rows.push({ ts: new Date(now), location: cities[i % 5], groupid: (i % 3) + 1, current: 10 + Math.random() * 5,
    voltage: 215 + Math.floor(Math.random() * 10), phase: Math.random(), tbname: "d" + i });
}
msg.payload = rows;
msg.columns = [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" },
  { name: "current", type: 6, typeName: "FLOAT", length: 4 },
  { name: "voltage", type: 4, typeName: "INT", length: 4 },
  { name: "phase", type: 6, typeName: "FLOAT", length: 4 },
  { name: "location", type: 8, typeName: "VARCHAR", length: 24 },
  { name: "groupid", type: 4, typeName: "INT", length: 4 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];
return msg;`;

const GRID = { plugin: "Datagrid", columns: ["ts", "location", "voltage", "current"], group_by: ["location"], aggregates: { ts: "last", voltage: "last", current: "last" } };
const LINE = { plugin: "Y Line", columns: ["voltage"], group_by: ["location"], aggregates: { voltage: "avg" } };

const FLOWS: Record<string, unknown>[] = [
  { id: "tab", type: "tab", label: "ui-perspective e2e" },
  { id: "base", type: "ui-base", name: "Dashboard", path: "/dashboard", includeClientData: true, acceptsClientConfig: ["ui-notification", "ui-control"] },
  { id: "theme", type: "ui-theme", name: "Theme", colors: { surface: "#ffffff", primary: "#0094ce", bgPage: "#eeeeee", groupBg: "#ffffff", groupOutline: "#cccccc" } },
  { id: "page1", type: "ui-page", name: "Meters", ui: "base", path: "/meters", icon: "home", layout: "grid", theme: "theme", order: 1, className: "", visible: "true", disabled: false },
  { id: "group1", type: "ui-group", name: "Perspective", page: "page1", width: "12", height: "1", order: 1, showTitle: true, className: "", visible: "true", disabled: "false" },
  { id: "tick", type: "inject", z: "tab", repeat: "0.25", once: true, onceDelay: 0.1, topic: "", payload: "", payloadType: "date", wires: [["produce"]] },
  { id: "produce", type: "function", z: "tab", name: "demo rows", func: PRODUCER, outputs: 1, wires: [["out", "newest"]] },
  { id: "out", type: "perspective-out", z: "tab", name: "", table: "meters_values", mode: "limit", limit: 1000, interval: 50, tsUnit: "auto", wires: [] },
  { id: "newest", type: "function", z: "tab", name: "newest voltage", func: "return { payload: msg.payload[msg.payload.length - 1].voltage };", outputs: 1, wires: [["gauge"]] },
  { id: "gauge", type: "ui-gauge", z: "tab", group: "group1", name: "voltage", order: 2, value: "payload", valueType: "msg", width: "3", height: "4", gtype: "gauge-34", gstyle: "needle", title: "newest voltage", alwaysShowTitle: true, floatingTitlePosition: "top-left", units: "V", icon: "", prefix: "", suffix: "", segments: [{ from: "200", color: "#5cb85c", text: "", textType: "label" }, { from: "230", color: "#f0ad4e", text: "", textType: "label" }], min: "200", max: "240", sizeThickness: "16", sizeGap: "4", sizeKeyThickness: "8", styleRounded: true, styleGlow: false, className: "", wires: [[]] },
  { id: "grid", type: "ui-perspective", z: "tab", group: "group1", name: "", order: 1, width: "9", height: "6", server: "", table: "meters_values", layout: JSON.stringify(GRID), followTheme: true, className: "", wires: [] },
  { id: "set-layout", type: "inject", z: "tab", repeat: "", once: false, topic: "", payload: JSON.stringify(LINE), payloadType: "json", wires: [["grid"]] },
  { id: "bad-layout", type: "inject", z: "tab", repeat: "", once: false, topic: "", payload: '{"plugin": 3}', payloadType: "json", wires: [["grid"]] },
  // A table fed only when the test says so: its deltas stop, so a row count left behind stays visible.
  { id: "page2", type: "ui-page", name: "Bursts", ui: "base", path: "/bursts", icon: "home", layout: "grid", theme: "theme", order: 2, className: "", visible: "true", disabled: false },
  { id: "group2", type: "ui-group", name: "Bursts", page: "page2", width: "12", height: "1", order: 1, showTitle: true, className: "", visible: "true", disabled: "false" },
  { id: "burst", type: "inject", z: "tab", repeat: "", once: false, topic: "", payload: "", payloadType: "date", wires: [["burst-rows"]] },
  { id: "burst-rows", type: "function", z: "tab", name: "7 rows", func: "msg.payload = [0, 1, 2, 3, 4, 5, 6].map((i) => ({ ts: Date.now(), meter: 'm' + i, voltage: 215 + i }));\nreturn msg;", outputs: 1, wires: [["out-bursts"]] },
  { id: "out-bursts", type: "perspective-out", z: "tab", name: "", table: "bursts", mode: "limit", limit: 1000, interval: 0, tsUnit: "auto", schema: JSON.stringify({ ts: "datetime", meter: "string", voltage: "integer" }), wires: [] },
  { id: "burst-grid", type: "ui-perspective", z: "tab", group: "group2", name: "", order: 1, width: "9", height: "6", server: "", table: "bursts", layout: "", followTheme: true, className: "", wires: [] },
  { id: "catch-grid", type: "catch", z: "tab", name: "", scope: ["grid"], uncaught: false, wires: [["caught"]] },
  { id: "caught", type: "debug", z: "tab", name: "caught", active: true, tosidebar: false, console: true, complete: "error", targetType: "msg", wires: [] },
];
// Flow nodes (those on the tab) carry a position, as the editor writes them.
FLOWS.forEach((n, i) => n.z && Object.assign(n, { x: 100 + (i % 4) * 200, y: 40 + i * 40 }));

const USER = "viewer";
const PASSWORD = "view-pass-5530";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

type Widget = { state: string; rows: number; plugin?: string; theme?: string };

describe(`ui-perspective on a Dashboard 2.0 page in Chromium (Node-RED ${runtimeVersion})`, () => {
  let nr: NodeRedProcess;
  let context: BrowserContext;
  let profile: string;
  before(async () => {
    // Behind httpNodeAuth, as a dashboard often is: the browser signs in, and the widget's files, table list and
    // WebSocket must come with that (they are the Perspective page's, under the same auth).
    const bcrypt = require(require.resolve("bcryptjs", { paths: [runtimeDir] })) as { hashSync(p: string, rounds: number): string };
    nr = await startNodeRed({ flows: FLOWS, dashboard: true, settings: { httpNodeAuth: { user: USER, pass: bcrypt.hashSync(PASSWORD, 8) } } });
    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    context = await chromium.launchPersistentContext(profile, {
      httpCredentials: { username: USER, password: PASSWORD },
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await nr?.stop();
  });

  /** What the widget shows: its state and row count (its own attributes) and the viewer's plugin and theme. */
  const widget = (page: Page): Promise<Widget | null> =>
    page.evaluate(async () => {
      const el = document.querySelector<HTMLElement>(".ui-perspective");
      if (!el) return null;
      const viewer = el.querySelector("perspective-viewer") as unknown as { save(): Promise<{ plugin?: string; theme?: string }> } | null;
      const cfg = viewer ? await viewer.save().catch(() => ({}) as { plugin?: string; theme?: string }) : {};
      return { state: el.dataset.state ?? "", rows: Number(el.dataset.rows || 0), plugin: cfg.plugin, theme: cfg.theme };
    });

  /** The newest row's timestamp in the table the widget's viewer shows (the page's own replica). */
  const newestTs = (page: Page): Promise<number> =>
    page.evaluate(async () => {
      const viewer = document.querySelector(".ui-perspective perspective-viewer") as unknown as {
        getTable(): Promise<{ view(c: object): Promise<{ to_columns(): Promise<Record<string, number[]>>; delete(): Promise<void> }> }>;
      };
      const v = await (await viewer.getTable()).view({ columns: ["ts"], sort: [["ts", "desc"]] });
      const cols = await v.to_columns();
      await v.delete();
      return cols.ts?.[0] ?? 0;
    });

  const inject = async (id: string): Promise<void> => {
    const res = await nr.admin("POST", `/inject/${id}`);
    assert.equal(res.status, 200, `inject ${id}`);
  };

  it("serves the widget's component from the package's resources", async () => {
    const res = await fetch(`${nr.url}/resources/${packageName}/ui-perspective.umd.js`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /\["ui-perspective"\] = \{ UIPerspective \}/);
    assert.match(nr.output(), /Node-RED Dashboard 2\.0 \(v1\.31\.\d+\) started/);
  });

  it("shows live rows of the replicated table, takes a layout from a message, and survives a redeploy", async () => {
    const page = await context.newPage();
    const w = watchPage(page);
    await page.goto(`${nr.url}/dashboard/meters`);
    await waitFor("the widget to replicate the table", async () => (await widget(page))?.state === "live", { timeoutMs: 60000 });
    await waitFor("the grid to show grouped rows", async () => (await page.locator(".ui-perspective regular-table tbody tr").count()) > 3, { timeoutMs: 60000 });
    const grid = await page.locator(".ui-perspective regular-table").innerText();
    assert.match(grid, /California\.SanJose/, "grouped by location, as the configured layout says");
    const first = (await widget(page))!;
    assert.equal(first.plugin, "Datagrid");
    assert.equal(first.theme, "Pro Light", "follows the dashboard's light theme");
    assert.ok(first.rows > 0, "the widget counts its table's rows");
    const newest = await newestTs(page);
    await waitFor("newer rows to reach the widget", async () => (await newestTs(page)) > newest, { timeoutMs: 30000 });
    await waitFor("the gauge beside it", async () => (await page.locator(".nrdb-ui-gauge").count()) > 0, { timeoutMs: 30000 });

    // A layout by message: applied in the open page, and kept for a page opened afterwards.
    await inject("set-layout");
    await waitFor("the message's layout in the viewer", async () => (await widget(page))?.plugin === "Y Line", { timeoutMs: 30000 });
    await waitFor("the line chart to draw", async () => (await page.locator(".ui-perspective svg path").count()) > 0, { timeoutMs: 30000 });
    const later = await context.newPage();
    const wLater = watchPage(later);
    await later.goto(`${nr.url}/dashboard/meters`);
    await waitFor("a page opened later to show the message's layout", async () => (await widget(later))?.plugin === "Y Line", { timeoutMs: 60000 });
    await later.close();

    // A bad layout goes to the Catch node with its message and changes nothing.
    await inject("bad-layout");
    await waitFor("the Catch node to report the bad layout", () => /msg\.payload: "plugin" must be a string/.test(nr.output()), { timeoutMs: 10000 });
    assert.equal((await widget(page))?.plugin, "Y Line");

    // A full redeploy restarts every node, the dashboard's included: the widget goes on showing new rows.
    const rowsBefore = (await widget(page))!.rows;
    const newestBefore = await page.evaluate(() => Date.now());
    await nr.deploy(FLOWS, "full");
    await waitFor("the widget to be live again after the redeploy", async () => {
      const s = await widget(page);
      return s?.state === "live" && s.rows > 0;
    }, { timeoutMs: 60000 });
    assert.ok(rowsBefore > 0);
    // Rows written after the redeploy reach the widget's table.
    await waitFor("rows newer than the redeploy in the widget", async () => (await newestTs(page)) > newestBefore, { timeoutMs: 30000 });

    const kinds = [...new Set(w.sent.map((r) => r.kind))];
    assert.deepEqual(kinds.filter((k) => !REPLICATION_REQUESTS.has(k)), [], `only replication requests, sent: ${kinds.join(", ")}`);
    assert.ok(w.sent.filter((r) => r.kind === 6).every((v) => v.flat), "every server view is flat");
    assert.deepEqual([...new Set(w.sockets.filter((u) => u.includes("/perspective/")))], [`${nr.url.replace(/^http/, "ws")}/perspective/ws`]);
    assert.deepEqual(w.foreign, []);
    assert.deepEqual(wLater.foreign, []);
    const ours = (p: string[]) => p.filter((m) => /perspective/i.test(m));
    assert.deepEqual(ours(w.problems), []);
    await page.close();
  });

  it("behind httpNodeAuth (this Node-RED has it): the table list is not public, the signed-in dashboard browser above got it", async () => {
    assert.equal((await fetch(`${nr.url}/perspective/config.json`)).status, 401);
    assert.equal((await fetch(`${nr.url}/dashboard/meters`)).status, 401);
  });

  it("counts every delta's rows, also one that comes while the previous count is still being read", async () => {
    // The widget reads its table's size once at a time; a delta that came during a read used to be left
    // uncounted until the next one, so a table whose rows stop kept showing an old count.
    const page = await context.newPage();
    await page.goto(`${nr.url}/dashboard/bursts`);
    await inject("burst");
    await waitFor("the widget to count the first burst", async () => {
      const s = await widget(page);
      return s?.state === "live" && s.rows === 7;
    }, { timeoutMs: 60000 });
    // Table.size() answers wait at a gate (every table of this page's Perspective module shares the prototype);
    // updates applied are counted.
    await page.evaluate(async () => {
      // The URL the widget loaded it from (its host's page at /perspective/), so the same module instance.
      const url = "/perspective/assets/@finos/perspective/dist/cdn/perspective.js";
      const mod = (await import(url)) as {
        default: { worker(): Promise<{ table(d: object): Promise<object> }> };
      };
      const probe = await (await mod.default.worker()).table({ a: [1] });
      const proto = Object.getPrototypeOf(probe) as { size(): Promise<number>; update(d: unknown): Promise<void> };
      const size = proto.size;
      const update = proto.update;
      let open: () => void = () => undefined;
      const gate = { waiting: 0, updated: 0, opened: new Promise<void>((r) => (open = r)), open: () => open() };
      (window as unknown as { sizeGate: typeof gate }).sizeGate = gate;
      proto.size = async function (this: unknown) {
        const n = await size.call(this);
        gate.waiting++;
        await gate.opened;
        return n;
      };
      proto.update = async function (this: unknown, d: unknown) {
        await update.call(this, d);
        gate.updated++;
      };
    });
    type Gate = { waiting: number; updated: number; open(): void };
    const gate = (): Promise<{ waiting: number; updated: number }> =>
      page.evaluate(() => {
        const g = (window as unknown as { sizeGate: Gate }).sizeGate;
        return { waiting: g.waiting, updated: g.updated };
      });
    await inject("burst");
    await waitFor("the second burst's count to wait at the gate", async () => (await gate()).waiting === 1, { timeoutMs: 30000 });
    await inject("burst");
    await waitFor("the third burst in the widget's table while that count waits", async () => (await gate()).updated === 2, { timeoutMs: 30000 });
    await page.evaluate(() => (window as unknown as { sizeGate: Gate }).sizeGate.open());
    // No delta comes after these: the count must still reach all 21 rows.
    await waitFor("the widget to count all three bursts", async () => (await widget(page))?.rows === 21, { timeoutMs: 10000 });
    await page.close();
  });

  it("replicates its table afresh when the page falls behind, and says so", async () => {
    // A page that applies deltas more slowly than they come (a busy machine, many widgets) used to fall further
    // behind for as long as the stream lasted, holding every delta not yet applied. Here its local tables stop
    // applying: their updates wait at a gate (every table of the page's Perspective module shares the prototype).
    const page = await context.newPage();
    await page.goto(`${nr.url}/dashboard/meters`);
    await waitFor("the widget to replicate the table", async () => (await widget(page))?.state === "live", { timeoutMs: 60000 });
    const status = (): Promise<string> => page.locator(".ui-perspective .ui-perspective-status").first().innerText({ timeout: 1000 }).catch(() => "");
    assert.equal(await status(), "", "a live widget without news shows no status line");
    const gate = await holdTableUpdates(page);
    // The widget's threshold is 5 s of backlog; the flow sends a delta every 250 ms.
    await waitFor("the widget to reload its table", async () => /fell \d+ s behind, reload/.test(await status()), { timeoutMs: 30000 });
    await gate.open();
    await waitFor("the widget live on a fresh replica, saying what happened", async () => {
      const s = await widget(page);
      return s?.state === "live" && /fell \d+ s behind, reloaded/.test(await status());
    }, { timeoutMs: 60000 });
    const newest = await newestTs(page);
    await waitFor("live updates on the new replica", async () => (await newestTs(page)) > newest, { timeoutMs: 30000 });
    await page.close();
  });

  it("examples/dashboard-2.json: the demo's four viewers beside a gauge of the newest voltage, fed through TDengine", async () => {
    const emu = await startEmulator({ port: 0 });
    const flows = (JSON.parse(readFileSync(join(packageRoot, "examples", "dashboard-2.json"), "utf8")) as Record<string, unknown>[]).map((n) =>
      n.type === "tdengine-config" ? { ...n, url: emu.wsUrl } : n,
    );
    const example = await startNodeRed({ flows, dashboard: true });
    try {
      const page = await context.newPage();
      const w = watchPage(page);
      await page.goto(`${example.url}/dashboard/meters`);
      await waitFor("four live viewers", async () => (await page.locator('.ui-perspective[data-state="live"]').count()) === 4, { timeoutMs: 60000 });
      await waitFor("the grid to show grouped rows", async () => (await page.locator(".ui-perspective regular-table tbody tr").count()) > 3, { timeoutMs: 60000 });
      await waitFor("the three charts to draw", async () => (await page.locator(".ui-perspective svg").count()) >= 3, { timeoutMs: 60000 });
      await waitFor("the gauge to show a voltage", async () => /2[0-4]\d/.test(await page.locator(".nrdb-ui-gauge").innerText().catch(() => "")), { timeoutMs: 30000 });
      const plugins = await page.evaluate(async () =>
        Promise.all(Array.from(document.querySelectorAll(".ui-perspective perspective-viewer")).map(async (v) => (await (v as unknown as { save(): Promise<{ plugin: string }> }).save()).plugin)),
      );
      assert.deepEqual(plugins, ["Datagrid", "Y Area", "Y Line", "Treemap"], "the demo page's four viewers");
      assert.deepEqual([...new Set(w.sockets.filter((u) => u.includes("/perspective/")))], [`${example.url.replace(/^http/, "ws")}/perspective/ws`], "one WebSocket for the four");
      assert.deepEqual(w.foreign, []);
      // Dashboard 2.0's "App is offline ready" notice would cover a corner of the picture.
      await page.getByRole("button", { name: "Close" }).click({ timeout: 2000 }).catch(() => undefined);
      mkdirSync(join(packageRoot, "test-results"), { recursive: true });
      const shot = join(packageRoot, "test-results", `ui-perspective-dashboard-${runtimeVersion}.png`);
      await page.screenshot({ path: shot });
      publishReadmePicture(shot, "dashboard-2");
      await page.close();
    } finally {
      await example.stop();
      await emu.stop();
    }
  });
});
