// lib/query without Node-RED: placeholder binding (positional and named, text in quotes and comments left alone,
// one statement only), row values per option, settings validation and the per-node queue.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bindStatement, parseQueryNodeSettings, QueryQueue, QueueFullError, QueueStoppedError, queryRowConverter, statementText } from "../../lib/query";
import type { ColumnMeta } from "../../lib/tdengine/api";

describe("bindStatement", () => {
  it("keeps ? placeholders and the array's values in order", () => {
    assert.deepEqual(bindStatement("SELECT * FROM t WHERE a = ? AND b > ?", [1, "x"]), { sql: "SELECT * FROM t WHERE a = ? AND b > ?", params: [1, "x"] });
  });

  it("turns :name and $name into ? with the object's values, repeated names included", () => {
    const b = bindStatement("SELECT * FROM t WHERE loc = :loc AND ts >= $from AND (x = :loc)", { loc: "a", from: 5, extra: 1 });
    assert.deepEqual(b, { sql: "SELECT * FROM t WHERE loc = ? AND ts >= ? AND (x = ?)", params: ["a", 5, "a"] });
  });

  it("leaves placeholders inside strings, quoted identifiers and comments alone", () => {
    const sql = "SELECT ':a', \"$b ?\", `c?` FROM t -- :d ?\n WHERE x = 'it''s :e' /* ? :f */ AND y = :g";
    assert.deepEqual(bindStatement(sql, { g: 1 }).params, [1]);
    assert.equal(bindStatement("SELECT '?' FROM t", undefined).sql, "SELECT '?' FROM t");
  });

  it("refuses a second statement, but accepts one trailing ';'", () => {
    assert.throws(() => bindStatement("SELECT 1; DROP DATABASE power", undefined), /one SQL statement/);
    assert.throws(() => bindStatement("SELECT ?; DROP DATABASE power", ["x"]), /one SQL statement/);
    assert.equal(bindStatement("SELECT 1 ;  ", undefined).sql, "SELECT 1");
    assert.equal(bindStatement("SELECT ';' FROM t", undefined).sql, "SELECT ';' FROM t");
  });

  it("refuses mismatched or missing parameters with a message saying which", () => {
    assert.throws(() => bindStatement("SELECT ? , ?", [1]), /2 '\?' placeholder\(s\) but msg.params has 1/);
    assert.throws(() => bindStatement("SELECT ?", undefined), /msg.params is not set/);
    assert.throws(() => bindStatement("SELECT :a", [1]), /must be an object/);
    assert.throws(() => bindStatement("SELECT ?", { a: 1 }), /must be an array/);
    assert.throws(() => bindStatement("SELECT :a", {}), /no value for the placeholder :a/);
    assert.throws(() => bindStatement("SELECT :a", "x"), /array .* or an object/);
    assert.throws(() => bindStatement("SELECT 'open", undefined), /unterminated string/);
  });

  it("does not take inherited keys (prototype names) as values", () => {
    assert.throws(() => bindStatement("SELECT :constructor", {}), /no value for the placeholder :constructor/);
    assert.throws(() => bindStatement("SELECT :toString", Object.create({ toString: 1 })), /array .* or an object/);
  });

  it("a : or $ inside a word is not a placeholder", () => {
    assert.deepEqual(bindStatement("SELECT a$b FROM t", undefined).params, []);
  });
});

describe("statementText", () => {
  const opts = (sql: string, allowTopic: boolean) => parseQueryNodeSettings({ sql, allowTopic });
  it("uses the node's SQL, msg.topic only when allowed and the node has none", () => {
    assert.equal(statementText(opts("SELECT 1", true), "DROP DATABASE x"), "SELECT 1");
    assert.equal(statementText(opts("", true), " SELECT 2 "), "SELECT 2");
    assert.throws(() => statementText(opts("", false), "SELECT 2"), /no SQL/);
    assert.throws(() => statementText(opts("", true), 42), /no SQL/);
  });
});

describe("parseQueryNodeSettings", () => {
  it("has documented defaults and refuses bad values", () => {
    const d = parseQueryNodeSettings({});
    assert.deepEqual({ ...d }, { sql: "", allowTopic: false, output: "all", maxRows: 10000, bigint: "string", timestamps: "date", concurrency: 1, deadlineMs: 60000 });
    assert.throws(() => parseQueryNodeSettings({ output: "stream" }), /output must be one of/);
    assert.throws(() => parseQueryNodeSettings({ maxRows: 0 }), /row cap/);
    assert.throws(() => parseQueryNodeSettings({ concurrency: 99 }), /concurrent/);
    assert.throws(() => parseQueryNodeSettings({ timeout: -1 }), /timeout/);
    assert.equal(parseQueryNodeSettings({ allowTopic: "true" as unknown as boolean }).allowTopic, false, "only a real true enables msg.topic");
  });
});

describe("queryRowConverter", () => {
  const cols: ColumnMeta[] = [
    { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "us" },
    { name: "b", type: 5, typeName: "BIGINT", length: 8 },
    { name: "b", type: 14, typeName: "BIGINT UNSIGNED", length: 8 },
    { name: "s", type: 8, typeName: "VARCHAR", length: 8 },
  ];
  it("gives repeated names a suffix, NULL as null, us timestamps as Date/ms/epoch", () => {
    const row = [1_700_000_000_123_456, 5, "18446744073709551615", null];
    assert.deepEqual(queryRowConverter(cols, "us", { bigint: "string", timestamps: "date" }).convert(row), { ts: new Date(1_700_000_000_123), b: 5, b_2: "18446744073709551615", s: null });
    assert.equal(queryRowConverter(cols, "us", { bigint: "string", timestamps: "ms" }).convert(row).ts, 1_700_000_000_123);
    assert.equal(queryRowConverter(cols, "us", { bigint: "string", timestamps: "epoch" }).convert(row).ts, 1_700_000_000_123_456);
  });
  it("BigInt mode makes every BIGINT a BigInt; string mode keeps safe ones as numbers", () => {
    const c = queryRowConverter(cols, "us", { bigint: "bigint", timestamps: "ms" });
    assert.deepEqual(c.convert([0, 5, "18446744073709551615", "x"]), { ts: 0, b: 5n, b_2: 18446744073709551615n, s: "x" });
    assert.equal(queryRowConverter(cols, "us", { bigint: "string", timestamps: "ms" }).convert([0, 9007199254740993n, 1, ""]).b, "9007199254740993");
  });
  it("ns timestamps: Date and ms floor exactly (also before 1970), epoch is a string or BigInt", () => {
    const ns: ColumnMeta[] = [{ name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: "ns" }];
    assert.equal(queryRowConverter(ns, "ns", { bigint: "string", timestamps: "ms" }).convert([1_700_000_000_123_456_789n]).ts, 1_700_000_000_123);
    assert.equal(queryRowConverter(ns, "ns", { bigint: "string", timestamps: "ms" }).convert([-1n]).ts, -1);
    assert.equal(queryRowConverter(ns, "ns", { bigint: "string", timestamps: "epoch" }).convert([1_700_000_000_123_456_789n]).ts, "1700000000123456789");
    assert.equal(queryRowConverter(ns, "ns", { bigint: "bigint", timestamps: "epoch" }).convert([5]).ts, 5n);
  });
});

describe("QueryQueue", () => {
  function gate(): { promise: Promise<void>; open(): void } {
    let open: () => void = () => undefined;
    const promise = new Promise<void>((r) => (open = r));
    return { promise, open };
  }

  it("runs at most `concurrency` jobs, the rest in arrival order, and refuses beyond the waiting limit", async () => {
    const q = new QueryQueue(2, 2);
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const runs = gates.map((g, i) => q.run(async () => { started.push(i); await g.promise; }));
    await assert.rejects(q.run(async () => undefined), QueueFullError);
    assert.deepEqual(started, [0, 1]);
    gates[1].open();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2]);
    gates.forEach((g) => g.open());
    await Promise.all(runs);
    assert.deepEqual(started, [0, 1, 2, 3]);
    await q.idle();
  });

  it("stopAll aborts the running jobs and drops the waiting ones", async () => {
    const q = new QueryQueue(1, 10);
    let aborted = false;
    const running = q.run((signal) => new Promise<void>((_, reject) => signal.addEventListener("abort", () => { aborted = true; reject(new Error("aborted")); })));
    const waiting = q.run(async () => assert.fail("a dropped job must not run"));
    q.stopAll();
    await assert.rejects(running, QueueStoppedError);
    await assert.rejects(waiting, QueueStoppedError);
    assert.equal(aborted, true);
    await assert.rejects(q.run(async () => undefined), QueueStoppedError);
    await q.idle();
  });
});
