// The ui-perspective palette entry in the real editor (headless Chromium): there while Dashboard 2.0 is, gone
// when it is not, and back as soon as Dashboard 2.0 comes (Manage palette, no reload). Without Dashboard 2.0 a
// flow with the widget still loads and deploys, and the node's status in the editor says what is missing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";
import { launchBrowser, type Browser } from "./demo-helpers";

const DASHBOARD = "@flowfuse/node-red-dashboard";
const ENTRY = '.red-ui-palette-node[data-palette-type="ui-perspective"]';
const GAUGE = '.red-ui-palette-node[data-palette-type="ui-gauge"]';

type RedWindow = {
  RED: {
    nodes: { getType(t: string): unknown; node(id: string): { status?: { text?: string; fill?: string } } | null };
  };
};

/** Opens the editor and waits until every node's definition is in and the palette is drawn. */
async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => Boolean((window as unknown as RedWindow).RED?.nodes?.getType("perspective-out")), undefined, { timeout: 30000 });
  await page.locator('.red-ui-palette-node[data-palette-type="perspective-out"]').waitFor({ timeout: 30000 });
}

/** Whether the palette has a visible ui-perspective entry (0 entries, or 1 that is displayed). */
const entryShown = async (page: Page): Promise<boolean> => {
  const n = await page.locator(ENTRY).count();
  assert.ok(n <= 1, `${n} palette entries`);
  return n === 1 && (await page.locator(ENTRY).isVisible());
};

/** Types into the palette's search box: the palette shows every entry that matches. */
async function searchPalette(page: Page, text: string): Promise<void> {
  await page.locator("#red-ui-palette-search input").fill(text);
  await page.locator("#red-ui-palette-search input").press("Enter");
}

describe(`the ui-perspective palette entry in the editor of Node-RED ${runtimeVersion}`, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  describe("with Dashboard 2.0 installed, then disabled and enabled again through the admin API (as Manage palette does)", () => {
    let nr: NodeRedProcess;
    before(async () => {
      nr = await startNodeRed({ dashboard: true, flows: [{ id: "tab", type: "tab", label: "t" }] });
    });
    after(async () => nr?.stop());

    const setDashboard = async (enabled: boolean): Promise<void> => {
      const res = await nr.admin("PUT", `/nodes/${DASHBOARD}`, { enabled });
      assert.equal(res.status, 200, `${enabled ? "enable" : "disable"} Dashboard 2.0: ${await res.text()}`);
    };

    it("is in the palette beside Dashboard 2.0's widgets, leaves when Dashboard 2.0 does, and comes back with it", async () => {
      const page = await browser.context.newPage();
      await openEditor(page, nr.url);
      await waitFor("the gauge in the palette", () => page.locator(GAUGE).isVisible());
      assert.equal(await entryShown(page), true, "shown while Dashboard 2.0 is installed");
      const category = (sel: string) => page.locator(sel).evaluate((el) => el.closest(".red-ui-palette-category")?.id);
      assert.equal(await category(ENTRY), await category(GAUGE), "in Dashboard 2.0's category");

      // Disabled while the editor is open: the entry goes at once.
      await setDashboard(false);
      await waitFor("the entry to leave the palette", async () => !(await entryShown(page)));

      // A fresh editor without Dashboard 2.0 (its nodes are not even loaded in the editor now): no entry, and
      // searching the palette for it does not bring it back.
      await openEditor(page, nr.url);
      assert.equal(await page.locator(GAUGE).count(), 0, "Dashboard 2.0 is not in this editor");
      assert.equal(await entryShown(page), false, "absent without Dashboard 2.0");
      await searchPalette(page, "perspective");
      await waitFor("the search to show perspective out", () => page.locator('.red-ui-palette-node[data-palette-type="perspective-out"]').isVisible());
      assert.equal(await entryShown(page), false, "the palette's search does not show it");
      await searchPalette(page, "");

      // Dashboard 2.0 arrives while this editor is open (the editor then loads its nodes, as after an install).
      await setDashboard(true);
      await waitFor("Dashboard 2.0's gauge in the palette", () => page.locator(GAUGE).isVisible(), { timeoutMs: 20000 });
      await waitFor("the entry back in the palette", () => entryShown(page), { timeoutMs: 20000 });
      assert.equal(await category(ENTRY), await category(GAUGE), "in Dashboard 2.0's category");
      await page.close();
    });
  });

  describe("without Dashboard 2.0", () => {
    let nr: NodeRedProcess;
    before(async () => {
      nr = await startNodeRed({
        flows: [
          { id: "tab", type: "tab", label: "t" },
          { id: "w1", type: "ui-perspective", z: "tab", x: 200, y: 100, group: "group-of-a-missing-dashboard", table: "meters_values", layout: "", wires: [] },
        ],
      });
    });
    after(async () => nr?.stop());

    it("has no palette entry, yet a flow with the widget loads, and the node's status says Dashboard 2.0 is missing", async () => {
      const page = await browser.context.newPage();
      await openEditor(page, nr.url);
      assert.equal(await entryShown(page), false);
      await waitFor("the widget node on the canvas", () => page.locator('[id="w1"]').isVisible());
      const status = await waitFor("its status in the editor", () =>
        page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node("w1")?.status?.text),
      );
      assert.equal(status, "Dashboard 2.0 is not installed");
      await page.close();
    });
  });
});
