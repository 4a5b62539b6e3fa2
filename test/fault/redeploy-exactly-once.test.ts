// tdengine-poll across full deploys when a deploy comes between a poll's send and Node-RED's delivery of that
// message: Node-RED then hands the message to the destination that is already stopped, which drops it. The
// poll node had saved its watermark past those rows, so they were lost (about 1 deploy in 6 right after inserts
// in a real Node-RED). Here the race is made to happen every time: a preDeliver hook holds the poll node's
// message until the old destination has been stopped by the deploy, then lets it go. The rows must still reach
// the new destination, each exactly once.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import pollModule = require("../../nodes/tdengine-poll/tdengine-poll");

type Msg = { payload: { tbname: string; ts: number }[] };
interface Hooks {
  add(name: string, fn: (ev: { source?: { id?: string } }) => unknown): void;
  remove(name: string): void;
}
interface NodeLike {
  on(event: "input", fn: (m: Msg) => void): void;
  on(event: "close", fn: () => void): void;
}

const ROUNDS = 5;

// The test helper's node API has no RED.hooks (Node-RED's own has): give the node the runtime's hooks.
const pollNode = (RED: object): void => pollModule(Object.assign(Object.create(RED) as object, { hooks: (helper as unknown as { _RED: { hooks: Hooks } })._RED.hooks }) as Parameters<typeof pollModule>[0]);

describe("tdengine-poll -> destination across full deploys that interrupt a delivery", () => {
  let emu: Emulator;
  let ts = Date.now() - 60_000;
  const credentials = { cfg: { user: "root", password: "taosdata" } };
  const hooks = (): Hooks => (helper as unknown as { _RED: { hooks: Hooks } })._RED.hooks;

  function flow(label: string): object[] {
    return [
      { id: "f1", type: "tab", label },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      {
        id: "poll", z: "f1", type: "tdengine-poll", server: "cfg", mode: "table", table: "meters",
        columns: "voltage", tags: "", start: "everything", interval: 10, timestamps: "ms", wires: [["sink"]],
      },
      { id: "sink", z: "f1", type: "helper" },
    ];
  }
  function insert(n: number): void {
    const values = Array.from({ length: n }, () => `(${ts++}, 220)`).join(" ");
    emu.sql(`INSERT INTO power.d1 USING power.meters TAGS (1) VALUES ${values}`);
  }

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    emu = await startEmulator();
    emu.sql("CREATE DATABASE power");
    emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, voltage INT) TAGS (groupid INT)");
  });
  afterEach(async () => {
    hooks().remove("*.redeploy-test");
    await helper.unload();
    await emu.stop();
  });

  it(`${ROUNDS} deploys, each arriving while a message of new rows is in flight: every row arrives exactly once`, async () => {
    const seen: string[] = [];
    let sinkClosed = false;
    const watchSink = (): void => {
      const sink = helper.getNode("sink") as unknown as NodeLike;
      sinkClosed = false;
      sink.on("input", (m) => seen.push(...m.payload.map((r) => `${r.tbname}@${r.ts}`)));
      sink.on("close", () => (sinkClosed = true));
    };
    // Holds the next message of the poll node until released.
    let armed = false;
    let release: (() => void) | undefined;
    hooks().add("preDeliver.redeploy-test", (ev) => {
      if (!armed || ev.source?.id !== "poll") return undefined;
      armed = false;
      return new Promise<void>((r) => (release = r));
    });

    await helper.load([configNode, pollNode], flow("deploy 0"), credentials);
    watchSink();
    insert(20);
    await waitFor("the first 20 rows", () => seen.length >= 20);
    let expected = 20;
    let held = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      armed = true;
      release = undefined;
      insert(10);
      expected += 10;
      await waitFor(`round ${round}: the message of the new rows is held`, () => release !== undefined);
      held++;
      const deploying = helper.setFlows(flow(`deploy ${round}`), "full", credentials);
      // The old destination is stopped: only now does Node-RED get to deliver the message.
      await waitFor(`round ${round}: the old destination stopped`, () => sinkClosed);
      release!();
      await deploying;
      watchSink();
      await waitFor(`round ${round}: all ${expected} rows arrived (have ${seen.length})`, () => new Set(seen).size >= expected, { timeoutMs: 5000 });
    }
    assert.equal(held, ROUNDS, "every deploy interrupted a delivery");
    assert.equal(seen.length, expected, "no row twice");
    assert.equal(new Set(seen).size, expected);
  });
});
