// tdengine-poll across full deploys without a persistent context store (Node-RED's default): Node-RED drops
// node context on a full deploy, yet the poller must resume from its watermark, not start over and send every
// row again. Removing the node, or a reset, forgets the watermark. And a deploy that comes between a poll's send
// and Node-RED's delivery of that message (the destination already stopped drops it) loses no row: the race is
// made to happen on every deploy by holding the message in a preDeliver hook until the old destination stopped.
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
const hooks = (): Hooks => (helper as unknown as { _RED: { hooks: Hooks } })._RED.hooks;
// The test helper's node API has no RED.hooks (Node-RED's own has): give the node the runtime's hooks.
const pollNode = (RED: object): void => pollModule(Object.assign(Object.create(RED) as object, { hooks: hooks() }) as Parameters<typeof pollModule>[0]);
const ROUNDS = 5;

describe("tdengine-poll across full deploys", () => {
  let emu: Emulator;
  let ts = Date.now() - 60_000;
  const credentials = { cfg: { user: "root", password: "taosdata" } };

  function flow(label: string): object[] {
    return [
      { id: "f1", type: "tab", label },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      {
        id: "poll", z: "f1", type: "tdengine-poll", server: "cfg", mode: "table", table: "meters",
        columns: "voltage", tags: "", start: "everything", interval: 10, timestamps: "ms", wires: [["out"]],
      },
      { id: "out", z: "f1", type: "helper" },
    ];
  }
  function insert(n: number): void {
    const values = Array.from({ length: n }, () => `(${ts++}, 220)`).join(" ");
    emu.sql(`INSERT INTO power.d1 USING power.meters TAGS (1) VALUES ${values}`);
  }
  function collect(into: string[]): void {
    helper.getNode("out").on("input", (m: Msg) => into.push(...m.payload.map((r) => `${r.tbname}@${r.ts}`)));
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

  it("a full deploy resumes from the watermark: rows sent before it are not sent again", async () => {
    const seen: string[] = [];
    await helper.load([configNode, pollNode], flow("first"), credentials);
    collect(seen);
    insert(30);
    await waitFor("the first 30 rows", () => seen.length >= 30);

    for (let deploy = 1; deploy <= 3; deploy++) {
      // A full deploy of a changed flow (the tab's label), as the editor's Deploy button sends it.
      await helper.setFlows(flow(`deploy ${deploy}`), "full", credentials);
      collect(seen);
      insert(10);
      await waitFor(`the 10 rows after deploy ${deploy}`, () => seen.length >= 30 + 10 * deploy);
    }
    const requests = emu.stats().requests;
    await waitFor("more polls after catching up", () => emu.stats().requests > requests + 10);
    assert.equal(seen.length, 60, "each row sent once");
    assert.equal(new Set(seen).size, 60);
  });

  it("a removed node forgets its watermark: added again, it starts from its start position", async () => {
    const seen: string[] = [];
    await helper.load([configNode, pollNode], flow("first"), credentials);
    collect(seen);
    insert(20);
    await waitFor("the first 20 rows", () => seen.length >= 20);
    await helper.setFlows([], "full");
    await helper.setFlows(flow("again"), "full", credentials);
    collect(seen);
    await waitFor("the 20 rows again, from 'everything'", () => seen.length >= 40);
    assert.equal(new Set(seen).size, 20);
  });

  it("a poll whose reply arrives while the node closes sends nothing; the next node sends those rows", async () => {
    const seen: string[] = [];
    await helper.load([configNode, pollNode], flow("first"), credentials);
    collect(seen);
    insert(10);
    await waitFor("the first 10 rows", () => seen.length >= 10);
    const old = helper.getNode("poll") as unknown as { send(m: unknown): void; on(e: "close", f: () => void): void };
    let closing = false;
    let sentWhileClosing = 0;
    old.on("close", () => (closing = true));
    const send = old.send.bind(old);
    old.send = (m: unknown) => {
      if (closing) sentWhileClosing++;
      send(m);
    };
    // Replies come 400 ms late: the poll that reads the next rows is still waiting when the deploy closes the node.
    emu.faults.delayReplies(400);
    insert(10);
    const asked = emu.stats().requests;
    await waitFor("a poll asked after the insert", () => emu.stats().requests > asked);
    await helper.setFlows(flow("second"), "full", credentials);
    emu.faults.delayReplies(0);
    assert.ok(closing, "the old node was closed");
    assert.equal(sentWhileClosing, 0, "the closing node sent nothing");
    collect(seen);
    await waitFor("the 10 new rows, from the new node", () => seen.length >= 20);
    assert.equal(new Set(seen).size, seen.length, "no row twice");
  });

  it(`${ROUNDS} deploys, each arriving while a message of new rows is in flight: every row arrives exactly once`, async () => {
    const seen: string[] = [];
    let outClosed = false;
    const watchOut = (): void => {
      collect(seen);
      outClosed = false;
      (helper.getNode("out") as unknown as { on(e: "close", f: () => void): void }).on("close", () => (outClosed = true));
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
    watchOut();
    insert(20);
    await waitFor("the first 20 rows", () => seen.length >= 20);
    let expected = 20;
    for (let round = 1; round <= ROUNDS; round++) {
      armed = true;
      release = undefined;
      insert(10);
      expected += 10;
      await waitFor(`round ${round}: the message of the new rows is held`, () => release !== undefined);
      const deploying = helper.setFlows(flow(`deploy ${round}`), "full", credentials);
      // The old destination is stopped: only now does Node-RED get to deliver the message.
      await waitFor(`round ${round}: the old destination stopped`, () => outClosed);
      release!();
      await deploying;
      watchOut();
      await waitFor(`round ${round}: all ${expected} rows arrived (have ${seen.length})`, () => new Set(seen).size >= expected, { timeoutMs: 5000 });
    }
    assert.equal(seen.length, expected, "no row twice");
    assert.equal(new Set(seen).size, expected);
  });
});
