// `npm start` as a user runs it: the demo program (what scripts/start.sh executes after building) on free
// ports with a userDir in a temp folder. It prints the URLs, the dashboard fills with all 10 meters, TDengine
// holds exactly the rows the producer made, the Perspective table holds the newest 1000 of them once each,
// and Ctrl-C stops everything with exit code 0 and gives both ports back.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/free-port";
import { packageRoot } from "../support/node-red-process";
import { runtimeName } from "../support/runtime";
import { waitFor } from "../support/wait";
import { METERS, duplicates, exampleNode, portIsFree, readPerspectiveTable, tdengineSql } from "./demo-helpers";

// The demo picks Node-RED by the Node it runs on, the same rule the suite uses to pick NR_RUNTIME.
const expectedNodeRed = runtimeName === "node-red" ? /Node-RED version: v5\./ : /Node-RED version: v4\.1\./;

describe(`npm start: the demo on Node ${process.versions.node}`, () => {
  let demo: ChildProcess;
  let output = "";
  let exit: Promise<number | null>;
  let port: number;
  let emulatorPort: number;
  let dir: string;
  let nodeRedUrl: string;
  const emulatorUrl = () => `http://127.0.0.1:${emulatorPort}`;

  before(async () => {
    port = await freePort();
    emulatorPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), "demo-"));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), EMULATOR_PORT: String(emulatorPort), DEMO_DIR: dir };
    delete env.TDENGINE_URL;
    demo = spawn(process.execPath, [join(packageRoot, "dist", "scripts", "demo.js")], { env, stdio: ["ignore", "pipe", "pipe"] });
    demo.stdout!.on("data", (d) => (output += d));
    demo.stderr!.on("data", (d) => (output += d));
    exit = new Promise((resolve) => demo.once("exit", (code) => resolve(code)));
  });

  after(async () => {
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.kill("SIGINT");
      const timer = setTimeout(() => demo.kill("SIGKILL"), 20000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the editor and dashboard URLs, serves the dashboard, and the Perspective table fills with all 10 meters", async () => {
    const urls = await waitFor("the demo to print its URLs", () => {
      if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${output}`);
      const editor = /Node-RED editor:\s+(http:\/\/\S+)/.exec(output)?.[1];
      const dashboard = /Perspective dashboard:\s+(http:\/\/\S+)/.exec(output)?.[1];
      return editor && dashboard ? { editor, dashboard } : undefined;
    }, { timeoutMs: 45000, intervalMs: 100 });
    nodeRedUrl = `http://127.0.0.1:${port}`;
    assert.equal(urls.editor, `${nodeRedUrl}/`);
    assert.equal(urls.dashboard, `${nodeRedUrl}/perspective/`);
    assert.match(output, expectedNodeRed);
    assert.match(output, new RegExp(`TDengine emulator .*127\\.0\\.0\\.1:${emulatorPort}`));

    const editor = await fetch(urls.editor);
    assert.equal(editor.status, 200);
    const page = await fetch(urls.dashboard);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<perspective-viewer/);

    // The example is deployed with its connection pointed at the emulator.
    const flows = (await (await fetch(`${nodeRedUrl}/flows`)).json()) as { id: string; type: string; url?: string }[];
    assert.equal(flows.find((n) => n.type === "tdengine-config")?.url, `ws://127.0.0.1:${emulatorPort}`);

    const table = await waitFor("the Perspective table to hold 1000 rows of all 10 meters", async () => {
      const cols = await readPerspectiveTable(nodeRedUrl, "meters_values", ["tbname", "ts"]);
      const meters = new Set(cols.tbname);
      return cols.tbname.length === 1000 && meters.size === 10 ? cols : undefined;
    }, { timeoutMs: 30000, intervalMs: 250 });
    assert.deepEqual([...new Set(table.tbname)].sort(), METERS);
  });

  it("writes exactly the rows the producer made, and the Perspective table holds the newest 1000 once each", async () => {
    const tick = exampleNode("inject");
    const producer = exampleNode("function");
    // Stop the producer as a user would: disable the inject node and deploy only what changed.
    const current = (await (await fetch(`${nodeRedUrl}/flows`, { headers: { "Node-RED-API-Version": "v2" } })).json()) as {
      flows: { id: string }[];
      rev: string;
    };
    const res = await fetch(`${nodeRedUrl}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "nodes" },
      body: JSON.stringify({ flows: current.flows.map((n) => (n.id === tick.id ? { ...n, d: true } : n)), rev: current.rev }),
    });
    assert.equal(res.status, 200, await res.text());

    // The producer counts the rows it made in its node context (Context sidebar); nothing makes more now.
    const ctx = (await (await fetch(`${nodeRedUrl}/context/node/${producer.id}/produced`)).json()) as { msg: string; format: string };
    assert.equal(ctx.format, "number");
    const produced = Number(ctx.msg);
    assert.ok(produced >= 1000 && produced % 250 === 0, `produced ${produced} rows in whole ticks of 250`);

    const count = async () => Number((await tdengineSql(emulatorUrl(), "SELECT COUNT(*) FROM power.meters"))[0][0]);
    await waitFor(`TDengine to hold the ${produced} rows made`, async () => (await count()) === produced, { timeoutMs: 20000, intervalMs: 100 });
    assert.equal(await count(), produced, "no row more, no row less");

    // The newest 1000 rows are 100 whole timestamps x 10 meters; the poller must have sent each exactly once.
    const newest = await tdengineSql(emulatorUrl(), "SELECT tbname, ts, voltage FROM power.meters ORDER BY ts DESC LIMIT 1000");
    const want = newest.map(([tb, ts, v]) => `${String(tb)}|${Date.parse(String(ts))}|${String(v)}`).sort();
    const got = await waitFor("the poller to deliver the last rows", async () => {
      const cols = await readPerspectiveTable(nodeRedUrl, "meters_values", ["tbname", "ts", "voltage", "groupid", "location"]);
      const keys = cols.tbname.map((tb, i) => `${String(tb)}|${Number(cols.ts[i])}|${String(cols.voltage[i])}`).sort();
      return keys.join() === want.join() ? cols : undefined;
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.deepEqual(duplicates(got.tbname, got.ts), [], "no (meter, ts) pair twice in the Perspective table");
    got.tbname.forEach((tb, i) => assert.equal(tb, `d_bind_${String(got.groupid[i])}`, "tag groupid belongs to its meter"));
    assert.equal(new Set(got.location).size, 10, "one location per meter");
  });

  it("stops on Ctrl-C (SIGINT) with exit code 0, and gives both ports back", async () => {
    demo.kill("SIGINT");
    const code = await Promise.race([exit, new Promise((r) => setTimeout(() => r("still running after 20 s"), 20000).unref())]);
    assert.equal(code, 0, output.slice(-2000));
    assert.ok(await portIsFree(port), `Node-RED's port ${port} is free`);
    assert.ok(await portIsFree(emulatorPort), `the emulator's port ${emulatorPort} is free`);
    assert.match(output, /Stopped flows/);
    assert.doesNotMatch(output, /\[(?:error|warn)\] \[(?:tdengine|perspective)-/, "no node logged an error or warning");
  });
});
