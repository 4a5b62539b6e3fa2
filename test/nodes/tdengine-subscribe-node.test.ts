// tdengine-subscribe with the real tdengine-config node against a scripted /rest/tmq server: messages and their
// fields, commit modes, offsets resumed across full deploys (committed rows not repeated, uncommitted repeated,
// none lost, also when a deploy comes while a message is in flight), consumers never leaked, connection drops and
// a server restart during consumption, two consumers in one group, control messages, hostile frames.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import helper from "../support/helper";
import { waitFor } from "../support/wait";
import { fakeTmqServer, type FakeTmqServer } from "../support/tmq-fake-server";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import subscribeModule = require("../../nodes/tdengine-subscribe/tdengine-subscribe");

type Row = { ts: number; v: number; tbname?: string };
type Msg = { payload: Row[] | Row; topic: string; vgroup: number; offset: number; columns: { name: string }[]; database: string };
interface Hooks {
  add(name: string, fn: (ev: { source?: { id?: string } }) => unknown): void;
  remove(name: string): void;
}
const hooks = (): Hooks => (helper as unknown as { _RED: { hooks: Hooks } })._RED.hooks;
// The test helper's node API has no RED.hooks (Node-RED's own has): give the node the runtime's hooks.
const subscribeNode = (RED: object): void =>
  subscribeModule(Object.assign(Object.create(RED) as object, { hooks: hooks() }) as Parameters<typeof subscribeModule>[0]);

type Node = { on(e: string, f: (...a: never[]) => void): void; receive(m: object): void; status?: unknown };
const credentials = { cfg: { user: "root", password: "taosdata" } };
let server: FakeTmqServer;
let nextTs = 1_700_000_000_000;

function flow(label: string, extra: Record<string, unknown> = {}, nodes = ["sub"]): object[] {
  return [
    { id: "f1", type: "tab", label },
    { id: "cfg", type: "tdengine-config", url: server.url, timeout: 2000, maxBackoff: 200 },
    ...nodes.map((id) => ({
      id, z: "f1", type: "tdengine-subscribe", server: "cfg", topics: "t1", offsetReset: "earliest",
      timestamps: "ms", pollWait: 100, groupId: "g1", clientId: `client-${id}`, ...extra, wires: [["out"]],
    })),
    { id: "out", z: "f1", type: "helper" },
    { id: "catcher", type: "catch", z: "f1", scope: ["sub"], wires: [["caught"]] },
    { id: "caught", type: "helper", z: "f1" },
    { id: "completer", type: "complete", z: "f1", scope: ["sub"], wires: [["completed"]] },
    { id: "completed", type: "helper", z: "f1" },
  ];
}

function received(id: string): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  helper.getNode(id).on("input", (m: Record<string, unknown>) => got.push(m));
  return got;
}

/** Appends `n` messages of `rows` rows each, spread over the vgroups; returns their keys. */
function write(n: number, rows = 2, vgroups = 4): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const vg = (i % vgroups) + 1;
    const batch: Array<[number, number]> = [];
    for (let r = 0; r < rows; r++) batch.push([nextTs++, vg]);
    server.append("t1", vg, batch, `d${vg}`);
    for (const [ts] of batch) keys.push(`d${vg}@${ts}`);
  }
  return keys;
}

function collect(into: string[], msgs?: Msg[]): void {
  helper.getNode("out").on("input", (m: Msg) => {
    msgs?.push(m);
    for (const r of Array.isArray(m.payload) ? m.payload : [m.payload]) into.push(`${r.tbname}@${r.ts}`);
  });
}

const sorted = (a: string[]): string[] => [...a].sort();

describe("tdengine-subscribe node", () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    hooks().remove("*.subscribe-test");
    await helper.unload();
    await server.close();
  });

  it("sends one message per TMQ message with topic, vgroup, offset, columns and tbname, and commits each", async () => {
    server = await fakeTmqServer({ vgroups: 2 });
    const keys = write(4, 3, 2);
    const seen: string[] = [];
    const msgs: Msg[] = [];
    await helper.load([configNode, subscribeNode], flow("one"), credentials);
    collect(seen, msgs);
    await waitFor("every row", () => seen.length >= 12);
    assert.deepEqual(sorted(seen), sorted(keys));
    const m = msgs[0];
    assert.equal(m.topic, "t1");
    assert.equal(m.database, "db");
    assert.ok(m.vgroup === 1 || m.vgroup === 2);
    assert.equal(m.offset, 0);
    assert.deepEqual(m.columns.map((c) => c.name), ["ts", "v", "tbname"], "the added tbname field is listed too");
    assert.equal((m.payload as Row[]).length, 3);
    await waitFor("both vgroups committed", () => server.committed("g1", "t1", 1) === 2 && server.committed("g1", "t1", 2) === 2);
    const sub = server.received.find((r) => r.action === "subscribe")!;
    assert.equal(sub.args.group_id, "g1");
    assert.equal(sub.args.auto_commit, "false");
    assert.equal(sub.args.password, "taosdata");
  });

  it("one message per row; the default group id is derived from the node id and stays across deploys", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    write(2, 2, 1);
    const msgs: Msg[] = [];
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode], flow("rows", { output: "row", groupId: "" }), credentials);
    collect(seen, msgs);
    await waitFor("4 row messages", () => msgs.length >= 4);
    assert.ok(msgs.every((m) => !Array.isArray(m.payload) && typeof (m.payload as Row).ts === "number"));
    await helper.setFlows(flow("rows 2", { output: "row", groupId: "" }), "full", credentials);
    const groups = new Set(server.received.filter((r) => r.action === "subscribe").map((r) => r.args.group_id));
    assert.deepEqual([...groups], ["nr_sub"]);
  });

  it("full deploys resume from the committed offsets; a deploy while a message is in flight loses nothing; no consumer leaks", async () => {
    server = await fakeTmqServer({ vgroups: 4 });
    const seen: string[] = [];
    let outClosed = false;
    const watchOut = (): void => {
      collect(seen);
      outClosed = false;
      (helper.getNode("out") as unknown as Node).on("close", () => (outClosed = true));
    };
    let armed = false;
    let release: (() => void) | undefined;
    hooks().add("preDeliver.subscribe-test", (ev) => {
      if (!armed || ev.source?.id !== "sub") return undefined;
      armed = false;
      return new Promise<void>((r) => (release = r));
    });
    const expected = write(8);
    await helper.load([configNode, subscribeNode], flow("deploy 0"), credentials);
    watchOut();
    await waitFor("the first rows", () => seen.length >= 16);
    for (let round = 1; round <= 4; round++) {
      if (round % 2 === 0) {
        // The deploy comes while a message is held between send and delivery: it reaches a stopped node.
        armed = true;
        release = undefined;
        expected.push(...write(2));
        await waitFor(`round ${round}: a message is held`, () => release !== undefined);
        const deploying = helper.setFlows(flow(`deploy ${round}`), "full", credentials);
        await waitFor(`round ${round}: the old destination stopped`, () => outClosed);
        release!();
        await deploying;
      } else {
        await helper.setFlows(flow(`deploy ${round}`), "full", credentials);
        expected.push(...write(2));
      }
      watchOut();
      await waitFor(`round ${round}: every row (have ${new Set(seen).size} of ${expected.length})`, () => new Set(seen).size >= expected.length);
      assert.equal(server.consumers(), 1, "one live consumer after each deploy");
    }
    assert.deepEqual(sorted([...new Set(seen)]), sorted(expected), "none lost");
    // Committed rows were never sent twice: only the held messages' rows (4 rows per held round) may repeat.
    assert.ok(seen.length <= expected.length + 2 * 4, `at most the held messages repeated (${seen.length - expected.length} repeats)`);
    const subscribes = server.received.filter((r) => r.action === "subscribe").length;
    const unsubscribes = server.received.filter((r) => r.action === "unsubscribe").length;
    assert.equal(unsubscribes, subscribes - 1, "every replaced consumer unsubscribed");
    await helper.unload();
    await waitFor("no consumer left after unload", () => server.consumers() === 0);
  });

  it("manual commit: uncommitted rows come again after a deploy, committed ones do not", async () => {
    server = await fakeTmqServer({ vgroups: 2 });
    const first = write(2, 2, 2);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode], flow("m1", { commit: "manual" }), credentials);
    collect(seen);
    await waitFor("4 rows", () => seen.length >= 4);
    await helper.setFlows(flow("m2", { commit: "manual" }), "full", credentials);
    collect(seen);
    await waitFor("the 4 uncommitted rows again", () => seen.length >= 8);
    assert.deepEqual(sorted(seen.slice(4)), sorted(first));
    const completed = received("completed");
    helper.getNode("sub").receive({ commit: true });
    await waitFor("the commit message completed", () => completed.length === 1);
    await waitFor("committed", () => server.committed("g1", "t1", 1) === 1 && server.committed("g1", "t1", 2) === 1);
    const second = write(2, 2, 2);
    await waitFor("4 new rows", () => seen.length >= 12);
    await helper.setFlows(flow("m3", { commit: "manual" }), "full", credentials);
    collect(seen);
    await waitFor("the 4 new, uncommitted rows again", () => seen.length >= 16);
    assert.deepEqual(sorted(seen.slice(12)), sorted(second), "the committed rows are not repeated");
  });

  it("interval commit: commits within the interval and when the node stops", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    write(3, 1, 1);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode], flow("i", { commit: "interval", commitInterval: 60000 }), credentials);
    collect(seen);
    await waitFor("3 rows", () => seen.length >= 3);
    assert.equal(server.committed("g1", "t1", 1), undefined, "not yet: the interval is a minute");
    await helper.unload();
    assert.equal(server.committed("g1", "t1", 1), 3, "committed on close");
  });

  it("a dropped connection and a server restart during consumption: every row arrives, the status says so", async () => {
    server = await fakeTmqServer({ vgroups: 4 });
    const expected = write(4);
    const seen: string[] = [];
    const statuses: string[] = [];
    await helper.load([configNode, subscribeNode], flow("drop"), credentials);
    collect(seen);
    (helper.getNode("sub") as unknown as Node).on("call:status", ((call: { args: [{ text?: string }] }) => statuses.push(String(call.args[0]?.text))) as never);
    await waitFor("the first rows", () => new Set(seen).size >= 8);
    server.dropAll();
    expected.push(...write(4));
    await waitFor("rows after the drop", () => new Set(seen).size >= expected.length);
    await server.restart(300);
    expected.push(...write(4));
    await waitFor("rows after the restart", () => new Set(seen).size >= expected.length);
    assert.deepEqual(sorted([...new Set(seen)]), sorted(expected));
    assert.ok(statuses.some((s) => /disconnected|connecting/.test(s)), `an outage was shown: ${statuses.join(" | ")}`);
    // The test runtime has no message catalogue: status texts are their keys.
    await waitFor("green again with rate and vgroups", () => /status\.rate.*status\.vgroups/.test(statuses[statuses.length - 1] ?? ""));
    assert.equal(server.consumers(), 1);
  });

  it("two consumers in one group: disjoint vgroups, takeover when one leaves, together every row", async () => {
    server = await fakeTmqServer({ vgroups: 4 });
    const expected = write(8);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode], flow("two", {}, ["a", "b"]), credentials);
    collect(seen);
    await waitFor("both consumers", () => server.consumers("g1") === 2);
    const split = server.assignments("g1", "t1");
    const all = [...split.values()].flat().sort();
    assert.deepEqual(all, [1, 2, 3, 4], "every vgroup once");
    assert.ok([...split.values()].every((v) => v.length === 2), "split evenly");
    await waitFor("every row", () => new Set(seen).size >= expected.length);
    // "b" leaves (the flow without it): "a" takes over all vgroups from the committed offsets.
    await helper.setFlows(flow("one left", {}, ["a"]), "nodes", credentials);
    await waitFor("one consumer", () => server.consumers("g1") === 1);
    assert.deepEqual(server.assignments("g1", "t1").get("client-a"), [1, 2, 3, 4]);
    expected.push(...write(8));
    await waitFor("every row after the takeover", () => new Set(seen).size >= expected.length);
    assert.deepEqual(sorted([...new Set(seen)]), sorted(expected));
  });

  it("control messages: pause, resume, seek earliest / to an offset / to a time; a bad one fails the message", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    write(3, 1, 1);
    const seen: string[] = [];
    await helper.load([configNode, subscribeNode], flow("ctl"), credentials);
    collect(seen);
    const completed = received("completed");
    const caught = received("caught");
    const sub = helper.getNode("sub") as unknown as Node;
    await waitFor("3 rows", () => seen.length >= 3);
    sub.receive({ pause: true });
    await waitFor("paused", () => completed.length >= 1);
    // A seek runs between two polls: once it is done, the loop is paused and polls no more.
    sub.receive({ seek: "earliest" });
    await waitFor("seek done while paused", () => completed.length >= 2);
    const polls = server.received.filter((r) => r.action === "poll").length;
    write(1, 1, 1);
    sub.receive({ resume: true });
    await waitFor("all 4 rows again from the start", () => seen.length >= 3 + 4);
    assert.equal(server.received.filter((r) => r.action === "poll")[polls - 1] !== undefined, true);
    assert.deepEqual(seen.slice(3, 6), seen.slice(0, 3), "the same rows from the start");
    sub.receive({ seek: { vgroup: 1, offset: 2 } });
    await waitFor("rows from offset 2", () => seen.length >= 7 + 2);
    assert.deepEqual(seen.slice(7), seen.slice(5, 7));
    const t1 = Number(seen[1].split("@")[1]);
    sub.receive({ seek: new Date(t1) });
    await waitFor("rows from the second timestamp on", () => seen.length >= 9 + 3);
    assert.deepEqual(seen.slice(9), seen.slice(4, 7), "the older row is left out");
    sub.receive({ seek: { vgroup: "x" } });
    sub.receive({ hello: 1 });
    await waitFor("two failures", () => caught.length >= 2);
    assert.match(String((caught[0].error as { message: string }).message), /vgroup must be an integer/);
    assert.match(String((caught[1].error as { message: string }).message), /unknown-control/);
  });

  it("hostile frames: garbage, a lying poll reply and an error reply are reported once, then it recovers", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    const expected = write(2, 1, 1);
    const seen: string[] = [];
    let faults = 3;
    server.intercept = (ws, req) => {
      if (req.action !== "poll" || faults <= 0) return false;
      faults--;
      if (faults === 2) ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
      else if (faults === 1) ws.send(JSON.stringify({ code: 0, action: "poll", req_id: req.args.req_id, have_message: true, message_id: -1.5, message_type: 1 }));
      else ws.send(JSON.stringify({ code: 0x2603, message: "Consumer not exist", action: "poll", req_id: req.args.req_id }));
      return true;
    };
    await helper.load([configNode, subscribeNode], flow("hostile"), credentials);
    const errors: string[] = [];
    (helper.getNode("sub") as unknown as Node).on("call:error", ((call: { args: [string] }) => errors.push(String(call.args[0]))) as never);
    collect(seen);
    await waitFor("every row despite the faults", () => new Set(seen).size >= expected.length);
    assert.deepEqual(sorted([...new Set(seen)]), sorted(expected));
    assert.ok(errors.length >= 1 && errors.length <= 3, `reported, not flooded: ${errors.join(" | ")}`);
  });
});
