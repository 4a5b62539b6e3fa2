// The streaming read API against the emulator over real sockets: a multi-block result streamed equals query()'s,
// parameterised streams (stmt2) block by block, early break and reuse of the connection afterwards, DDL/DML as
// affectedRows without blocks, and a slow server cut off by the overall deadline.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { openClient, TdengineError, type Stmt2, type TdengineClientApi } from "../../lib/tdengine/index.js";

let emu: Emulator;
let client: TdengineClientApi;
const ROWS = 10_000;
const T0 = 1_700_000_000_000;

before(async () => {
  emu = await startEmulator();
  emu.sql("CREATE DATABASE power PRECISION 'ms'");
  emu.sql("CREATE TABLE power.t (ts TIMESTAMP, v INT, s VARCHAR(8))");
  for (let i = 0; i < ROWS; i += 1000) {
    const vals = Array.from({ length: 1000 }, (_, k) => `(${T0 + i + k}, ${i + k}, ${(i + k) % 3 === 0 ? "NULL" : `'s${(i + k) % 7}'`})`);
    emu.sql(`INSERT INTO power.t VALUES ${vals.join(" ")}`);
  }
  client = await openClient({ url: emu.wsUrl, database: "power", timeoutMs: 10_000 });
});

after(async () => {
  await client?.close();
  await emu?.stop();
});

describe("query streams against the emulator", () => {
  it("a multi-block result streamed block by block equals query()'s rows, with the same columns", async () => {
    const whole = await client.query("SELECT ts, v, s FROM power.t ORDER BY ts");
    const stream = await client.queryStream("SELECT ts, v, s FROM power.t ORDER BY ts");
    const rows: unknown[][] = [];
    let blocks = 0;
    for await (const block of stream) {
      assert.equal(block.index, blocks++);
      rows.push(...block.rows);
    }
    assert.ok(blocks >= 3, `${blocks} blocks`);
    assert.deepEqual(stream.columns, whole.columns);
    assert.deepEqual(rows, whole.rows);
    assert.equal(rows.length, ROWS);
  });

  it("a parameterised stream (stmt2) reads the matching rows block by block, and the rows helper yields them one by one", async () => {
    const stream = await client.queryStreamWithParams("SELECT v FROM power.t WHERE v >= ? AND s = ?", [100, "s1"]);
    const got: number[] = [];
    for await (const row of stream.rows()) got.push(row[0] as number);
    const expected = Array.from({ length: ROWS }, (_, k) => k).filter((k) => k >= 100 && k % 3 !== 0 && k % 7 === 1);
    assert.deepEqual(got.sort((a, b) => a - b), expected);
  });

  it("a statement from a holder is handed back exactly once, when the stream ends, not before", async () => {
    const released: boolean[] = [];
    let acquired = 0;
    const statements = {
      acquire: async (c: TdengineClientApi, sql: string, prepare: () => Promise<Stmt2>) => {
        const s = await prepare();
        acquired++;
        return s;
      },
      release: (stmt: Stmt2, ok: boolean) => {
        released.push(ok);
        void stmt.close();
      },
    };
    const opts = { statements } as Parameters<TdengineClientApi["queryStreamWithParams"]>[2];
    const stream = await client.queryStreamWithParams("SELECT v FROM power.t WHERE v >= ?", [0], opts);
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    assert.deepEqual(released, [], "still in use while the result is read");
    await it.return?.();
    assert.deepEqual(released, [true]);
    await stream.close();
    assert.deepEqual(released, [true], "not twice");
    await assert.rejects(client.queryStreamWithParams("INSERT INTO power.t VALUES (?, ?, ?)", [T0, 1, "x"], opts), /needs a SELECT/);
    assert.deepEqual(released, [true, false], "a statement that failed is handed back as not ok");
    assert.equal(acquired, released.length, "every statement taken is handed back once");
  });

  it("breaking out early leaves the connection usable, for plain and parameterised streams alike", async () => {
    for (let i = 0; i < 20; i++) {
      const s = i % 2 ? await client.queryStream("SELECT v FROM power.t") : await client.queryStreamWithParams("SELECT v FROM power.t WHERE v >= ?", [i]);
      for await (const block of s) {
        assert.ok(block.rows.length > 0);
        break;
      }
    }
    assert.equal((await client.query("SELECT COUNT(*) FROM power.t")).rows[0][0], ROWS);
  });

  it("DDL and INSERT give affectedRows and no blocks", async () => {
    const ddl = await client.queryStream("CREATE TABLE power.u (ts TIMESTAMP, v INT)");
    assert.equal(ddl.affectedRows, 0);
    const ins = await client.queryStream(`INSERT INTO power.u VALUES (${T0}, 1) (${T0 + 1}, 2)`);
    assert.equal(ins.affectedRows, 2);
    const blocks: unknown[] = [];
    for await (const b of ins) blocks.push(b);
    assert.deepEqual(blocks, []);
  });

  it("a server slower than the deadline ends the query with kind timeout at the deadline", async () => {
    emu.faults.delayReplies(1500);
    try {
      const t0 = Date.now();
      await assert.rejects(client.query("SELECT v FROM power.t", { deadlineMs: 300 }), (e: unknown) => e instanceof TdengineError && e.kind === "timeout" && /deadline/.test(e.message));
      assert.ok(Date.now() - t0 < 1400, "cut at the deadline, not at the reply");
    } finally {
      emu.faults.reset();
    }
    assert.equal((await client.query("SELECT COUNT(*) FROM power.t")).rows[0][0], ROWS, "the connection still works");
  });
});
