// The TDengine client against the taosAdapter emulator over real WebSockets: sessions, queries, stmt2 writes into
// auto-created subtables, parameterised queries, concurrency with out-of-order replies, server errors with their
// codes, dropped connections and timeouts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { openClient, TdengineError, type TdengineClientApi, type TdengineErrorKind } from "../../lib/tdengine/index.js";
import { freePort } from "../support/free-port.js";
import { waitFor } from "../support/wait.js";

let emu: Emulator;
let client: TdengineClientApi;

function isKind(kind: TdengineErrorKind, code?: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof TdengineError, `expected a TdengineError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    if (code !== undefined) assert.equal(e.code, code, e.message);
    return true;
  };
}

before(async () => {
  emu = await startEmulator();
  const setup = await openClient({ url: emu.wsUrl, timeoutMs: 10_000 });
  await setup.exec("CREATE DATABASE IF NOT EXISTS power PRECISION 'ms'");
  await setup.exec(
    "CREATE STABLE IF NOT EXISTS power.meters (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT) TAGS (groupid INT, location VARCHAR(16))",
  );
  await setup.close();
  // `INSERT INTO ? USING ...` binds bare subtable names: they live in the connection's default database.
  client = await openClient({ url: emu.wsUrl, database: "power", timeoutMs: 10_000 });
});

after(async () => {
  await client?.close();
  await emu?.stop();
});

describe("client session", () => {
  it("opens with conn + version and reports the server version", () => {
    assert.equal(client.serverVersion, "3.3.6.0");
    assert.equal(client.closed, false);
  });

  it("refuses servers older than 3.3.6.0, saying which version and why", async () => {
    const old = await startEmulator({ serverVersion: "3.3.5.0" });
    try {
      await assert.rejects(openClient({ url: old.wsUrl }), (e: unknown) => isKind("version")(e) && /3\.3\.5\.0/.test((e as Error).message) && /3\.3\.6\.0/.test((e as Error).message) && /stmt2/.test((e as Error).message));
      await waitFor("the refused session to be closed", () => old.stats().connections === 0);
    } finally {
      await old.stop();
    }
  });

  it("rejects a wrong password with server code 855", async () => {
    await assert.rejects(openClient({ url: emu.wsUrl, password: "wrong" }), isKind("server", 855));
  });

  it("reports a refused connection as kind refused (retryable)", async () => {
    const port = await freePort();
    await assert.rejects(openClient({ url: `ws://127.0.0.1:${port}`, timeoutMs: 5000 }), (e: unknown) => isKind("refused")(e) && (e as TdengineError).retryable);
  });
});

describe("client statements", () => {
  it("writes 10 auto-created subtables with one stmt2 bind and reads them back", async () => {
    const stmt = await client.prepare("INSERT INTO ? USING power.meters TAGS (?,?) VALUES (?,?,?,?)");
    assert.equal(stmt.isInsert, true);
    assert.deepEqual(stmt.fields.map((f) => f.bindType), ["tbname", "tag", "tag", "column", "column", "column", "column"]);
    const base = 1_700_000_000_000;
    const tables = Array.from({ length: 10 }, (_, i) => ({
      table: `d${i}`,
      tags: [i, `loc${i}`],
      columns: [
        [base + i, base + i + 1000],
        [i + 0.5, null],
        [220 + i, 230 + i],
        [0.25, -0.5],
      ],
    }));
    await stmt.bind(tables);
    assert.equal(await stmt.exec(), 20);
    // The statement is reusable for the next batch.
    await stmt.bind([{ table: "d0", tags: [0, "loc0"], columns: [[base + 5000], [1.25], [225], [0.75]] }]);
    assert.equal(await stmt.exec(), 1);
    await stmt.close();

    assert.deepEqual(emu.sql("SELECT COUNT(*) FROM power.meters").rows, [[21n]]);
    const r = await client.query("SELECT ts, current, voltage, phase, groupid, location FROM power.meters WHERE groupid = 3 ORDER BY ts");
    assert.deepEqual(r.columns.map((c) => [c.name, c.typeName, c.length]), [
      ["ts", "TIMESTAMP", 8],
      ["current", "FLOAT", 4],
      ["voltage", "INT", 4],
      ["phase", "FLOAT", 4],
      ["groupid", "INT", 4],
      ["location", "VARCHAR", 16],
    ]);
    assert.equal(r.columns[0].precision, "ms");
    assert.equal(r.precision, "ms");
    assert.deepEqual(r.rows, [
      [base + 3, 3.5, 223, 0.25, 3, "loc3"],
      [base + 1003, null, 233, -0.5, 3, "loc3"],
    ]);
  });

  it("queryWithParams binds values through stmt2 (never into the SQL text)", async () => {
    const r = await client.queryWithParams("SELECT ts, voltage, location FROM power.meters WHERE ts > ? AND location = ? ORDER BY ts", [1_700_000_000_500n, "loc7"]);
    assert.deepEqual(r.rows, [[1_700_000_001_007, 237, "loc7"]]);
    const none = await client.queryWithParams("SELECT ts FROM power.meters WHERE location = ?", ["x' OR '1'='1"]);
    assert.deepEqual(none.rows, []);
  });

  it("exec returns affected rows; query of a statement without result set carries affectedRows", async () => {
    assert.deepEqual(await client.exec("INSERT INTO power.d0 VALUES (1700000100000, 1, 2, 3)"), { affectedRows: 1 });
    const r = await client.query("INSERT INTO power.d0 VALUES (1700000100001, 1, 2, 3) (1700000100002, 1, 2, 3)");
    assert.equal(r.affectedRows, 2);
    assert.deepEqual(r.rows, [[2]]);
    assert.deepEqual(await client.exec("CREATE DATABASE IF NOT EXISTS power"), { affectedRows: 0 });
  });

  it("round-trips many column types, NULLs and ns timestamps", async () => {
    await client.exec("CREATE DATABASE IF NOT EXISTS kinds PRECISION 'ns'");
    await client.exec(
      "CREATE TABLE IF NOT EXISTS kinds.t (ts TIMESTAMP, b BOOL, i8 TINYINT, i16 SMALLINT, i64 BIGINT, u8 TINYINT UNSIGNED, u64 BIGINT UNSIGNED, d DOUBLE, s VARCHAR(20), n NCHAR(10), vb VARBINARY(8))",
    );
    const stmt = await client.prepare("INSERT INTO kinds.t VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    assert.equal(stmt.fields[0].precision, "ns");
    await stmt.bind([
      {
        columns: [
          [1_700_000_000_123_456_789n, 1_700_000_000_123_456_790n],
          [true, null],
          [-128, null],
          [-32768, 7],
          [2n ** 62n, -1],
          [255, null],
          [2n ** 64n - 1n, 0],
          [0.1, null],
          ["héllo", ""],
          ["a😀", null],
          [Uint8Array.from([1, 2, 255]), null],
        ],
      },
    ]);
    assert.equal(await stmt.exec(), 2);
    await stmt.close();
    const r = await client.query("SELECT * FROM kinds.t ORDER BY ts");
    assert.equal(r.precision, "ns");
    assert.deepEqual(r.rows, [
      [1_700_000_000_123_456_789n, true, -128, -32768, "4611686018427387904", 255, "18446744073709551615", 0.1, "héllo", "a😀", Uint8Array.from([1, 2, 255])],
      [1_700_000_000_123_456_790n, null, null, 7, -1, null, 0, null, "", null, null],
    ]);
  });

  it("round-trips DECIMAL (text with scale), DECIMAL64 and GEOMETRY, with column metadata", async () => {
    await client.exec("CREATE DATABASE IF NOT EXISTS dec");
    await client.exec("CREATE TABLE IF NOT EXISTS dec.t (ts TIMESTAMP, a DECIMAL(10,4), b DECIMAL(30,2), g GEOMETRY(50))");
    const stmt = await client.prepare("INSERT INTO dec.t VALUES (?,?,?,?)");
    assert.deepEqual(stmt.fields.map((f) => [f.type, f.scale]), [[9, 0], [21, 4], [17, 2], [20, 0]]);
    const point = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40]);
    await stmt.bind([{ columns: [[1_700_000_000_000, 1_700_000_000_001], ["12.34", null], ["-123.45", "99999999999999999999.99"], [point, null]] }]);
    assert.equal(await stmt.exec(), 2);
    await stmt.close();
    const r = await client.query("SELECT * FROM dec.t ORDER BY ts");
    assert.deepEqual(r.columns.slice(1).map((c) => [c.typeName, c.scale]), [["DECIMAL(10,4)", 4], ["DECIMAL(30,2)", 2], ["GEOMETRY", undefined]]);
    assert.deepEqual(r.rows, [
      [1_700_000_000_000, "12.3400", "-123.45", point],
      [1_700_000_000_001, null, "99999999999999999999.99", null],
    ]);
  });

  it("schemaless insert reports affected and total rows", async () => {
    const r = await client.schemalessInsert(["sml,host=a v=1i64 1700000000000", "sml,host=b v=2i64 1700000000001"], { precision: "ms" });
    assert.deepEqual(r, { affectedRows: 2, totalRows: 2 });
  });
});

describe("client errors", () => {
  it("server errors carry their codes: 904 database missing, 9731/9826 table missing, 9728 syntax", async () => {
    await assert.rejects(client.query("SELECT * FROM nodb.t"), isKind("server", 904));
    await assert.rejects(client.query("SELECT * FROM power.missing_table"), (e: unknown) => isKind("server")(e) && [9731, 9826].includes((e as TdengineError).code));
    await assert.rejects(client.exec("INSERT INTO power.missing_table VALUES (1, 1, 1, 1)"), (e: unknown) => isKind("server")(e) && [9731, 9826].includes((e as TdengineError).code));
    await assert.rejects(client.query("SELEC 1"), isKind("server", 9728));
    await assert.rejects(client.prepare("INSERT INTO ? USING power.nothere TAGS (?) VALUES (?,?)"), isKind("server"));
    // The session is still usable after server errors.
    assert.deepEqual((await client.query("SELECT COUNT(*) FROM power.meters WHERE groupid = 1")).rows, [[2]]);
  });

  it("injected server failures keep their code and are retryable only for network codes", async () => {
    emu.faults.failNext(1, 0x000b, "Unable to establish connection");
    await assert.rejects(client.query("SELECT COUNT(*) FROM power.meters"), (e: unknown) => isKind("server", 11)(e) && (e as TdengineError).retryable);
  });

  it("invalid bind input is rejected before anything is sent", async () => {
    const stmt = await client.prepare("INSERT INTO ? USING power.meters TAGS (?,?) VALUES (?,?,?,?)");
    try {
      await assert.rejects(stmt.bind([{ table: "d1", tags: [1, "x"], columns: [["nope"], [1], [1], [1]] }]), isKind("invalid"));
      await assert.rejects(client.queryWithParams("SELECT * FROM power.meters WHERE ts > ?", [null]), isKind("invalid"));
    } finally {
      await stmt.close();
    }
  });
});

describe("client concurrency and transport faults", () => {
  it("matches many concurrent requests on one socket when replies come back out of order", async () => {
    const shuffled = await startEmulator({ reorderReplies: true });
    const setup = await openClient({ url: shuffled.wsUrl });
    await setup.exec("CREATE DATABASE db");
    await setup.exec("CREATE STABLE db.s (ts TIMESTAMP, v INT) TAGS (k INT)");
    await setup.close();
    const c = await openClient({ url: shuffled.wsUrl, database: "db" });
    try {
      const stmt = await c.prepare("INSERT INTO ? USING db.s TAGS (?) VALUES (?,?)");
      await stmt.bind(Array.from({ length: 20 }, (_, i) => ({ table: `t${i}`, tags: [i], columns: [[1_700_000_000_000 + i], [i * 10]] })));
      await stmt.exec();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0 ? c.query(`SELECT v, k FROM db.t${i}`) : c.queryWithParams("SELECT v, k FROM db.s WHERE k = ?", [i]),
        ),
      );
      results.forEach((r, i) => assert.deepEqual(r.rows, [[i * 10, i]], `request ${i}`));
    } finally {
      await c.close();
      await shuffled.stop();
    }
  });

  it("a connection dropped mid-query rejects pending requests with kind closed and emits close", async () => {
    const c = await openClient({ url: emu.wsUrl });
    const closed = new Promise<Error | undefined>((resolve) => c.once("close", resolve));
    emu.faults.delayReplies(60_000);
    try {
      const pending = [c.query("SELECT * FROM power.meters"), c.exec("INSERT INTO power.d0 VALUES (1700000200000, 1, 2, 3)")];
      await waitFor("the requests to reach the emulator", () => emu.stats().requests > 0);
      const rejected = pending.map((p) => assert.rejects(p, (e: unknown) => isKind("closed")(e) && (e as TdengineError).retryable));
      emu.faults.dropConnections();
      await Promise.all(rejected);
      assert.ok((await closed) instanceof TdengineError);
      assert.equal(c.closed, true);
      await assert.rejects(c.query("SELECT 1"), isKind("closed"));
    } finally {
      emu.faults.reset();
    }
    // A fresh client works again.
    const again = await openClient({ url: emu.wsUrl });
    assert.deepEqual((await again.query("SELECT COUNT(*) FROM power.meters WHERE groupid = 2")).rows, [[2]]);
    await again.close();
  });

  it("delayed replies time out with kind timeout; the session stays usable", async () => {
    const c = await openClient({ url: emu.wsUrl, timeoutMs: 5000 });
    try {
      emu.faults.delayReplies(1000);
      await assert.rejects(c.query("SELECT COUNT(*) FROM power.meters", { timeoutMs: 100 }), (e: unknown) => isKind("timeout")(e) && (e as TdengineError).retryable);
      emu.faults.reset();
      assert.deepEqual((await c.query("SELECT COUNT(*) FROM power.meters WHERE groupid = 5")).rows, [[2]]);
    } finally {
      emu.faults.reset();
      await c.close();
    }
  });

  it("close() rejects pending requests with kind closed", async () => {
    const c = await openClient({ url: emu.wsUrl });
    emu.faults.delayReplies(60_000);
    try {
      const rejected = assert.rejects(c.query("SELECT * FROM power.meters"), isKind("closed"));
      await c.close();
      await rejected;
      assert.equal(c.closed, true);
    } finally {
      emu.faults.reset();
    }
  });
});
