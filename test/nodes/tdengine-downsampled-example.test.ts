// examples/tdengine-downsampled.json works as shipped: its tdengine-poll (SQL mode, INTERVAL(1s) + PARTITION BY
// location) and perspective-out nodes, deployed against the emulator, put one row per location and complete
// second into the Perspective table meters_1s, with the averages TDengine would compute, and never the
// still-filling current second.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { loadPerspective, type Client } from "../../lib/perspective/load";
import helper from "../support/helper";
import { root } from "../support/package-info";
import { replicaRows } from "../support/replica";
import { waitFor } from "../support/wait";

import configNode = require("../../nodes/tdengine-config/tdengine-config");
import pollNode = require("../../nodes/tdengine-poll/tdengine-poll");
const perspectiveOut = require("../../nodes/perspective-out/perspective-out");
const perspectiveConfig = require("../../nodes/perspective-config/perspective-config");

type ExampleNode = Record<string, unknown> & { id: string; type: string };
const example: ExampleNode[] = JSON.parse(readFileSync(join(root, "examples", "tdengine-downsampled.json"), "utf8"));
const byType = (t: string): ExampleNode => example.find((n) => n.type === t)!;

describe("examples/tdengine-downsampled.json", () => {
  let emu: Emulator;
  let client: Client | undefined;
  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
    await loadPerspective();
  });
  after(async () => {
    await client?.terminate().catch(() => undefined);
    await helper.unload();
    await helper.stopServer();
    await emu.stop();
  });

  it("polls INTERVAL(1s) PARTITION BY location averages into the meters_1s Perspective table", async () => {
    const poll = byType("tdengine-poll");
    const out = byType("perspective-out");
    assert.equal(poll.mode, "sql");
    assert.match(String(poll.sql), /INTERVAL\(1s\)/);
    assert.match(String(poll.sql), /PARTITION BY location/);
    assert.deepEqual(poll.wires, [[out.id]]);
    assert.equal(out.table, "meters_1s");

    emu.sql("CREATE DATABASE power PRECISION 'ms'");
    emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))");
    // Two complete seconds, ten seconds ago, and one row in a second that has not ended yet: 5 minutes ahead, so
    // that on a slow machine it is not complete by the time the test reads the table (as "now" would be).
    const base = Math.floor((Date.now() - 10_000) / 1000) * 1000;
    emu.sql(`INSERT INTO power.d0 USING power.meters TAGS (0, 'SF') VALUES (${base + 100}, 1, 220, 0.5) (${base + 600}, 3, 222, 0.5) (${base + 1100}, 5, 224, 0.5)`);
    emu.sql(`INSERT INTO power.d1 USING power.meters TAGS (1, 'LA') VALUES (${base + 200}, 10, 230, 0.5)`);
    emu.sql(`INSERT INTO power.d2 USING power.meters TAGS (2, 'SF') VALUES (${base + 300}, 2, 230, 0.5) (${Date.now() + 300_000}, 99, 999, 0.5)`);

    const cfg = byType("tdengine-config");
    const nodes = example
      .filter((n) => ["tab", "tdengine-config", "tdengine-poll", "perspective-config", "perspective-out"].includes(n.type))
      .map((n) => (n.type === "tdengine-config" ? { ...n, url: emu.wsUrl } : n.type === "tdengine-poll" ? { ...n, interval: 200 } : n));
    await helper.load([configNode, pollNode, perspectiveConfig, perspectiveOut], nodes, { [cfg.id]: { user: "root", password: "taosdata" } });

    const psp = await loadPerspective();
    const path = String(byType("perspective-config").path);
    client = await psp.default.websocket(`${helper.url().replace(/^http/, "ws")}${path}/ws`);
    void client.on_error(() => undefined);
    const rows = async (): Promise<Record<string, unknown>[]> => {
      const names = await client!.get_hosted_table_names();
      if (!names.includes("meters_1s")) return [];
      return replicaRows(client!, "meters_1s");
    };
    let got: Record<string, unknown>[] = [];
    await waitFor("three averaged rows in meters_1s", async () => (got = await rows()).length >= 3, { timeoutMs: 15_000 });
    const view = got
      .map((r) => ({ ts: Number(r.ts), location: r.location, current: r.current, voltage: r.voltage, samples: Number(r.samples) }))
      .sort((a, b) => a.ts - b.ts || String(a.location).localeCompare(String(b.location)));
    assert.deepEqual(view, [
      { ts: base, location: "LA", current: 10, voltage: 230, samples: 1 },
      { ts: base, location: "SF", current: 2, voltage: (220 + 222 + 230) / 3, samples: 3 },
      { ts: base + 1000, location: "SF", current: 5, voltage: 224, samples: 1 },
    ]);
  });
});
