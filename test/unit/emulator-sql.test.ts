// SQL engine of the emulator: each statement form, NOW arithmetic, precisions, errors with TDengine codes.
import assert from "node:assert/strict";
import { describe, it, beforeEach } from "node:test";
import { Engine } from "../../emulator/sql/engine.js";
import { nowIn, parseTimestampString } from "../../emulator/sql/time.js";
import { Catalog } from "../../emulator/store/catalog.js";
import { sqlHelpers } from "../support/sql-engine.js";

let engine: Engine;
let session: { db: string | null };
const { run, rows, names, affected, code } = sqlHelpers(() => ({ engine, session }));

beforeEach(() => {
  engine = new Engine(new Catalog(0), "3.3.6.0");
  session = { db: null };
});

describe("emulator SQL: databases", () => {
  it("creates, lists, uses and drops databases with their precision", () => {
    assert.equal(affected("create database if not exists d1 precision 'us' keep 3650 duration 10d"), 0);
    assert.equal(code("create database d1"), 897);
    affected("create database if not exists d1");
    const dbs = rows("show databases").map((r) => r[0]);
    assert.deepEqual(dbs, ["information_schema", "performance_schema", "d1"]);
    assert.deepEqual(rows("select `precision` from information_schema.ins_databases where name='d1'"), [["us"]]);
    affected("use d1");
    assert.equal(session.db, "d1");
    affected("drop database d1");
    assert.equal(code("drop database d1"), 904);
    affected("drop database if exists d1");
    assert.equal(code("use nope"), 904);
    assert.equal(code("create database x precision 'xs'"), 0x2619);
  });
});

describe("emulator SQL: tables", () => {
  beforeEach(() => {
    run("create database db");
    run("use db");
  });

  it("creates super tables, child tables and normal tables; SHOW and DESCRIBE list them", () => {
    affected("create stable st (ts timestamp, v double, s binary(8)) tags (loc nchar(10), g int)");
    assert.equal(code("create stable st (ts timestamp, v int) tags (g int)"), 0x0360);
    affected("create stable if not exists st (ts timestamp, v int) tags (g int)");
    affected("create table c1 using st tags ('here', 1) c2 using st (g) tags (2)");
    affected("create table if not exists c1 using st tags ('x', 9)");
    assert.equal(code("create table c1 using st tags ('x', 9)"), 1539);
    affected("create table nt (ts timestamp, n int unsigned)");
    assert.deepEqual(rows("show stables"), [["st"]]);
    assert.deepEqual(rows("show tables").map((r) => r[0]).sort(), ["c1", "c2", "nt"]);
    assert.deepEqual(rows("describe st").map((r) => [r[0], r[1], r[2], r[3]]), [
      ["ts", "TIMESTAMP", 8, ""],
      ["v", "DOUBLE", 8, ""],
      ["s", "VARCHAR", 8, ""],
      ["loc", "NCHAR", 10, "TAG"],
      ["g", "INT", 4, "TAG"],
    ]);
    assert.deepEqual(rows("select tbname, loc, g from st where g = 2 or g = 1 order by g"), []); // no rows yet
    assert.equal(code("create table bad (v int, ts timestamp)"), 0x2641);
    assert.equal(code("create table x2 using nost tags (1)"), 9731);
    affected("drop table c2");
    assert.equal(code("drop table c2"), 9731);
    affected("drop table if exists c2");
    assert.equal(code("drop stable nost"), 866);
    affected("drop stable st");
    assert.deepEqual(rows("show tables").map((r) => r[0]), ["nt"]);
  });

  it("reports database not specified / not exist", () => {
    session.db = null;
    assert.equal(code("select * from t"), 9750);
    assert.equal(code("insert into t values (now, 1)"), 535);
    assert.equal(code("select * from nodb.t"), 904);
  });
});

describe("emulator SQL: insert and select", () => {
  beforeEach(() => {
    run("create database db");
    run("use db");
    run("create stable st (ts timestamp, v double, s varchar(5), n nchar(3), f float, b bool, u bigint unsigned) tags (loc varchar(10), g int)");
  });

  it("inserts multi-row, multi-table with USING auto-create, and selects * columns then tags", () => {
    const t = 1700000000000;
    assert.equal(
      affected(`insert into d1 using st tags ('a', 1) values (${t}, 1.5, 'x', 'é', 1.1, true, 18446744073709551615) (${t + 1}, null, null, null, null, null, null) d2 using st tags ('b', 2) (ts, v) values (${t}, 2.5)`),
      3,
    );
    assert.deepEqual(names("select * from st"), ["ts", "v", "s", "n", "f", "b", "u", "loc", "g"]);
    assert.deepEqual(names("select * from d1"), ["ts", "v", "s", "n", "f", "b", "u"]);
    assert.deepEqual(rows("select * from d1"), [
      [BigInt(t), 1.5, "x", "é", Math.fround(1.1), true, 18446744073709551615n],
      [BigInt(t + 1), null, null, null, null, null, null],
    ]);
    assert.deepEqual(rows("select tbname, ts, v, loc from st order by tbname desc, ts asc"), [
      ["d2", BigInt(t), 2.5, "b"],
      ["d1", BigInt(t), 1.5, "a"],
      ["d1", BigInt(t + 1), null, "a"],
    ]);
  });

  it("replaces the row of an existing timestamp and keeps timestamps sorted", () => {
    const t = 1700000000000;
    run(`insert into d1 using st tags ('a', 1) values (${t + 2}, 3, 'c', null, null, null, null)`);
    run(`insert into d1 values (${t}, 1, 'a', null, null, null, null) (${t + 2}, 33, 'cc', null, null, null, null) (${t + 1}, 2, 'b', null, null, null, null)`);
    assert.deepEqual(rows("select ts, v, s from d1"), [
      [BigInt(t), 1, "a"],
      [BigInt(t + 1), 2, "b"],
      [BigInt(t + 2), 33, "cc"],
    ]);
  });

  it("supports the super-table insert form with tbname", () => {
    const t = 1700000000000;
    assert.equal(affected(`insert into st (tbname, ts, v, loc, g) values ('d7', ${t}, 1, 'x', 7) ('d8', ${t}, 2, 'y', 8) ('d7', ${t + 1}, 3, 'x', 7)`), 3);
    assert.deepEqual(rows("select count(*) from st where tbname = 'd7'"), [[2n]]);
    assert.deepEqual(rows("select tbname, v, g from st order by v"), [
      ["d7", 1, 7],
      ["d8", 2, 8],
      ["d7", 3, 7],
    ]);
  });

  it("enforces lengths and types", () => {
    assert.equal(code("insert into d1 using st tags ('a', 1) values (now, 1, 'toolong', null, null, null, null)"), 0x2610);
    assert.equal(code("insert into d1 using st tags ('a', 1) values (now, 1, 'ok', 'four', null, null, null)"), 0x2610);
    assert.equal(code("insert into d1 using st tags ('a', 1) values (now, 'abc', 'ok', null, null, null, null)"), 9728);
    assert.equal(code("insert into nosuch values (now, 1)"), 9731);
    assert.equal(code("select * from nosuch"), 9731);
    assert.equal(code("insert into d1 using st tags ('a', 1) values (1, 1, 'ok', null, null, null, null)"), 1547);
  });

  it("filters with comparisons, AND/OR/NOT, BETWEEN, IN, tags, and timestamp strings", () => {
    const t = Date.UTC(2024, 0, 1);
    const vals = [0, 1, 2, 3, 4, 5].map((i) => `(${t + i * 1000}, ${i}, 's${i}', null, null, ${i % 2 === 0}, null)`).join(" ");
    run(`insert into d1 using st tags ('a', 1) values ${vals}`);
    run(`insert into d2 using st tags ('b', 2) values (${t}, 100, 'z', null, null, null, null)`);
    const v = (sql: string): unknown[] => rows(sql).map((r) => r[0]);
    assert.deepEqual(v("select v from d1 where v > 1 and v <= 3"), [2, 3]);
    assert.deepEqual(v("select v from d1 where v < 1 or v >= 5"), [0, 5]);
    assert.deepEqual(v("select v from d1 where not (v between 1 and 4)"), [0, 5]);
    assert.deepEqual(v("select v from d1 where v in (1, 3, 9)"), [1, 3]);
    assert.deepEqual(v("select v from d1 where v not in (1, 3)"), [0, 2, 4, 5]);
    assert.deepEqual(v("select v from d1 where b = true and s != 's0'"), [2, 4]);
    assert.deepEqual(v("select v from st where g = 2"), [100]);
    assert.deepEqual(v("select v from st where loc in ('b')"), [100]);
    assert.deepEqual(v(`select v from d1 where ts >= ${t + 2000} and ts < ${t + 4000}`), [2, 3]);
    process.env.TZ = "UTC";
    assert.deepEqual(v("select v from d1 where ts > '2024-01-01 00:00:03.000'"), [4, 5]);
    assert.deepEqual(v("select v from d1 where ts between '2024-01-01T00:00:01Z' and '2024-01-01T00:00:02Z'"), [1, 2]);
    assert.deepEqual(v("select v from d1 where s is null"), []);
  });

  it("orders, limits and offsets", () => {
    const t = 1700000000000;
    run(`insert into d1 using st tags ('a', 1) values (${t}, 3, 'c', null, null, null, null) (${t + 1}, 1, 'a', null, null, null, null) (${t + 2}, 2, 'b', null, null, null, null)`);
    run(`insert into d2 using st tags ('b', 2) values (${t}, 9, 'z', null, null, null, null)`);
    const v = (sql: string): unknown[] => rows(sql).map((r) => r[0]);
    assert.deepEqual(v("select v from d1 order by ts desc"), [2, 1, 3]);
    assert.deepEqual(v("select v from d1 order by v"), [1, 2, 3]);
    assert.deepEqual(v("select v from st order by ts desc, v desc"), [2, 1, 9, 3]);
    assert.deepEqual(v("select v from d1 limit 2"), [3, 1]);
    assert.deepEqual(v("select v from d1 limit 2 offset 1"), [1, 2]);
    assert.deepEqual(v("select v from d1 limit 1, 1"), [1]);
    assert.deepEqual(v("select v as x from d1 order by x desc limit 1"), [3]);
  });

  it("computes aggregates without windows, named as TDengine names them", () => {
    const t = 1700000000000;
    run(`insert into d1 using st tags ('a', 1) values (${t}, 3, 'c', null, null, null, 5) (${t + 1}, null, 'a', null, null, null, 7) (${t + 2}, 2, 'b', null, null, null, null)`);
    run(`insert into d2 using st tags ('b', 2) values (${t - 5}, 10, 'z', null, null, null, null)`);
    assert.deepEqual(names("select count(*), count(v), min(v), max(v), avg(v), sum(v), first(v), last(v), last_row(v) from st"), [
      "count(*)", "count(v)", "min(v)", "max(v)", "avg(v)", "sum(v)", "first(v)", "last(v)", "last_row(v)",
    ]);
    assert.deepEqual(rows("select count(*), count(v), min(v), max(v), avg(v), sum(v), first(v), last(v), last_row(v) from st"), [[4n, 3n, 2, 10, 5, 15, 10, 2, 2]]);
    assert.deepEqual(rows("select sum(u), last(ts), last_row(u) from d1"), [[12n, BigInt(t + 2), null]]);
    assert.deepEqual(rows("select count(*) from d1 where v > 100"), [[0n]]);
    assert.deepEqual(rows("select max(v) from d1 where v > 100"), []);
    assert.deepEqual(rows("select spread(v), stddev(v) from d1"), [[1, 0.5]]);
    assert.equal(code("select percentile(v, 50) from d1"), 0x0100);
  });

  it("evaluates NOW() and NOW +/- durations in every precision", () => {
    for (const p of ["ms", "us", "ns"] as const) {
      run(`create database p_${p} precision '${p}'`);
      run(`create table p_${p}.t (ts timestamp, v int)`);
      const before = nowIn(p);
      run(`insert into p_${p}.t values (now, 1) (now - 1h, 2) (now() + 10s, 3) (now - 2d, 4) (now - 1w, 5)`);
      const after = nowIn(p);
      const got = rows(`select ts, v from p_${p}.t`);
      const unit = p === "ms" ? 1n : p === "us" ? 1000n : 1000000n;
      const byV = new Map(got.map((r) => [r[1], r[0] as bigint]));
      const nowTs = byV.get(1) as bigint;
      assert.ok(nowTs >= before && nowTs <= after, `${p}: now within bounds`);
      assert.equal(byV.get(2), nowTs - 3600000n * unit);
      assert.equal(byV.get(3), nowTs + 10000n * unit);
      assert.equal(byV.get(4), nowTs - 2n * 86400000n * unit);
      assert.equal(byV.get(5), nowTs - 7n * 86400000n * unit);
      assert.deepEqual(rows(`select v from p_${p}.t where ts > now - 30m`).map((r) => r[0]), [1, 3]);
      assert.deepEqual(rows(`select v from p_${p}.t where ts < now - 1d order by ts`).map((r) => r[0]), [5, 4]);
      const res = run(`select ts from p_${p}.t limit 1`);
      assert.equal(res.kind === "rows" && res.result.precision, p);
    }
    run("create database pu precision 'us'");
    run("create table pu.t (ts timestamp, v int)");
    run("insert into pu.t values ('2024-01-01T00:00:00.123456Z', 1)");
    assert.deepEqual(rows("select ts from pu.t"), [[BigInt(Date.UTC(2024, 0, 1)) * 1000n + 123456n]]);
  });

  it("answers SELECT SERVER_VERSION() and refuses what it does not support", () => {
    assert.deepEqual(rows("select server_version()"), [["3.3.6.0"]]);
    assert.deepEqual(names("select server_version()"), ["server_version()"]);
    assert.equal(code("select * from st session(ts, 1m)"), 0x0100);
    assert.equal(code("select * from st interval(1m)"), 0x260c);
    assert.equal(code("select * frm st"), 9728);
    assert.equal(code("alter database power keep 10"), 0x0100);
    assert.equal(code("select"), 0x2601);
    assert.equal(code("select nosuchcol from st"), 0x2602);
  });

  it("stores every column type exactly", () => {
    run("create table all_t (ts timestamp, b bool, ti tinyint, si smallint, i int, bi bigint, uti tinyint unsigned, usi smallint unsigned, ui int unsigned, ubi bigint unsigned, f float, d double, vc varchar(10), nc nchar(4), vb varbinary(8), g geometry(32), dec decimal(10,2), dec2 decimal(20,3))");
    run("insert into all_t values (1700000000000, false, -128, -32768, -2147483648, -9223372036854775808, 255, 65535, 4294967295, 18446744073709551615, 3.4e38, 1.7976931348623157e308, 'ab', '中文', '\\x0102ff', 'POINT(1 2)', '-12.345', '123456789012345.678')");
    const [r] = rows("select * from all_t");
    assert.deepEqual(r.slice(0, 12), [1700000000000n, false, -128, -32768, -2147483648, -9223372036854775808n, 255, 65535, 4294967295, 18446744073709551615n, Math.fround(3.4e38), 1.7976931348623157e308]);
    assert.equal(r[12], "ab");
    assert.equal(r[13], "中文");
    assert.deepEqual(Array.from(r[14] as Uint8Array), [1, 2, 255]);
    assert.deepEqual(Buffer.from(r[15] as Uint8Array).toString("hex"), "0101000000000000000000f03f0000000000000040");
    assert.equal(r[16], -1235n); // scale 2, rounded half away from zero
    assert.equal(r[17], 123456789012345678n);
    assert.equal(code("insert into all_t (ts, ti) values (1700000000001, 128)"), 9728);
  });
});

describe("emulator SQL: row cap", () => {
  it("keeps at most maxRowsPerTable rows, dropping the oldest", () => {
    engine = new Engine(new Catalog(3), "3.3.6.0");
    run("create database db");
    run("create table db.t (ts timestamp, v int)");
    const t = 1700000000000;
    for (let i = 0; i < 10; i++) run(`insert into db.t values (${t + i}, ${i})`);
    assert.deepEqual(rows("select v from db.t").map((r) => r[0]), [7, 8, 9]);
  });
});

describe("emulator SQL: timestamp strings of the years 0000-0099", () => {
  it("keep their year (no 1900 shift), with and without a zone", () => {
    assert.equal(new Date(Number(parseTimestampString("0050-06-15T12:30:00Z", "ms"))).toISOString(), "0050-06-15T12:30:00.000Z");
    assert.equal(new Date(Number(parseTimestampString("0001-01-01 00:00:00+00:00", "ms"))).getUTCFullYear(), 1);
    assert.equal(new Date(Number(parseTimestampString("0099-12-31 23:59:59", "ms"))).getFullYear(), 99);
  });
});

describe("emulator SQL: rows and counts of a time range", () => {
  const B = 1_700_000_000_000;
  beforeEach(() => {
    run("create database db");
    run("use db");
    run("create stable st (ts timestamp, v int) tags (g int)");
    const values = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `(${B + from + i}, ${from + i})`).join(" ");
    run(`insert into c1 using st tags (1) values ${values(0, 10)} c2 using st tags (2) values ${values(5, 10)}`);
  });

  it("counts the rows between timestamp bounds of every form, across subtables", () => {
    assert.deepEqual(rows(`select count(*) from st where ts >= ${B + 5} and ts < ${B + 10}`), [[10n]]);
    assert.deepEqual(rows(`select count(*) from st where ts > ${B + 5} and ts <= ${B + 10}`), [[9n]]);
    assert.deepEqual(rows(`select count(*) from st where ts between ${B + 3} and ${B + 6}`), [[6n]]);
    assert.deepEqual(rows(`select count(*) from st where ${B + 12} < ts`), [[2n]]);
    assert.deepEqual(rows(`select count(*) from st where ts = ${B + 7}`), [[2n]]);
    assert.deepEqual(rows(`select count(*) from c1 where ts >= ${B + 5}`), [[5n]]);
    assert.deepEqual(rows(`select count(*) from st where ts > ${B + 1000}`), [[0n]]);
    assert.deepEqual(names(`select count(*) from st where ts >= ${B + 5}`), ["count(*)"]);
  });

  it("still applies every other condition: values, OR, fractional bounds, subqueries", () => {
    assert.deepEqual(rows(`select count(*) from st where ts >= ${B + 5} and v > 7`), [[9n]]);
    assert.deepEqual(rows(`select count(*) from st where ts < ${B + 2} or ts > ${B + 12}`), [[4n]]);
    assert.deepEqual(rows(`select count(*) from st where ts > ${B + 4.5} and ts < ${B + 6}`), [[2n]]);
    assert.deepEqual(rows(`select count(*) from (select ts, v from st) where ts >= ${B + 10}`), [[5n]]);
    assert.deepEqual(rows(`select ts, v from st where ts > ${B + 8} and ts <= ${B + 10} order by ts`), [
      [BigInt(B + 9), 9],
      [BigInt(B + 9), 9],
      [BigInt(B + 10), 10],
    ]);
  });
});
