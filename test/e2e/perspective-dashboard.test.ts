// The dashboard page in headless Chromium against a real Node-RED fed by a flow (inject + function producing
// demo-like power-meter rows with msg.columns, as tdengine-poll sends them, into perspective-out): the four
// viewers render rows, new rows keep arriving, nothing fails in the console and nothing is fetched from
// anywhere but this Node-RED. Keeps a screenshot.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startNodeRed, packageRoot, type NodeRedProcess } from "../support/node-red-process";
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

const FLOWS = [
  { id: "tab", type: "tab", label: "dashboard e2e" },
  { id: "tick", type: "inject", z: "tab", repeat: "0.25", once: true, onceDelay: 0.1, topic: "", payload: "", payloadType: "date", wires: [["produce"]] },
  { id: "produce", type: "function", z: "tab", name: "demo rows", func: PRODUCER, outputs: 1, wires: [["out"]] },
  { id: "out", type: "perspective-out", z: "tab", name: "", table: "meters_values", mode: "limit", limit: 1000, interval: 50, tsUnit: "auto", wires: [] },
];

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe(`the Perspective dashboard page in Chromium (Node-RED ${runtimeVersion})`, () => {
  let nr: NodeRedProcess;
  let context: BrowserContext;
  let profile: string;
  before(async () => {
    nr = await startNodeRed({ flows: FLOWS });
    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    context = await chromium.launchPersistentContext(profile, {
      // Debian's Chromium, which scripts/test.sh installs; CHROMIUM_PATH points elsewhere.
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

  it("shows the table in four viewers, updates live, with no console errors and no request leaving 127.0.0.1", async () => {
    const page: Page = await context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (!["http:", "https:", "ws:", "wss:"].includes(u.protocol)) return; // data: URLs
      if (u.hostname !== "127.0.0.1") foreign.push(r.url());
    });
    const sockets: string[] = [];
    page.on("websocket", (w) => sockets.push(w.url()));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });

    await page.goto(`${nr.url}/perspective/`);
    await waitFor("the dashboard to load the table", () => page.evaluate(() => (window as unknown as { dashboard: { loads: number } }).dashboard?.loads > 0), { timeoutMs: 30000 });
    assert.equal(await page.locator("#table-picker").inputValue(), "meters_values");
    assert.equal(await page.locator("#connection").textContent(), "connected");

    const count = (sel: string) => page.locator(sel).count();
    await waitFor("the grid to show grouped rows", async () => (await count("#v1 regular-table tbody tr")) > 3, { timeoutMs: 30000 });
    await waitFor("the area chart to draw", async () => (await count("#v2 svg path")) > 0, { timeoutMs: 30000 });
    await waitFor("the line chart to draw", async () => (await count("#v3 svg path")) > 0, { timeoutMs: 30000 });
    await waitFor("the treemap to draw", async () => (await count("#v4 svg")) > 0, { timeoutMs: 30000 });
    const plugins = await page.evaluate(async () =>
      Promise.all(["v1", "v2", "v3", "v4"].map(async (id) => ((await (document.getElementById(id) as unknown as { save(): Promise<{ plugin: string }> }).save()).plugin))),
    );
    assert.deepEqual(plugins, ["Datagrid", "Y Area", "Y Line", "Treemap"]);
    const grid = await page.locator("#v1 regular-table").innerText();
    assert.match(grid, /California\.SanJose/, "grouped by location");

    type Dash = { updates: number; rows: number };
    const first = await page.evaluate(() => ({ ...(window as unknown as { dashboard: Dash }).dashboard }));
    await waitFor("new rows to reach the page", () =>
      page.evaluate((u) => (window as unknown as { dashboard: Dash }).dashboard.updates >= u + 3, first.updates),
    );
    const later = await page.evaluate(() => ({ ...(window as unknown as { dashboard: Dash }).dashboard }));
    assert.ok(later.rows >= first.rows, "the table grows (up to its limit)");

    mkdirSync(join(packageRoot, "test-results"), { recursive: true });
    const shot = join(packageRoot, "test-results", `perspective-dashboard-${runtimeVersion}.png`);
    await page.screenshot({ path: shot });
    publishReadmePicture(shot, "dashboard");

    assert.deepEqual(problems, []);
    assert.deepEqual(foreign, []);
    assert.deepEqual(sockets, [`${nr.url.replace(/^http/, "ws")}/perspective/ws`], "one WebSocket for all four viewers");
    await page.close();
  });

  it("keeps a user's layout in the browser and resets it on request", async () => {
    const page = await context.newPage();
    type Dash = { loads: number };
    const loads = () => page.evaluate(() => (window as unknown as { dashboard: Dash }).dashboard?.loads ?? 0);
    const pluginOf = (id: string) =>
      page.evaluate(async (i) => (await (document.getElementById(i) as unknown as { save(): Promise<{ plugin: string }> }).save()).plugin, id);
    await page.goto(`${nr.url}/perspective/`);
    await waitFor("the dashboard to load", async () => (await loads()) > 0, { timeoutMs: 30000 });
    await page.evaluate(() => (document.getElementById("v2") as unknown as { restore(c: object): Promise<void> }).restore({ plugin: "Y Bar" }));
    await page.click("#save-layout");
    await waitFor("the layout to be stored", () => page.evaluate(() => Object.keys(localStorage).some((k) => k.includes(":layout:meters_values"))));
    await page.reload();
    await waitFor("the dashboard to load again", async () => (await loads()) > 0, { timeoutMs: 30000 });
    assert.equal(await pluginOf("v2"), "Y Bar", "the saved layout is restored after a reload");
    const before = await loads();
    await page.click("#reset-layout");
    await waitFor("the viewers to be reloaded", async () => (await loads()) > before);
    assert.equal(await pluginOf("v2"), "Y Area", "back to the default dashboard");
    await page.close();
  });
  it("switches to the new table by itself when a deploy changes the table's columns", async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    type Dash = { loads: number; entity: string; updates: number };
    const dash = () => page.evaluate(() => ({ ...(window as unknown as { dashboard: Dash }).dashboard }));
    await page.goto(`${nr.url}/perspective/`);
    await waitFor("the dashboard to load", async () => (await dash()).loads > 0, { timeoutMs: 30000 });
    const before = await dash();
    // The producer gains a column: perspective-out replaces the table, the page follows.
    const withEnergy = FLOWS.map((n) =>
      n.id === "produce"
        ? { ...n, func: PRODUCER.replace("tbname: \"d\" + i });", "tbname: \"d\" + i, energy: i * 1.5 });").replace("];\nreturn msg;", '  { name: "energy", type: 7, typeName: "DOUBLE", length: 8 },\n];\nreturn msg;') }
        : n,
    );
    assert.notDeepEqual(withEnergy, FLOWS);
    await nr.deploy(withEnergy, "full");
    await waitFor("the page to load the new table", async () => {
      const d = await dash();
      return d.entity !== before.entity && d.loads > before.loads;
    }, { timeoutMs: 30000 });
    const schema = await page.evaluate(async () => {
      const v = document.getElementById("v1") as unknown as { getTable(): Promise<{ schema(): Promise<Record<string, string>> }> };
      return (await v.getTable()).schema();
    });
    assert.equal(schema.energy, "float");
    const u = (await dash()).updates;
    await waitFor("live updates on the new table", async () => (await dash()).updates > u + 2);
    assert.deepEqual(problems, []);
    await nr.deploy(FLOWS, "full");
    await page.close();
  });

  it("reconnects by itself when Node-RED restarts", async () => {
    const page = await context.newPage();
    await page.goto(`${nr.url}/perspective/`);
    type Dash = { loads: number; connected: boolean; updates: number };
    const dash = () => page.evaluate(() => ({ ...(window as unknown as { dashboard: Dash }).dashboard }));
    await waitFor("the dashboard to load", async () => (await dash()).loads > 0, { timeoutMs: 30000 });
    const loads = (await dash()).loads;
    // Restart Node-RED for real: same userDir, same settings, same port.
    nr.process.kill("SIGINT");
    await new Promise((r) => (nr.process.exitCode !== null ? r(null) : nr.process.once("exit", r)));
    await waitFor("the page to notice", async () => !(await dash()).connected);
    const again = spawn(process.execPath, [join(runtimeDir, "red.js"), "-u", nr.userDir, "-s", join(nr.userDir, "settings.js")], { stdio: "ignore" });
    try {
      await waitFor("Node-RED to be back", async () => (await fetch(nr.url + "/settings").catch(() => undefined))?.ok, { timeoutMs: 60000 });
      await waitFor("the page to reconnect and reload its viewers", async () => {
        const d = await dash();
        return d.connected && d.loads > loads;
      }, { timeoutMs: 30000 });
      const u = (await dash()).updates;
      await waitFor("live updates after the restart", async () => (await dash()).updates > u + 2);
    } finally {
      again.kill("SIGINT");
      await new Promise((r) => (again.exitCode !== null ? r(null) : again.once("exit", r)));
    }
    await page.close();
  });
});
