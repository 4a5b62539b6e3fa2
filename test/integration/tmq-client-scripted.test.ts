// The TMQ client (TmqSession, TmqConsumer) against a scripted /rest/tmq server over real sockets: what it sends,
// poll + fetch_raw_data decoding, commit / committed / position / seek / assignment / list_topics / unsubscribe,
// typed errors and timeouts, reconnection with a new subscription, and hostile frames.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { TdengineError, TmqConsumer, TmqSession, TMQ_OFFSET_INVALID } from "../../lib/tdengine/index.js";
import { fakeTmqServer, rawDataReply, type FakeTmqServer } from "../support/tmq-fake-server.js";
import { waitFor } from "../support/wait.js";

let server: FakeTmqServer | undefined;
const sessions: TmqSession[] = [];
const consumers: TmqConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.close();
  for (const s of sessions.splice(0)) await s.close();
  await server?.close();
  server = undefined;
});

async function open(extra: Partial<Parameters<typeof TmqSession.open>[0]> = {}, topics = ["t1"]): Promise<TmqSession> {
  const s = await TmqSession.open({ url: server!.url, groupId: "g1", clientId: "c1", offsetReset: "earliest", timeoutMs: 2000, ...extra }, topics);
  sessions.push(s);
  return s;
}

const isKind = (kind: string, re?: RegExp) => (e: unknown): boolean => e instanceof TdengineError && e.kind === kind && (!re || re.test(e.message));

describe("TMQ client against a scripted /rest/tmq server", () => {
  it("subscribes with the group settings, polls and decodes the rows, commits and reads offsets back", async () => {
    server = await fakeTmqServer({ vgroups: 2 });
    server.append("t1", 1, [[1000, 1], [1001, 2]], "d1");
    server.append("t1", 2, [[1002, 3]], "d2");
    const s = await open({ user: "u", password: "p", autoCommit: false });
    const sub = server.received[0];
    assert.equal(sub.action, "subscribe");
    assert.deepEqual({ ...sub.args, req_id: 0 }, {
      req_id: 0, user: "u", password: "p", db: "", group_id: "g1", client_id: "c1", offset_rest: "earliest", topics: ["t1"],
      auto_commit: "false", auto_commit_interval_ms: "5000", with_table_name: "true", connector: "node-red-tdengine-perspective",
    });
    const got: Array<[string | undefined, unknown[]]> = [];
    for (let i = 0; i < 2; i++) {
      const m = await s.poll(100);
      assert.ok(m);
      assert.equal(m.topic, "t1");
      assert.equal(m.database, "db");
      assert.equal(m.messageType, 1);
      assert.deepEqual(m.columns.map((c) => [c.name, c.typeName, c.precision]), [["ts", "TIMESTAMP", "ms"], ["v", "INT", undefined]]);
      for (const b of m.blocks) for (const r of b.rows) got.push([b.table, r]);
    }
    assert.deepEqual(got.sort((a, b) => Number(a[1][0]) - Number(b[1][0])), [["d1", [1000, 1]], ["d1", [1001, 2]], ["d2", [1002, 3]]]);
    assert.equal(await s.poll(0), undefined, "nothing more");
    const fetches = server.received.filter((r) => r.action === "fetch_raw_data");
    const polls = server.received.filter((r) => r.action === "poll");
    assert.equal(fetches.length, 2);
    assert.equal(polls[1].args.message_id, fetches[0].args.message_id, "the next poll names the last message seen");
    const tvs = [{ topic: "t1", vgroupId: 1 }, { topic: "t1", vgroupId: 2 }];
    assert.deepEqual(await s.committed(tvs), [TMQ_OFFSET_INVALID, TMQ_OFFSET_INVALID]);
    assert.deepEqual(await s.position(tvs), [1, 1]);
    await s.commit();
    assert.deepEqual(await s.committed(tvs), [1, 1]);
    await s.commitOffset(tvs[0], 0);
    assert.equal(server.committed("g1", "t1", 1), 0);
    assert.deepEqual(await s.listTopics(), ["t1"]);
  });

  it("assignment lists the vgroups with their range; seek re-reads from an offset", async () => {
    server = await fakeTmqServer({ vgroups: 2 });
    server.append("t1", 1, [[1, 10]]);
    server.append("t1", 1, [[2, 20]]);
    const s = await open();
    while (await s.poll(0));
    const a = await s.assignment("t1");
    assert.deepEqual(a, [{ topic: "t1", vgroupId: 1, offset: 2, begin: 0, end: 2 }, { topic: "t1", vgroupId: 2, offset: 0, begin: 0, end: 0 }]);
    await s.seek({ topic: "t1", vgroupId: 1 }, 1);
    const m = await s.poll(0);
    assert.deepEqual(m?.blocks[0].rows, [[2, 20]]);
    await assert.rejects(s.seek({ topic: "t1", vgroupId: 99 }, 0), isKind("server", /Vgroup not on this consumer/));
    await assert.rejects(s.seek({ topic: "t1", vgroupId: 1.5 }, 0), isKind("invalid"));
  });

  it("a poll waits for data up to its blocking time; a second poll while one is pending is refused", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    const s = await open();
    const pending = s.poll(5000);
    await assert.rejects(s.poll(10), isKind("invalid", /already pending/));
    server.append("t1", 1, [[5, 5]]);
    const m = await pending;
    assert.deepEqual(m?.blocks[0].rows, [[5, 5]]);
  });

  it("typed errors: unknown topic (server), no answer (timeout), closed socket (closed, retryable)", async () => {
    server = await fakeTmqServer();
    await assert.rejects(open({}, ["nope"]), isKind("server", /Topic not exist/));
    const s = await open();
    server.intercept = (_ws, req) => req.action === "committed";
    await assert.rejects(s.committed([{ topic: "t1", vgroupId: 1 }]), isKind("timeout"));
    server.intercept = undefined;
    const p = s.poll(5000);
    server.dropAll();
    await assert.rejects(p, (e: unknown) => isKind("closed")(e) && (e as TdengineError).retryable);
  });

  it("close() unsubscribes and closes the socket: the group has no consumer left", async () => {
    server = await fakeTmqServer();
    const s = await TmqSession.open({ url: server.url, groupId: "g1", timeoutMs: 2000 }, ["t1"]);
    assert.equal(server.consumers("g1"), 1);
    await s.close();
    assert.ok(server.received.some((r) => r.action === "unsubscribe"));
    await waitFor("the consumer gone", () => server!.consumers("g1") === 0);
    assert.equal(s.closed, true);
  });

  it("hostile frames: wrong field types, a fetch reply for another message, garbage and a raw frame that lies fail typed", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    for (let i = 0; i < 3; i++) server.append("t1", 1, [[i, i]]); // one message for each fetch that fails
    const s = await open();
    server.intercept = (ws, req) => {
      if (req.action !== "poll") return false;
      ws.send(JSON.stringify({ code: 0, action: "poll", req_id: req.args.req_id, have_message: true, message_id: "x", vgroup_id: 1, message_type: 1 }));
      return true;
    };
    await assert.rejects(s.poll(0), isKind("protocol", /message_id/));
    server.intercept = (ws, req) => {
      if (req.action !== "fetch_raw_data") return false;
      ws.send(rawDataReply(BigInt(req.args.req_id as number), 12345, Buffer.from([1, 2, 3])));
      return true;
    };
    await assert.rejects(s.poll(0), isKind("protocol", /message 12345/));
    server.intercept = (ws, req) => {
      if (req.action !== "fetch_raw_data") return false;
      const good = rawDataReply(BigInt(req.args.req_id as number), Number(req.args.message_id), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 127, 1, 1]));
      ws.send(good);
      return true;
    };
    await assert.rejects(s.poll(0), isKind("protocol", /block count/));
    server.intercept = (ws, req) => {
      if (req.action !== "assignment") return false;
      ws.send(JSON.stringify({ code: 0, action: "assignment", req_id: req.args.req_id, assignment: [{ vgroup_id: 1, offset: "0", begin: 0, end: 0 }] }));
      return true;
    };
    await assert.rejects(s.assignment("t1"), isKind("protocol", /offset/));
    server.intercept = (ws, req) => {
      if (req.action !== "list_topics") return false;
      ws.send("not json");
      return true;
    };
    await assert.rejects(s.listTopics(), isKind("closed", /protocol error/));
  });

  it("TmqConsumer reconnects after a drop and subscribes again with the same group; reading resumes from the commit", async () => {
    server = await fakeTmqServer({ vgroups: 1 });
    const c = new TmqConsumer({ endpoints: [server.url], topics: ["t1"], groupId: "g9", clientId: "c9", offsetReset: "earliest", timeoutMs: 2000, backoff: { initialMs: 20, maxMs: 50 } });
    consumers.push(c);
    const states: string[] = [];
    c.onState((st) => states.push(st.state));
    c.start();
    server.append("t1", 1, [[1, 1]]);
    server.append("t1", 1, [[2, 2]]);
    let s = await c.session(2000);
    assert.deepEqual((await s.poll(0))?.blocks[0].rows, [[1, 1]]);
    await s.commit();
    assert.deepEqual((await s.poll(0))?.blocks[0].rows, [[2, 2]], "polled, not committed");
    server.dropAll();
    await waitFor("a new session", async () => {
      const n = await c.session(2000);
      return n !== s && !n.closed ? n : undefined;
    });
    s = await c.session(2000);
    assert.equal(server.received.filter((r) => r.action === "subscribe").length, 2);
    assert.deepEqual((await s.poll(0))?.blocks[0].rows, [[2, 2]], "the uncommitted message comes again");
    assert.deepEqual(states, ["connecting", "connected", "disconnected", "connected"]);
    await c.close();
    await waitFor("no consumer left", () => server!.consumers("g9") === 0);
  });
});
