// `npm start` under faults, as a user meets them (issue 14, items 1, 3 and 5): kill -9 of the demo leaves no
// Node-RED or emulator behind on the ports and a second start works; the emulator is a process of its own that
// can be stopped and started alone; with TDengine unreachable the first failure reaches the Debug sidebar
// within seconds and once, the dashboard's config.json says why its table is missing, and Ctrl-C says how many
// buffered rows were not written and why.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { freePort } from "../support/free-port";
import { packageRoot } from "../support/node-red-process";
import { waitFor } from "../support/wait";
import { interrupt, portIsFree, printedUrls, startDemo, tdengineSql, type Demo } from "./demo-helpers";

interface DebugMessage {
  id: string;
  name?: string;
  msg: string;
}

/** The editor's Debug sidebar feed, read over Node-RED's comms WebSocket as the editor does. */
function debugFeed(nodeRedUrl: string): { messages: DebugMessage[]; close(): void } {
  const messages: DebugMessage[] = [];
  const ws = new WebSocket(nodeRedUrl.replace(/^http/, "ws") + "/comms");
  ws.on("open", () => ws.send(JSON.stringify({ subscribe: "debug" })));
  ws.on("message", (data) => {
    const list = JSON.parse(String(data)) as Array<{ topic: string; data: DebugMessage }>;
    for (const m of Array.isArray(list) ? list : [list]) if (m.topic === "debug") messages.push(m.data);
  });
  ws.on("error", () => undefined);
  return { messages, close: () => ws.close() };
}

describe("npm start under faults", () => {
  const dirs: string[] = [];
  const demos: Demo[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), "demo-faults-"));
    dirs.push(d);
    return d;
  };
  const start = (port: number, emulatorPort: number, env: NodeJS.ProcessEnv = {}): Demo => {
    const d = startDemo(port, emulatorPort, tempDir(), env);
    demos.push(d);
    return d;
  };
  after(async () => {
    for (const d of demos) if (d.process.exitCode === null && d.process.signalCode === null && (await interrupt(d)) !== 0) d.process.kill("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("kill -9 of the demo frees both ports and a second start works; the emulator stops and starts again alone", async () => {
    const port = await freePort();
    const emulatorPort = await freePort();
    const first = start(port, emulatorPort);
    await printedUrls(first);
    assert.equal(await portIsFree(port), false);
    assert.equal(await portIsFree(emulatorPort), false);

    first.process.kill("SIGKILL");
    await first.exit;
    // Node-RED and the emulator notice their parent is gone and stop: the ports come back.
    await waitFor("both ports free after kill -9", async () => (await portIsFree(port)) && (await portIsFree(emulatorPort)), { timeoutMs: 20000, intervalMs: 200 });

    const second = start(port, emulatorPort);
    const urls = await printedUrls(second);
    assert.equal((await fetch(urls.editor)).status, 200, "the second start serves the editor");

    // The emulator alone: stopped, Node-RED runs on; an emulator started again takes the writes.
    const pid = Number(/TDengine emulator .*\(process (\d+)\)/.exec(second.output())?.[1]);
    assert.ok(pid > 0, second.output());
    process.kill(pid, "SIGTERM");
    await waitFor("the demo to say the emulator stopped", () => /The TDengine emulator stopped/.test(second.output()), { timeoutMs: 10000 });
    assert.equal((await fetch(urls.editor)).status, 200, "Node-RED keeps running");
    const again = spawn(process.execPath, [join(packageRoot, "dist", "emulator", "cli.js"), "--port", String(emulatorPort)], { stdio: "ignore" });
    try {
      const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
      await waitFor("the restarted emulator to receive rows", async () => Number((await tdengineSql(emulatorUrl, "SELECT COUNT(*) FROM power.meters"))[0][0]) > 0, {
        timeoutMs: 30000,
        intervalMs: 250,
      });
      assert.equal(await interrupt(second), 0);
    } finally {
      again.kill("SIGINT");
    }
  });

  it("TDengine unreachable: one error in Debug within seconds, the missing table explained in config.json, Ctrl-C reports the unwritten rows", async () => {
    const port = await freePort();
    const closed = await freePort(); // nothing listens here
    const demo = start(port, await freePort(), { TDENGINE_URL: `ws://127.0.0.1:${closed}` });
    const urls = await printedUrls(demo);
    const nodeRedUrl = urls.editor.replace(/\/$/, "");
    const feed = debugFeed(nodeRedUrl);
    try {
      const deployedAt = Date.now();
      const first = await waitFor("the write node's first failure in the Debug sidebar", () => feed.messages.find((m) => /TDengine is not reachable/.test(m.msg)), {
        timeoutMs: 10000,
        intervalMs: 100,
      });
      assert.ok(Date.now() - deployedAt < 10000);
      assert.match(first.msg, /ECONNREFUSED|not connected/);

      // The dashboard's config: no table yet, and why.
      const config = await waitFor("the table listed as waiting, its source in error", async () => {
        const c = (await (await fetch(`${urls.dashboard}config.json`)).json()) as { waiting?: Array<{ name: string; health: { state: string; sources?: Array<{ type: string; lastError?: { message: string } }> } }> };
        return c.waiting?.[0]?.health.state === "error" ? c : undefined;
      }, { timeoutMs: 10000, intervalMs: 250 });
      assert.equal(config.waiting![0].name, "meters_values");
      assert.match(config.waiting![0].health.sources?.find((s) => s.type === "tdengine-poll")?.lastError?.message ?? "", /ECONNREFUSED/);

      // Some seconds later: still that one report, not one per message or per retry.
      const seen = feed.messages.length;
      await waitFor("more rows buffered", async () => Date.now() - deployedAt > 6000, { timeoutMs: 10000, intervalMs: 250 });
      const outageReports = feed.messages.filter((m) => /TDengine is not reachable/.test(m.msg));
      assert.equal(outageReports.length, 1, JSON.stringify(feed.messages.slice(seen)));
      assert.ok(feed.messages.length <= 3, `no flood in Debug: ${JSON.stringify(feed.messages.map((m) => m.msg))}`);
    } finally {
      feed.close();
    }

    // Ctrl-C: the buffered rows are lost, and the console says how many and why.
    assert.equal(await interrupt(demo), 0);
    const said = /(\d+) buffered rows were not written: TDengine was not reachable when the node stopped \(([^)]*)/.exec(demo.output());
    assert.ok(said, demo.output().slice(-2000));
    assert.ok(Number(said[1]) >= 250, `counted ${said[1]} rows`);
    assert.match(said[2], /ECONNREFUSED|not connected/);
  });
});
