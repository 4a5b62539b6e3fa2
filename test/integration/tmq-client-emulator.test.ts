// The TMQ client against the emulator's /rest/tmq over real sockets: subscribe / poll / commit / committed /
// position / seek / assignment with data written by SQL, two consumers of one group (disjoint vgroups, takeover
// when one leaves, union = everything written), reconnection across an emulator restart, and SHOW CONSUMERS
// after close.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { TmqConsumer, TmqSession, TMQ_OFFSET_INVALID, type TmqMessage } from "../../lib/tdengine/index.js";
import { waitFor } from "../support/wait.js";

let emu: Emulator;
let nextTs = 1_700_000_000_000;
const open: Array<{ close(): Promise<void> }> = [];
/** Every row written so far: a new group starting at "earliest" reads all of them. */
const everything: string[] = [];

before(async () => {
  emu = await startEmulator({ vgroups: 4, tmqSessionTimeoutMs: 1000 });
  emu.sql("CREATE DATABASE power VGROUPS 4");
  emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, v INT) TAGS (gid INT)");
  for (let i = 0; i < 8; i++) emu.sql(`CREATE TABLE power.d${i} USING power.meters TAGS (${i})`);
  emu.sql("CREATE TOPIC t_meters AS SELECT ts, v FROM power.meters");
});
after(() => emu.stop());
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

/** One INSERT per subtable; returns the keys "d<i>@ts". */
function write(perTable: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 8; i++) {
    const vals: string[] = [];
    for (let k = 0; k < perTable; k++) {
      vals.push(`(${nextTs}, ${i})`);
      keys.push(`d${i}@${nextTs++}`);
    }
    emu.sql(`INSERT INTO power.d${i} VALUES ${vals.join(" ")}`);
  }
  everything.push(...keys);
  return keys;
}

const keysOf = (m: TmqMessage): string[] => m.blocks.flatMap((b) => b.rows.map((r) => `${b.table}@${String(r[0])}`));

async function session(group: string, client: string, reset: "earliest" | "latest" = "earliest"): Promise<TmqSession> {
  const s = await TmqSession.open({ url: emu.wsUrl, groupId: group, clientId: client, offsetReset: reset, timeoutMs: 3000 }, ["t_meters"]);
  open.push(s);
  return s;
}

async function drain(s: TmqSession, into: string[], until: () => boolean): Promise<void> {
  await waitFor("rows", async () => {
    const m = await s.poll(50);
    if (m) into.push(...keysOf(m));
    return until();
  });
}

const consumers = (group: string): number => emu.sql("SHOW CONSUMERS").rows.filter((r) => r[1] === group).length;

describe("TMQ client against the emulator", () => {
  it("polls rows written by SQL with names and table names; commit, committed, position, seek and assignment", async () => {
    const written = write(3);
    const s = await session("g_basic", "c1");
    const got: string[] = [];
    let sample: TmqMessage | undefined;
    await waitFor("every row", async () => {
      const m = await s.poll(50);
      if (m) {
        sample ??= m;
        got.push(...keysOf(m));
      }
      return got.length >= written.length;
    });
    assert.deepEqual([...got].sort(), [...written].sort());
    assert.ok(sample);
    assert.equal(sample.topic, "t_meters");
    assert.equal(sample.database, "power");
    assert.deepEqual(sample.columns.map((c) => [c.name, c.typeName]), [["ts", "TIMESTAMP"], ["v", "INT"]]);
    const assignment = await s.assignment("t_meters");
    assert.equal(assignment.length, 4);
    const tvs = assignment.map((a) => ({ topic: "t_meters", vgroupId: a.vgroupId }));
    const before = await s.committed(tvs);
    assert.ok(before.every((o) => o === TMQ_OFFSET_INVALID), "nothing committed yet");
    await s.commit();
    const positions = await s.position(tvs);
    assert.deepEqual(await s.committed(tvs), positions, "commit stores the positions");
    // Seek one vgroup back to its start: its rows come again.
    const withRows = assignment.find((a) => a.end > a.begin)!;
    await s.seek({ topic: "t_meters", vgroupId: withRows.vgroupId }, withRows.begin);
    const again: string[] = [];
    await drain(s, again, () => again.length > 0);
    assert.ok(again.every((k) => written.includes(k)));
  });

  it("two consumers of one group: disjoint vgroups, takeover when one leaves, together every row once committed", async () => {
    const a = await session("g_two", "a");
    const b = await session("g_two", "b");
    const seenA: string[] = [];
    const seenB: string[] = [];
    const written = write(4);
    await waitFor("each half", async () => {
      const [ma, mb] = await Promise.all([a.poll(50), b.poll(50)]);
      if (ma) seenA.push(...keysOf(ma));
      if (mb) seenB.push(...keysOf(mb));
      return new Set([...seenA, ...seenB]).size >= everything.length;
    });
    const va = (await a.assignment("t_meters")).map((x) => x.vgroupId);
    const vb = (await b.assignment("t_meters")).map((x) => x.vgroupId);
    assert.equal(va.length + vb.length, 4);
    assert.ok(va.every((v) => !vb.includes(v)), `disjoint: ${va} / ${vb}`);
    assert.ok(!seenA.some((k) => seenB.includes(k)), "no row read by both");
    await a.commit();
    await b.commit();
    assert.equal(consumers("g_two"), 2);
    await b.close();
    await waitFor("b gone from SHOW CONSUMERS", () => consumers("g_two") === 1);
    const more = write(2);
    await drain(a, seenA, () => more.every((k) => seenA.includes(k)));
    assert.equal((await a.assignment("t_meters")).length, 4, "a took every vgroup over");
    assert.ok([...written, ...more].every((k) => seenA.includes(k) || seenB.includes(k)));
    assert.deepEqual([...new Set([...seenA, ...seenB])].sort(), [...everything].sort(), "union = everything written");
  });

  it("TmqConsumer resumes after an emulator restart from the committed offsets; close leaves no consumer", async () => {
    const c = new TmqConsumer({ endpoints: [emu.wsUrl], topics: ["t_meters"], groupId: "g_restart", clientId: "r", offsetReset: "latest", timeoutMs: 3000, backoff: { initialMs: 50, maxMs: 200 } });
    open.push(c);
    c.start();
    let s = await c.session(3000);
    // "latest": only rows written after the subscription.
    const first = write(1);
    const got: string[] = [];
    await drain(s, got, () => first.every((k) => got.includes(k)));
    await s.commit();
    await emu.restart();
    const second = write(1);
    await waitFor("a new session", async () => (s = await c.session(3000)) && !s.closed);
    await waitFor("the rows written across the restart", async () => {
      try {
        const m = await (await c.session(3000)).poll(50);
        if (m) got.push(...keysOf(m));
      } catch {
        // the old session died with the restart; the consumer opens a new one
      }
      return second.every((k) => got.includes(k));
    });
    assert.ok(!first.some((k) => got.indexOf(k) !== got.lastIndexOf(k)), "committed rows not read again");
    await c.close();
    await waitFor("no consumer of the group left", () => consumers("g_restart") === 0);
  });
});
