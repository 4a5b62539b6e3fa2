// The watermark survives a Node-RED restart when the node's context store is persistent: the second run
// sends only the rows written after the first run's last message (none repeated, none lost).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileContextSettings, openContextStores, shutDownContext } from "../support/context-store";
import { FakeTdengineClient } from "../support/fake-tdengine-client";
import { fakeClients, fakeTdengineConfig } from "../support/fake-tdengine-config";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");

type Msg = { payload: { tbname: string; ts: number }[] };

const flow = (contextStore: string): object[] => [
  { id: "f1", type: "tab", label: "persist" },
  { id: "cfg", type: "tdengine-config", database: "power" },
  {
    id: "poll",
    z: "f1",
    type: "tdengine-poll",
    server: "cfg",
    table: "meters",
    columns: "v",
    start: "everything",
    interval: 10,
    timestamps: "ms",
    contextStore,
    wires: [["out"]],
  },
  { id: "out", z: "f1", type: "helper" },
];

function collect(): string[] {
  const got: string[] = [];
  helper.getNode("out").on("input", (m: Msg) => got.push(...m.payload.map((r) => `${r.tbname}@${r.ts}`)));
  return got;
}

function readAll(dir: string): string {
  let text = "";
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) text += readFileSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), "utf8");
  }
  return text;
}

describe("tdengine-poll: watermark in a persistent context store", () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "poll-context-"));
    helper.settings(fileContextSettings(dir));
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    rmSync(dir, { recursive: true, force: true });
  });

  it("a restart resumes after the last row sent, also for rows sharing the watermark's timestamp", async () => {
    const client = new FakeTdengineClient("us");
    fakeClients.set("cfg", client);
    for (let t = 0; t < 4; t++) client.insert(`d${t}`, 1_000_000, { v: t });

    await helper.load([fakeTdengineConfig, pollNode, openContextStores], flow("file"));
    const first = collect();
    await waitFor("first run rows", () => first.length === 4);
    await shutDownContext();
    await helper.unload();
    assert.match(readAll(dir), /"watermark":\s*"1000000"/, "the watermark is on disk");

    // Written while Node-RED was down: more subtables at the same timestamp, and a newer row.
    for (let t = 4; t < 6; t++) client.insert(`d${t}`, 1_000_000, { v: t });
    client.insert("d0", 2_000_000, { v: 9 });
    const seenBefore = client.queries.length;

    await helper.load([fakeTdengineConfig, pollNode, openContextStores], flow("file"));
    const second = collect();
    await waitFor("second run rows", () => second.length === 3);
    await waitFor("a few more polls", () => client.queries.length >= seenBefore + 5);
    assert.deepEqual(second.sort(), ["d0@2000", "d4@1000", "d5@1000"]);
    assert.equal(client.queries[seenBefore].params[0], 1_000_000n, "first poll after the restart starts at the saved watermark");
    await shutDownContext();
    await helper.unload();
  });

  it("with the memory store a restart starts again from the start position (documented)", async () => {
    const client = new FakeTdengineClient("ms");
    fakeClients.set("cfg", client);
    client.insert("d0", 5, { v: 1 });
    await helper.load([fakeTdengineConfig, pollNode, openContextStores], flow(""));
    const first = collect();
    await waitFor("rows", () => first.length === 1);
    await shutDownContext();
    await helper.unload();
    await helper.load([fakeTdengineConfig, pollNode, openContextStores], flow(""));
    const second = collect();
    await waitFor("rows again", () => second.length === 1);
    await shutDownContext();
    await helper.unload();
  });
});
