// The ui-perspective widget fed by a Perspective host on a port of its own, on a real Dashboard 2.0 page in
// headless Chromium: the browser loads Perspective and the table list from that port (another origin, allowed
// to this Node-RED's pages by CORS), replicates the table over that port's WebSocket and shows live rows; a
// page of another origin can neither read the host's table list nor open its WebSocket.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { freePort } from "../support/free-port";
import { startNodeRed, type NodeRedProcess } from "../support/node-red-process";
import { runtimeVersion } from "../support/runtime";
import { waitFor } from "../support/wait";
import { REPLICATION_REQUESTS, watchPage } from "./dashboard-helpers";
import { launchBrowser, type Browser } from "./demo-helpers";

const PRODUCER = `
const now = Date.now();
msg.payload = [0, 1, 2, 3, 4].map((i) => ({ ts: now, meter: "m" + i, voltage: 215 + i }));
return msg;`;

function flows(port: number): Record<string, unknown>[] {
  return [
    { id: "tab", type: "tab", label: "own port" },
    { id: "own", type: "perspective-config", name: "own port", path: "/own", port: String(port), bind: "127.0.0.1" },
    { id: "base", type: "ui-base", name: "Dashboard", path: "/dashboard", includeClientData: true, acceptsClientConfig: ["ui-notification", "ui-control"] },
    { id: "page1", type: "ui-page", name: "Meters", ui: "base", path: "/meters", icon: "home", layout: "grid", order: 1, className: "", visible: "true", disabled: false },
    { id: "group1", type: "ui-group", name: "Perspective", page: "page1", width: "12", height: "1", order: 1, showTitle: true, className: "", visible: "true", disabled: "false" },
    { id: "tick", type: "inject", z: "tab", x: 100, y: 40, repeat: "0.25", once: true, onceDelay: 0.1, topic: "", payload: "", payloadType: "date", wires: [["produce"]] },
    { id: "produce", type: "function", z: "tab", x: 300, y: 40, name: "rows", func: PRODUCER, outputs: 1, wires: [["out"]] },
    { id: "out", type: "perspective-out", z: "tab", x: 500, y: 40, server: "own", table: "meters", mode: "limit", limit: 500, interval: 50, tsUnit: "auto", schema: JSON.stringify({ ts: "datetime", meter: "string", voltage: "integer" }), wires: [] },
    { id: "grid", type: "ui-perspective", z: "tab", x: 500, y: 120, group: "group1", order: 1, width: "9", height: "6", server: "own", table: "meters", layout: "", followTheme: true, className: "", wires: [] },
  ];
}

describe(`ui-perspective with a Perspective host on its own port, in Chromium (Node-RED ${runtimeVersion})`, () => {
  let nr: NodeRedProcess;
  let browser: Browser;
  let port: number;
  let elsewhere: Server;
  let elsewhereUrl: string;
  before(async () => {
    port = await freePort();
    nr = await startNodeRed({ dashboard: true, flows: flows(port) });
    browser = await launchBrowser();
    // A page of another origin, trying to read the host from the browser.
    elsewhere = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<!doctype html><title>elsewhere</title>");
    });
    await new Promise<void>((r) => elsewhere.listen(0, "127.0.0.1", () => r()));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}/`;
  });
  after(async () => {
    await browser?.close();
    await nr?.stop();
    await new Promise((r) => elsewhere?.close(r));
  });

  const widget = (page: Page) =>
    page.evaluate(() => {
      const el = document.querySelector<HTMLElement>(".ui-perspective");
      return el ? { state: el.dataset.state ?? "", rows: Number(el.dataset.rows || 0), text: el.innerText.slice(0, 200) } : null;
    });

  it("shows live rows replicated from the host's own port", async () => {
    const page = await browser.context.newPage();
    const w = watchPage(page);
    await page.goto(`${nr.url}/dashboard/meters`);
    await waitFor("the widget to replicate the table", async () => (await widget(page))?.state === "live", { timeoutMs: 60000 });
    await waitFor("the grid to show rows", async () => /m3/.test(await page.locator(".ui-perspective regular-table").innerText().catch(() => "")), { timeoutMs: 60000 });
    const first = (await widget(page))!.rows;
    await waitFor("more rows to arrive", async () => (await widget(page))!.rows > first, { timeoutMs: 30000 });
    assert.deepEqual([...new Set(w.sockets.filter((u) => u.includes("/own/")))], [`ws://127.0.0.1:${port}/own/ws`], "the host's own port");
    const kinds = [...new Set(w.sent.map((r) => r.kind))];
    assert.deepEqual(kinds.filter((k) => !REPLICATION_REQUESTS.has(k)), [], "only replication requests");
    assert.deepEqual(w.problems.filter((m) => /perspective|own/i.test(m)), []);
    await page.close();
  });

  it("a page of another origin can neither read the host's table list nor open its WebSocket", async () => {
    const page = await browser.context.newPage();
    await page.goto(elsewhereUrl);
    const tried = await page.evaluate(async (p) => {
      const list = await fetch(`http://127.0.0.1:${p}/own/config.json`).then(() => "read", (e: Error) => `refused: ${e.message}`);
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${p}/own/ws`);
        ws.onopen = () => (ws.close(), resolve("open"));
        ws.onerror = () => resolve("refused");
      });
      return { list, socket };
    }, port);
    assert.match(tried.list, /^refused/);
    assert.equal(tried.socket, "refused");
    await page.close();
  });
});
