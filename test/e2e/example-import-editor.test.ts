// The example as a user meets it, in headless Chromium against a real Node-RED of the runtime under test:
// Menu > Import > Examples > this package > flows > Import, point the TDengine connection at a taosAdapter
// (here the emulator on a free port: the same edit a user makes for a real TDengine, and it works when 6041 is
// taken), Deploy; then the dashboard shows rows of all 10 meters, and they keep coming. The screenshots it
// takes are the README's pictures (docs/images/) and are kept in test-results/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { startEmulator, type Emulator } from "../../emulator/index";
import { packageName, packageRoot, startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { publishReadmePicture } from "../support/readme-pictures";
import { runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";
import { METERS, exampleFlow, exampleNode, launchBrowser, type Browser } from "./demo-helpers";

/** Notifications ("Imported", "Successfully deployed") fade by themselves; the pictures do without them. */
async function withoutNotifications(page: Page): Promise<void> {
  await page.locator(".red-ui-notification").evaluateAll((els) => els.forEach((e) => e.remove()));
}

/** Runs a test step; when it fails, keeps a screenshot of the page and adds Node-RED's log to the error. */
async function explained(page: Page, nr: NodeRedProcess, name: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    mkdirSync(join(packageRoot, "test-results"), { recursive: true });
    await page.screenshot({ path: join(packageRoot, "test-results", `FAILED-${name}-node-red-${runtimeVersion}.png`) }).catch(() => undefined);
    (err as Error).message += `\n--- Node-RED output (end) ---\n${nr.output().slice(-3000)}`;
    throw err;
  }
}

/** Saves a screenshot in test-results/ (per runtime); with UPDATE_README_PICTURES=1 also as docs/images/<name>.png. */
async function picture(page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void> {
  const results = join(packageRoot, "test-results");
  mkdirSync(results, { recursive: true });
  const file = join(results, `${name}-node-red-${runtimeVersion}.png`);
  await page.screenshot({ path: file, clip });
  publishReadmePicture(file, name);
}

type RedWindow = {
  RED: {
    nodes: {
      getType(t: string): unknown;
      node(id: string): { status?: { text?: string; fill?: string } } | null;
      eachConfig(cb: (n: { type: string; url?: string }) => void): void;
    };
  };
};

describe(`the example, imported through the editor of Node-RED ${runtimeVersion}`, () => {
  let emu: Emulator;
  let nr: NodeRedProcess;
  let browser: Browser;
  before(async () => {
    emu = await startEmulator({ port: 0 });
    // As the demo's settings do: no update-check consent dialog over the editor (and no call home).
    nr = await startNodeRed({ settings: { telemetry: { enabled: false } } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await nr?.stop();
    await emu?.stop();
  });

  it("Menu > Import > Examples > package > flows > Import, set the connection URL, Deploy: the flow runs", async () => {
    const write = exampleNode("tdengine-write");
    const poll = exampleNode("tdengine-poll");
    const out = exampleNode("perspective-out");
    const page = await browser.context.newPage();
    await explained(page, nr, "import", async () => {
      await page.goto(nr.url);
      await page.waitForFunction(() => Boolean((window as unknown as RedWindow).RED?.nodes?.getType("tdengine-poll")), undefined, { timeout: 30000 });

      await page.click("#red-ui-header-button-sidemenu");
      await page.click("#menu-item-import");
      const dialog = page.locator("#red-ui-clipboard-dialog");
      await dialog.getByRole("link", { name: "Examples" }).click();
      const examples = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
      await examples.getByText(packageName, { exact: true }).click();
      // The tree is Examples > flows > <module> > <example>: pick "flows" inside this package's branch.
      const branch = examples.locator("li", { has: page.getByText(packageName, { exact: true }) }).last();
      await branch.getByText("flows", { exact: true }).click();
      await picture(page, "import-examples");
      await page.click("#red-ui-clipboard-dialog-ok");

      // The example comes in as its own tab, with its nodes and both config nodes.
      await waitFor("the imported nodes", () => page.evaluate((id) => Boolean((window as unknown as RedWindow).RED.nodes.node(id)), write.id));
      const shipped = exampleFlow().find((n) => n.type === "tdengine-config")!;
      assert.equal(shipped.url, "ws://127.0.0.1:6041", "the example points at a local taosAdapter");
      assert.ok(exampleFlow().every((n) => n.credentials === undefined && n.user === undefined && n.password === undefined), "no credentials in the file");

      // It is a new tab next to "Flow 1": open it.
      const tab = exampleFlow().find((n) => n.type === "tab")!;
      await page.locator("#red-ui-workspace-tabs").getByText(String(tab.label), { exact: true }).click();

      // Point the connection at the emulator: double-click the write node, edit its TDengine connection.
      await page.locator(`[id="${write.id}"]`).dblclick();
      await page.click("#node-input-btn-server-edit"); // the pencil next to "Connection"
      const url = page.locator("#node-config-input-url");
      await url.waitFor();
      assert.equal(await url.inputValue(), "ws://127.0.0.1:6041");
      await url.fill(emu.wsUrl);
      await waitFor("the tray to finish opening", async () => {
        const box = await page.locator("#node-config-dialog-ok").boundingBox();
        return box && box.x + box.width <= page.viewportSize()!.width;
      });
      await withoutNotifications(page);
      await picture(page, "connection");
      await page.click("#node-config-dialog-ok");
      await page.click("#node-dialog-ok");

      await page.click("#red-ui-header-button-deploy");
      await waitFor("the deploy", async () => {
        const flows = (await (await nr.admin("GET", "/flows")).json()) as { id: string; type: string; url?: string }[];
        return flows.some((n) => n.type === "tdengine-config" && n.url === emu.wsUrl) && flows.some((n) => n.id === out.id);
      });

      // Every node of the flow reports in its status: writing, polling, filling the table.
      const status = (id: string) => page.evaluate((nid) => (window as unknown as RedWindow).RED.nodes.node(nid)?.status ?? {}, id);
      for (const node of [write, poll, out]) {
        await waitFor(`a green status on ${node.type}`, async () => {
          const s = await status(node.id);
          return s.fill === "green" && s.text ? s : undefined;
        }, { timeoutMs: 20000, intervalMs: 100 });
      }
      await waitFor("the Perspective table to reach its limit of 1000 rows", async () => /^1[,.]?000 rows/.test((await status(out.id)).text ?? ""), { timeoutMs: 20000, intervalMs: 100 });
      await withoutNotifications(page);
      await picture(page, "editor");
      assert.doesNotMatch(nr.output(), /\[(?:error|warn)\] \[(?:tdengine|perspective)-/, "no node logged an error or warning");
    });
    await page.close();
  });

  it("the dashboard at /perspective/ shows rows of all 10 meters, and they keep coming", async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    await explained(page, nr, "dashboard", async () => {
      await page.goto(`${nr.url}/perspective/`);
      type Dash = { loads: number; table?: string; updates: number };
      await waitFor("the dashboard to show meters_values", () =>
        page.evaluate(() => {
          const d = (window as unknown as { dashboard: Dash }).dashboard;
          return d.loads > 0 && d.table === "meters_values";
        }), { timeoutMs: 30000 });

      const cities = ["San Francisco", "Los Angeles", "San Diego", "San Jose", "Palo Alto", "Campbell", "Mountain View", "Sunnyvale", "Santa Clara", "Cupertino"];
      // What the viewers hold: the meters and the newest timestamp, read through the page's own table.
      const sample = () =>
        page.evaluate(async () => {
          type V = { to_columns(): Promise<Record<string, unknown[]>>; delete(): Promise<void> };
          const viewer = document.getElementById("v1") as unknown as { getTable(): Promise<{ view(c: unknown): Promise<V> }> };
          const view = await (await viewer.getTable()).view({ columns: ["tbname", "ts", "location"] });
          const cols = await view.to_columns();
          await view.delete();
          return {
            meters: [...new Set(cols.tbname as string[])].sort(),
            locations: [...new Set(cols.location as string[])].sort(),
            rows: cols.ts.length,
            newest: Math.max(...(cols.ts as number[])),
          };
        });
      const first = await waitFor("rows of all 10 meters", async () => {
        const s = await sample();
        return s.meters.length === 10 ? s : undefined;
      }, { timeoutMs: 30000, intervalMs: 200 });
      assert.deepEqual(first.meters, METERS);
      assert.deepEqual(first.locations, [...cities].sort());
      await waitFor("newer rows to arrive", async () => {
        const s = await sample();
        return s.newest > first.newest && s.rows >= first.rows;
      }, { timeoutMs: 15000, intervalMs: 200 });

      // The grid groups by location and groupid: the producer's cities are on screen.
      const grid = page.locator("#v1 regular-table");
      await waitFor("the grid to list locations", async () => {
        const text = await grid.innerText();
        return cities.filter((city) => text.includes(city)).length >= 3;
      }, { timeoutMs: 15000, intervalMs: 200 });
      await waitFor("the charts to draw", async () => (await page.locator("#v3 svg path").count()) > 0 && (await page.locator("#v4 svg").count()) > 0, { timeoutMs: 15000 });
      await picture(page, "dashboard-demo");
      assert.deepEqual(problems, []);
    });
    await page.close();
  });
});
