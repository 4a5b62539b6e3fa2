// `npm start` as a user runs it: the demo program (what scripts/start.sh executes after building) on free
// ports with a userDir in a temp folder. It prints the URLs, the dashboard fills with all 10 meters, TDengine
// holds exactly the rows the producer made, the Perspective table holds the newest 1000 of them once each,
// and Ctrl-C stops everything with exit code 0 and gives both ports back.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/free-port";
import { runtimeName } from "../support/runtime";
import { waitFor } from "../support/wait";
import { METERS, duplicates, exampleNode, interrupt, portIsFree, printedUrls, readPerspectiveTable, startDemo, tdengineSql, type Demo } from "./demo-helpers";

// The demo picks Node-RED by the Node it runs on (5 on Node >= 22.9 once installed in tools/node22, as the
// suite's Node-RED 5 run has it), the same rule the suite uses when NR_RUNTIME is unset.
const expectedNodeRed = runtimeName === "node-red-5" ? /Node-RED version: v5\./ : /Node-RED version: v4\.1\./;

/** Waits until the Perspective table holds its 1000 rows, from all 10 meters. */
function tableOfAllMeters(nodeRedUrl: string): Promise<Record<string, unknown[]>> {
  return waitFor("the Perspective table to hold 1000 rows of all 10 meters", async () => {
    const cols = await readPerspectiveTable(nodeRedUrl, "meters_values", ["tbname", "ts"]);
    return cols.tbname.length === 1000 && new Set(cols.tbname).size === 10 ? cols : undefined;
  }, { timeoutMs: 30000, intervalMs: 250 });
}

describe(`npm start: the demo on Node ${process.versions.node}`, () => {
  let demo: Demo;
  let port: number;
  let emulatorPort: number;
  let dir: string;
  let nodeRedUrl: string;
  const emulatorUrl = () => `http://127.0.0.1:${emulatorPort}`;

  before(async () => {
    port = await freePort();
    emulatorPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), "demo-"));
    nodeRedUrl = `http://127.0.0.1:${port}`;
    demo = startDemo(port, emulatorPort, dir);
  });

  after(async () => {
    if (demo.process.exitCode === null && demo.process.signalCode === null && (await interrupt(demo)) !== 0) demo.process.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the editor and dashboard URLs, serves the dashboard, and the Perspective table fills with all 10 meters", async () => {
    const urls = await printedUrls(demo);
    assert.equal(urls.editor, `${nodeRedUrl}/`);
    assert.equal(urls.dashboard, `${nodeRedUrl}/perspective/`);
    assert.match(demo.output(), expectedNodeRed);
    assert.match(demo.output(), new RegExp(`TDengine emulator .*127\\.0\\.0\\.1:${emulatorPort}`));

    const editor = await fetch(urls.editor);
    assert.equal(editor.status, 200);
    const page = await fetch(urls.dashboard);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<perspective-viewer/);

    // The example is deployed with its connection pointed at the emulator.
    const flows = (await (await fetch(`${nodeRedUrl}/flows`)).json()) as { id: string; type: string; url?: string }[];
    assert.equal(flows.find((n) => n.type === "tdengine-config")?.url, `ws://127.0.0.1:${emulatorPort}`);

    const table = await tableOfAllMeters(nodeRedUrl);
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
    assert.equal(await interrupt(demo), 0, demo.output().slice(-2000));
    assert.ok(await portIsFree(port), `Node-RED's port ${port} is free`);
    assert.ok(await portIsFree(emulatorPort), `the emulator's port ${emulatorPort} is free`);
    assert.match(demo.output(), /Stopped flows/);
    assert.doesNotMatch(demo.output(), /\[(?:error|warn)\] \[(?:tdengine|perspective)-/, "no node logged an error or warning");
  });

  it("starts again in the same directory and on the same ports, and stops again", async () => {
    demo = startDemo(port, emulatorPort, dir);
    const urls = await printedUrls(demo);
    assert.equal(urls.dashboard, `${nodeRedUrl}/perspective/`);
    await tableOfAllMeters(nodeRedUrl).catch((err: Error) => {
      throw new Error(`${err.message}\n--- demo output ---\n${demo.output().slice(-3000)}`);
    });
    assert.equal(await interrupt(demo), 0, demo.output().slice(-2000));
    assert.ok(await portIsFree(port));
    assert.ok(await portIsFree(emulatorPort));
  });
});
