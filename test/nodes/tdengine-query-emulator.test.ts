// tdengine-query with the real tdengine-config node and client against the taosAdapter emulator (in-process,
// ephemeral port): each output mode (and a join node reassembling the sequences), msg.columns and value options,
// binding of every parameter type, named placeholders, the row cap, DDL/DML, msg.topic gating, SQL injection
// attempts through params and topic, errors caught with done() called exactly once, and queued messages.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { runtimeDir } from "../support/runtime";
import { waitFor } from "../support/wait";
import configNode = require("../../nodes/tdengine-config/tdengine-config");
import queryNode = require("../../nodes/tdengine-query/tdengine-query");

const splitJoinNodes = require(require.resolve("@node-red/nodes/core/sequence/17-split.js", { paths: [runtimeDir, dirname(runtimeDir)] })) as unknown;

type Msg = Record<string, unknown> & { payload: unknown; parts?: Record<string, unknown>; columns?: { name: string; typeName: string; precision?: string }[] };
interface NodeLike {
  on(event: "input", cb: (msg: Msg) => void): void;
  receive(msg: Record<string, unknown>): void;
}

const PASSWORD = "taosdata";
const T0 = 1_700_000_000_000;

describe("tdengine-query against the emulator", () => {
  let emu: Emulator;

  function flow(query: Record<string, unknown>): object[] {
    return [
      { id: "f1", type: "tab", label: "query" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "power", timeout: 5000 },
      { id: "q", z: "f1", type: "tdengine-query", server: "cfg", sql: "", output: "all", wires: [["out", "joiner"]], ...query },
      { id: "out", z: "f1", type: "helper" },
      { id: "joiner", z: "f1", type: "join", mode: "auto", wires: [["joined"]] },
      { id: "joined", z: "f1", type: "helper" },
      { id: "catcher", z: "f1", type: "catch", scope: ["q"], wires: [["caught"]] },
      { id: "caught", z: "f1", type: "helper" },
      { id: "completer", z: "f1", type: "complete", scope: ["q"], wires: [["completed"]] },
      { id: "completed", z: "f1", type: "helper" },
    ];
  }
  const credentials = { cfg: { user: "root", password: PASSWORD } };

  function collect(id: string): Msg[] {
    const got: Msg[] = [];
    (helper.getNode(id) as unknown as NodeLike).on("input", (m: Msg) => got.push(m));
    return got;
  }

  interface Run {
    out: Msg[];
    joined: Msg[];
    caught: Msg[];
    completed: Msg[];
    /** Sends a message and waits until Node-RED reports it done or failed. */
    send(msg: Record<string, unknown>): Promise<"done" | "error">;
  }

  async function load(query: Record<string, unknown>): Promise<Run> {
    await helper.load([configNode, queryNode, splitJoinNodes], flow(query), credentials);
    const r = { out: collect("out"), joined: collect("joined"), caught: collect("caught"), completed: collect("completed") };
    const send = async (msg: Record<string, unknown>): Promise<"done" | "error"> => {
      const before = r.caught.length + r.completed.length;
      (helper.getNode("q") as unknown as NodeLike).receive(msg);
      await waitFor("done or catch", () => r.caught.length + r.completed.length > before);
      return r.caught.length > 0 && r.caught.length + r.completed.length === before + 1 && r.caught[r.caught.length - 1]._msgid === msg._msgid ? "error" : "done";
    };
    return { ...r, send };
  }

  function seed(rows: number): void {
    emu.sql("CREATE DATABASE power PRECISION 'ms'");
    emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))");
    for (let i = 0; i < rows; i += 1000) {
      const vals: string[] = [];
      for (let k = i; k < Math.min(rows, i + 1000); k++) vals.push(`(${T0 + k}, ${k % 10}.5, ${k % 2 === 0 ? 220 : "NULL"}, 0.5)`);
      emu.sql(`INSERT INTO power.d1 USING power.meters TAGS (1, 'Campbell') VALUES ${vals.join(" ")}`);
    }
  }

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await helper.unload();
    await emu.stop();
  });

  it("one message with all rows: objects, NULL as null, Date timestamps, msg.columns with TDengine types, msg.sql", async () => {
    seed(5);
    const r = await load({ sql: "SELECT ts, voltage, tbname FROM power.meters ORDER BY ts" });
    assert.equal(await r.send({ _msgid: "m1", payload: "go" }), "done");
    assert.equal(r.out.length, 1);
    const rows = r.out[0].payload as Record<string, unknown>[];
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[0], { ts: new Date(T0), voltage: 220, tbname: "d1" });
    assert.equal(rows[1].voltage, null);
    assert.deepEqual(r.out[0].columns?.map((c) => [c.name, c.typeName]), [["ts", "TIMESTAMP"], ["voltage", "INT"], ["tbname", "VARCHAR"]]);
    assert.equal(r.out[0].columns?.[0].precision, "ms");
    assert.equal(r.out[0].sql, "SELECT ts, voltage, tbname FROM power.meters ORDER BY ts");
  });

  it("one message per block and per row: sequences with msg.parts that a join node reassembles in order", async () => {
    seed(10_000);
    for (const output of ["block", "row"]) {
      const r = await load({ sql: "SELECT ts, current FROM power.meters ORDER BY ts", output, timestamps: "ms" });
      assert.equal(await r.send({ _msgid: `m-${output}`, payload: 1 }), "done");
      await waitFor("the joined result", () => r.joined.length === 1);
      if (output === "block") {
        assert.ok(r.out.length >= 3, `10000 rows come in several blocks (${r.out.length})`);
        assert.deepEqual(r.out.map((m) => m.parts?.index), r.out.map((_, i) => i));
      } else {
        assert.equal(r.out.length, 10_000);
        assert.deepEqual(r.out[1].payload, { ts: T0 + 1, current: 1.5 });
      }
      const last = r.out[r.out.length - 1].parts!;
      assert.equal(last.count, r.out.length, "count on the last message");
      assert.ok(r.out.slice(0, -1).every((m) => m.parts?.count === undefined));
      const joined = r.joined[0].payload as { ts: number }[];
      assert.equal(joined.length, 10_000);
      assert.deepEqual(joined.map((x) => x.ts), Array.from({ length: 10_000 }, (_, k) => T0 + k));
      await helper.unload();
    }
  });

  it("big integers and ns timestamps as strings or BigInt, per option", async () => {
    emu.sql("CREATE DATABASE power PRECISION 'ns'");
    emu.sql("CREATE TABLE power.big (ts TIMESTAMP, b BIGINT, u BIGINT UNSIGNED)");
    emu.sql("INSERT INTO power.big VALUES (1700000000123456789, 9007199254740993, 18446744073709551615) (1700000000123456790, 5, NULL)");
    const sql = "SELECT ts, b, u FROM power.big ORDER BY ts";
    let r = await load({ sql, timestamps: "epoch", bigint: "string" });
    await r.send({ _msgid: "s", payload: 1 });
    assert.deepEqual(r.out[0].payload, [
      { ts: "1700000000123456789", b: "9007199254740993", u: "18446744073709551615" },
      { ts: "1700000000123456790", b: 5, u: null },
    ]);
    await helper.unload();
    r = await load({ sql, timestamps: "epoch", bigint: "bigint" });
    await r.send({ _msgid: "b", payload: 1 });
    assert.deepEqual(r.out[0].payload, [
      { ts: 1700000000123456789n, b: 9007199254740993n, u: 18446744073709551615n },
      { ts: 1700000000123456790n, b: 5n, u: null },
    ]);
    assert.equal(r.out[0].columns?.[0].precision, "ns");
  });

  it("binds a parameter of every type (number, float, bigint, boolean, string, Date, Buffer), positional and named", async () => {
    emu.sql("CREATE DATABASE power PRECISION 'ms'");
    emu.sql("CREATE TABLE power.all_types (ts TIMESTAMP, i INT, d DOUBLE, b BIGINT, f BOOL, s VARCHAR(20), n NCHAR(10), v VARBINARY(8))");
    emu.sql("INSERT INTO power.all_types VALUES (1700000000000, 7, 2.5, 9007199254740993, true, 'it''s', 'näh', '\\x0102') (1700000001000, 8, 3.5, 1, false, 'other', 'x', '\\x03')");
    const positional = "SELECT i FROM power.all_types WHERE i = ? AND d = ? AND b = ? AND f = ? AND s = ? AND n = ? AND ts >= ? AND ts < ?";
    let r = await load({ sql: positional });
    const params = [7, 2.5, 9007199254740993n, true, "it's", "näh", new Date(1700000000000), new Date(1700000000500)];
    assert.equal(await r.send({ _msgid: "p", payload: 1, params }), "done", JSON.stringify(r.caught[0]?.error));
    assert.deepEqual(r.out[0].payload, [{ i: 7 }]);
    await helper.unload();
    r = await load({ sql: "SELECT i FROM power.all_types WHERE v = :bytes OR (i = $i AND s = :s) OR i = :i + 100" });
    assert.equal(await r.send({ _msgid: "n", payload: 1, params: { bytes: Buffer.from([3]), i: 7, s: "it's" } }), "done", JSON.stringify(r.caught[0]?.error));
    assert.deepEqual((r.out[0].payload as { i: number }[]).map((x) => x.i).sort(), [7, 8]);
  });

  it("the row cap fails clearly (caught, nothing sent) and a result of exactly the cap passes", async () => {
    seed(50);
    const r = await load({ sql: "SELECT ts FROM power.meters", maxRows: 49 });
    assert.equal(await r.send({ _msgid: "cap", payload: 1 }), "error");
    assert.match(String((r.caught[0].error as { message: string }).message), /more than 49 rows/);
    assert.equal(r.out.length, 0);
    await helper.unload();
    const ok = await load({ sql: "SELECT ts FROM power.meters", maxRows: 50 });
    assert.equal(await ok.send({ _msgid: "cap2", payload: 1 }), "done");
    assert.equal((ok.out[0].payload as unknown[]).length, 50);
  });

  it("DDL and INSERT reply {affectedRows}", async () => {
    seed(1);
    const r = await load({ sql: "", allowTopic: true, output: "row" });
    await r.send({ _msgid: "ddl", topic: "CREATE TABLE power.extra USING power.meters TAGS (2, 'x')", payload: 1 });
    await r.send({ _msgid: "ins", topic: "INSERT INTO power.extra VALUES (1700000000000, 1, 2, 3) (1700000000001, 1, 2, 3)", payload: 1 });
    assert.deepEqual(r.out.map((m) => m.payload), [{ affectedRows: 0 }, { affectedRows: 2 }]);
    assert.equal(Number(emu.sql("SELECT COUNT(*) FROM power.extra").rows[0][0]), 2);
  });

  it("msg.topic is ignored unless allowed, and never replaces the node's SQL", async () => {
    seed(3);
    let r = await load({ sql: "" });
    assert.equal(await r.send({ _msgid: "t1", topic: "DROP DATABASE power", payload: 1 }), "error");
    assert.match(String((r.caught[0].error as { message: string }).message), /no SQL/);
    await helper.unload();
    r = await load({ sql: "SELECT COUNT(*) AS n FROM power.meters", allowTopic: true });
    assert.equal(await r.send({ _msgid: "t2", topic: "DROP DATABASE power", payload: 1 }), "done");
    assert.deepEqual(r.out[0].payload, [{ n: 3 }]);
    await helper.unload();
    r = await load({ sql: "", allowTopic: true });
    assert.equal(await r.send({ _msgid: "t3", topic: "SELECT COUNT(*) AS n FROM power.meters", payload: 1 }), "done");
    assert.deepEqual(r.out[0].payload, [{ n: 3 }]);
    assert.equal(Number(emu.sql("SELECT COUNT(*) FROM power.meters").rows[0][0]), 3, "the database is still there");
  });

  it("SQL injection through params is inert and a second statement through the topic is refused", async () => {
    seed(3);
    let r = await load({ sql: "SELECT location FROM power.meters WHERE location = ?" });
    for (const evil of ["x' OR '1'='1", "Campbell'; DROP DATABASE power; --", "' OR 1=1 --"]) {
      assert.equal(await r.send({ _msgid: evil, payload: 1, params: [evil] }), "done");
    }
    assert.deepEqual(r.out.map((m) => m.payload), [[], [], []], "the values matched no location, as literals");
    await helper.unload();
    r = await load({ sql: "", allowTopic: true });
    assert.equal(await r.send({ _msgid: "multi", topic: "SELECT 1; DROP DATABASE power", payload: 1 }), "error");
    assert.match(String((r.caught[0].error as { message: string }).message), /one SQL statement/);
    assert.equal(await r.send({ _msgid: "named", topic: "SELECT COUNT(*) AS n FROM power.meters WHERE location = :loc", params: { loc: "Campbell" }, payload: 1 }), "done");
    assert.deepEqual(r.out[0].payload, [{ n: 3 }]);
    assert.equal(Number(emu.sql("SELECT COUNT(*) FROM power.meters").rows[0][0]), 3);
  });

  it("errors are caught with msg.sql and msg.params and without the password; done() is called exactly once per message", async () => {
    seed(3);
    const r = await load({ sql: "SELECT nope FROM power.meters WHERE voltage > ?" });
    const outcomes: string[] = [];
    outcomes.push(await r.send({ _msgid: "e1", payload: 1, params: [1] })); // server error
    outcomes.push(await r.send({ _msgid: "e2", payload: 1, params: [] })); // wrong parameter count
    outcomes.push(await r.send({ _msgid: "e3", payload: 1, params: [{ not: "bindable" }] })); // unbindable value
    outcomes.push(await r.send({ _msgid: "e4", payload: 1, params: [null] })); // NULL
    assert.deepEqual(outcomes, ["error", "error", "error", "error"]);
    // One more round trip through the same (queued) node: a second done() of an earlier message would show here.
    outcomes.push(await r.send({ _msgid: "e5", payload: 1, params: [2] }));
    assert.equal(r.caught.length, 5, "one catch per failed message");
    assert.equal(r.completed.length, 0, "no completion for a failed message");
    for (const m of r.caught) {
      assert.equal(m.sql, "SELECT nope FROM power.meters WHERE voltage > ?");
      assert.ok("params" in m);
      assert.ok(!JSON.stringify(m).includes(PASSWORD), "no password on the message");
    }
  });

  it("the status shows running, then the last result (green) or the last error (red ring), in short texts", async () => {
    seed(3);
    const r = await load({ sql: "SELECT ts FROM power.meters WHERE voltage > ?" });
    const seen: { fill?: string; shape?: string; text?: string }[] = [];
    const n = helper.getNode("q") as unknown as { status: (s: object) => void };
    const orig = n.status.bind(n);
    n.status = (st: { fill?: string; shape?: string; text?: string }) => {
      seen.push(st);
      orig(st);
    };
    await waitFor("connected", () => seen.some((st) => st.fill === "green"));
    seen.length = 0;
    assert.equal(await r.send({ _msgid: "s1", payload: 1, params: [1] }), "done");
    await waitFor("green after the query", () => seen.at(-1)?.fill === "green");
    assert.ok(seen.some((st) => st.fill === "blue"), "running shown");
    assert.equal(await r.send({ _msgid: "s2", payload: 1, params: [] }), "error");
    await waitFor("red after the error", () => seen.at(-1)?.fill === "red" && seen.at(-1)?.shape === "ring");
    assert.equal(await r.send({ _msgid: "s3", payload: 1, params: [1] }), "done");
    await waitFor("green again once fixed", () => seen.at(-1)?.fill === "green");
    assert.ok(seen.every((st) => (st.text ?? "").length < 30), JSON.stringify(seen));
  });

  it("with concurrency 1 messages queue and run in arrival order; each completes once", async () => {
    seed(20);
    const r = await load({ sql: "SELECT COUNT(*) AS n FROM power.meters WHERE voltage = ? OR ? = 0", concurrency: 1 });
    const q = helper.getNode("q") as unknown as NodeLike;
    for (let i = 0; i < 10; i++) q.receive({ _msgid: `c${i}`, payload: i, params: [220, i] });
    await waitFor("ten completions", () => r.completed.length === 10);
    assert.deepEqual(r.out.map((m) => m.payload), [[{ n: 20 }], ...Array.from({ length: 9 }, () => [{ n: 10 }])]);
    assert.deepEqual(r.completed.map((m) => m._msgid), Array.from({ length: 10 }, (_, i) => `c${i}`));
    assert.equal(r.caught.length, 0);
  });
});
