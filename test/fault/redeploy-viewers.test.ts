// 50 full redeploys of a tdengine-poll -> perspective-out flow while Perspective clients (the browser's protocol,
// from @finos/perspective in node) stay connected: afterwards no socket, upgrade listener, timer or memory has
// piled up, and the tables still serve fresh rows to the connected clients and to new ones.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Server } from "node:http";
import { startEmulator, type Emulator } from "../../emulator";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { viewColumns } from "../support/replica";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const pollNode = nodeModule("tdengine-poll");
const outNode = nodeModule("perspective-out");
const REDEPLOYS = 50;

function handles(): Record<string, number> {
  const all = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  const by: Record<string, number> = {};
  for (const h of all) by[h.constructor?.name ?? "?"] = (by[h.constructor?.name ?? "?"] ?? 0) + 1;
  return by;
}
function heap(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed;
}

export const figures: Record<string, unknown> = {};

describe(`${REDEPLOYS} redeploys with viewers connected`, () => {
  let emu: Emulator;
  const clients: Client[] = [];
  before(async () => {
    emu = await startEmulator();
    emu.sql("CREATE DATABASE live");
    emu.sql("CREATE STABLE live.meters (ts TIMESTAMP, voltage INT) TAGS (groupid INT)");
    await helper.startServer();
  });
  after(async () => {
    for (const c of clients) await c.terminate().catch(() => undefined);
    await helper.unload();
    await helper.stopServer();
    await emu.stop();
    console.log(`# redeploy figures: ${JSON.stringify(figures)}`);
  });

  let seq = 0;
  function insert(n: number, db = "live"): void {
    const values = Array.from({ length: n }, () => `(${Date.now() - 600_000 + seq++}, ${seq % 300})`).join(" ");
    emu.sql(`INSERT INTO ${db}.d1 USING ${db}.meters TAGS (1) VALUES ${values}`);
  }
  function flow(generation: number, db = "live"): object[] {
    return [
      { id: "tab", type: "tab", label: `redeploy ${generation}` },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 2000, maxBackoff: 200 },
      { id: "poll", type: "tdengine-poll", z: "tab", server: "cfg", mode: "table", table: "meters", columns: "voltage", tags: "groupid", start: "everything", interval: 20, timestamps: "ms", wires: [["out"]] },
      { id: "out", type: "perspective-out", z: "tab", table: "meters", mode: "limit", limit: 100000, interval: 10, name: `g${generation}`, wires: [] },
    ];
  }
  const CREDS = { cfg: { user: "root", password: "taosdata" } };

  it("leaves no socket, listener, timer or memory behind, and the tables keep serving", async () => {
    insert(100);
    await helper.load([configNode, pollNode, outNode], flow(0), CREDS);
    const server = (helper as unknown as { _server: Server })._server;
    const wsUrl = helper.url().replace(/^http/, "ws") + "/perspective/ws";
    const psp = await loadPerspective();
    for (let i = 0; i < 3; i++) {
      const c = await psp.default.websocket(wsUrl);
      void c.on_error(() => undefined);
      clients.push(c);
    }
    const sizeSeen = async (c: Client, n: number): Promise<boolean> => {
      try {
        const t = await c.open_table("meters");
        return (await t.size()) >= n;
      } catch {
        return false;
      }
    };
    await waitFor("viewers see the first rows", async () => (await Promise.all(clients.map((c) => sizeSeen(c, 100)))).every(Boolean));
    await waitFor("one TDengine connection", () => emu.stats().connections === 1);
    // Warm-up redeploys, then the baseline: first deploys allocate caches that are not leaks.
    for (let g = 1; g <= 3; g++) await helper.setFlows(flow(g), "full", CREDS);
    await waitFor("settled", () => emu.stats().connections === 1);
    const base = { handles: handles(), upgrade: server.listeners("upgrade").length, heap: heap() };
    let rowsWritten = 100;
    for (let g = 4; g < REDEPLOYS + 4; g++) {
      insert(20);
      rowsWritten += 20;
      await helper.setFlows(flow(g), "full", CREDS);
    }
    insert(50);
    rowsWritten += 50;
    await waitFor("TDengine connections back to one", () => emu.stats().connections === 1);
    // Connected viewers and a new one read every row.
    const late = await psp.default.websocket(wsUrl);
    void late.on_error(() => undefined);
    clients.push(late);
    await waitFor(`viewers see all ${rowsWritten} rows`, async () => (await Promise.all(clients.map((c) => sizeSeen(c, rowsWritten)))).every(Boolean), { timeoutMs: 20000 });
    const t = await late.open_table("meters");
    const view = await t.view({ columns: ["ts"] });
    const col = (await viewColumns(view)) as { ts: number[] };
    await view.delete();
    // Every row is there, once: the poll node resumes from its watermark after each deploy even though
    // Node-RED drops its context (no persistent store configured here).
    assert.equal(new Set(col.ts).size, rowsWritten, "every row reached the table");
    assert.equal(col.ts.length, rowsWritten, "no row reached the table twice");
    const now = { handles: handles(), upgrade: server.listeners("upgrade").length, heap: heap() };
    assert.equal(now.upgrade, base.upgrade, "no upgrade listener piled up");
    const sockets = (h: Record<string, number>): number => (h.Socket ?? 0) + (h.TLSSocket ?? 0);
    // One more Perspective client (`late`) is connected now: two more sockets (client and server side).
    assert.ok(sockets(now.handles) <= sockets(base.handles) + 2, `sockets ${JSON.stringify(base.handles)} -> ${JSON.stringify(now.handles)}`);
    assert.ok((now.handles.Timeout ?? 0) <= (base.handles.Timeout ?? 0) + 3, `timers ${JSON.stringify(base.handles)} -> ${JSON.stringify(now.handles)}`);
    const grewMB = (now.heap - base.heap) / 2 ** 20;
    assert.ok(grewMB < 40, `heap grew ${grewMB.toFixed(1)} MB over ${REDEPLOYS} redeploys`);
    Object.assign(figures, { redeploys: REDEPLOYS, viewers: clients.length, rowsWritten, upgradeListeners: `${base.upgrade} -> ${now.upgrade}`, sockets: `${sockets(base.handles)} -> ${sockets(now.handles)}`, heapGrowthMB: grewMB.toFixed(1), tdengineConnections: emu.stats().connections });
  });
});
