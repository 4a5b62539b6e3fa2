// The SQL dashboards use, checked value by value against TDengine's documented semantics: aggregate result
// types, INTERVAL windows (epoch alignment, offset, SLIDING, natural days in the connection zone, calendar
// months), every FILL mode, PARTITION BY / GROUP BY, HAVING, DISTINCT, ORDER BY ... LIMIT ... OFFSET, subqueries,
// information_schema, SHOW and ALTER.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Engine } from "../../emulator/sql/engine.js";
import { Catalog } from "../../emulator/store/catalog.js";
import { T } from "../../emulator/types.js";
import { sqlHelpers } from "../support/sql-engine.js";

let engine: Engine;
let session: { db: string | null; tz?: string | null };
const { run, rows, types, code } = sqlHelpers(() => ({ engine, session }));

// 2024-01-01T00:00:00Z, a whole second.
const B = Date.UTC(2024, 0, 1);
const b = (ms: number): bigint => BigInt(B + ms);

beforeEach(() => {
  engine = new Engine(new Catalog(0), "3.3.6.0");
  session = { db: null, tz: "UTC" };
  run("create database p");
  run("use p");
  run("create stable m (ts timestamp, c float, v int) tags (loc varchar(16), g int)");
  run(`insert into d1 using m tags ('SF', 1) values (${B + 1000}, 1.5, 10) (${B + 1500}, 2.5, 20) (${B + 3200}, 4, 30)`);
  run(`insert into d2 using m tags ('LA', 2) values (${B + 1100}, 10, 1) (${B + 2100}, 20, 2) (${B + 2200}, 30, null)`);
});

describe("emulator SQL: aggregates", () => {
  it("computes count, sum, avg, min, max, first, last, last_row, spread, stddev with TDengine's result types", () => {
    const sql = "select count(*), count(v), sum(v), avg(v), min(v), max(v), first(v), last(v), last_row(v), spread(v), stddev(v), sum(c) from m";
    assert.deepEqual(types(sql), [T.BIGINT, T.BIGINT, T.BIGINT, T.DOUBLE, T.INT, T.INT, T.INT, T.INT, T.INT, T.DOUBLE, T.DOUBLE, T.DOUBLE]);
    const [r] = rows(sql);
    // v = 10, 20, 30, 1, 2, NULL: NULLs are skipped except by last_row (the row at B+3200 is the last one).
    assert.deepEqual(r.slice(0, 10), [6n, 5n, 63n, 12.6, 1, 30, 10, 30, 30, 29]);
    assert.ok(Math.abs((r[10] as number) - Math.sqrt(122.24)) < 1e-12, "population standard deviation");
    assert.equal(r[11], 68);
    assert.deepEqual(rows("select last_row(v), last(v) from d2"), [[null, 2]]);
  });

  it("evaluates expressions over aggregates and filters groups with HAVING", () => {
    assert.deepEqual(rows("select max(v) - min(v) as r from m"), [[29n]]);
    assert.deepEqual(rows("select tbname, avg(v) from m partition by tbname having avg(v) > 5"), [["d1", 20]]);
    // A plain column next to an aggregate has no single value per group.
    assert.equal(code("select v, avg(c) from m"), 0x260c);
    assert.equal(code("select loc, avg(c) from m partition by g"), 0x260c);
    assert.deepEqual(rows("select g, loc, avg(v) from m partition by tbname order by g"), [[1, "SF", 20], [2, "LA", 1.5]]);
  });
});

describe("emulator SQL: INTERVAL windows", () => {
  it("aligns windows to the epoch, with _wstart/_wend/_wduration, empty windows left out", () => {
    assert.deepEqual(types("select _wstart, _wend, _wduration, count(*) from m interval(1s)"), [T.TIMESTAMP, T.TIMESTAMP, T.BIGINT, T.BIGINT]);
    assert.deepEqual(rows("select _wstart, _wend, count(*), count(v), avg(v) from m interval(1s)"), [
      [b(1000), b(2000), 3n, 3n, 31 / 3],
      [b(2000), b(3000), 2n, 1n, 2],
      [b(3000), b(4000), 1n, 1n, 30],
    ]);
  });

  it("shifts windows by the INTERVAL offset", () => {
    assert.deepEqual(rows("select _wstart, count(*) from m interval(1s, 200a)"), [
      [b(200), 2n],
      [b(1200), 2n],
      [b(2200), 1n],
      [b(3200), 1n],
    ]);
  });

  it("overlaps windows with SLIDING: each row counts in every window containing it", () => {
    assert.deepEqual(rows("select _wstart, _wend, count(*) from m interval(2s) sliding(1s)"), [
      [b(0), b(2000), 3n],
      [b(1000), b(3000), 5n],
      [b(2000), b(4000), 3n],
      [b(3000), b(5000), 1n],
    ]);
    assert.equal(code("select count(*) from m interval(1s) sliding(2s)"), 0x2600);
    assert.equal(code("select count(*) from m interval(1d) sliding(1s)"), 0x2600);
  });

  it("runs windows per partition (PARTITION BY tbname and by tag)", () => {
    assert.deepEqual(rows("select _wstart, tbname, avg(v) from m partition by tbname interval(1s)"), [
      [b(1000), "d1", 15],
      [b(3000), "d1", 30],
      [b(1000), "d2", 1],
      [b(2000), "d2", 2],
    ]);
    assert.deepEqual(rows("select loc, _wstart, max(c) from m partition by loc interval(2s) order by loc, _wstart"), [
      ["LA", b(0), 10],
      ["LA", b(2000), 30],
      ["SF", b(0), 2.5],
      ["SF", b(2000), 4],
    ]);
  });

  it("aligns natural days (d) to midnight in the connection's time zone", () => {
    assert.deepEqual(rows("select _wstart, count(*) from m interval(1d)"), [[b(0), 6n]]);
    session.tz = "Asia/Shanghai";
    // 2024-01-01 08:00:01+08:00: its day starts 2024-01-01 00:00+08:00 = 2023-12-31T16:00Z.
    assert.deepEqual(rows("select _wstart, count(*) from m interval(1d)"), [[BigInt(B - 8 * 3600_000), 6n]]);
  });

  it("makes calendar-month windows (n) of unequal length", () => {
    run("create table cal (ts timestamp, v int)");
    run(`insert into cal values (${Date.UTC(2024, 0, 15)}, 1) (${Date.UTC(2024, 1, 10)}, 2) (${Date.UTC(2024, 1, 28)}, 3)`);
    assert.deepEqual(rows("select _wstart, _wend, sum(v) from cal interval(1n)"), [
      [BigInt(Date.UTC(2024, 0, 1)), BigInt(Date.UTC(2024, 1, 1)), 1n],
      [BigInt(Date.UTC(2024, 1, 1)), BigInt(Date.UTC(2024, 2, 1)), 5n],
    ]);
  });
});

describe("emulator SQL: FILL", () => {
  const range = `where ts >= ${B} and ts < ${B + 5000}`;
  const fill = (mode: string): unknown[] => rows(`select _wstart, avg(v) from m ${range} interval(1s) fill(${mode})`).map((r) => r[1]);

  it("covers every window of the WHERE time range, real windows unchanged", () => {
    assert.deepEqual(rows(`select _wstart from m ${range} interval(1s) fill(null)`).map((r) => r[0]), [b(0), b(1000), b(2000), b(3000), b(4000)]);
    assert.deepEqual(fill("none"), [31 / 3, 2, 30]);
  });

  it("NULL, VALUE, PREV and NEXT fill empty windows as documented", () => {
    assert.deepEqual(fill("null"), [null, 31 / 3, 2, 30, null]);
    assert.deepEqual(fill("value, -1"), [-1, 31 / 3, 2, 30, -1]);
    assert.deepEqual(fill("prev"), [null, 31 / 3, 2, 30, 30]);
    assert.deepEqual(fill("next"), [31 / 3, 31 / 3, 2, 30, null]);
    // VALUE converts each constant to its column's type: count is BIGINT.
    assert.deepEqual(rows(`select count(*) from m ${range} interval(1s) fill(value, 7)`).map((r) => r[0]), [7n, 3n, 2n, 1n, 7n]);
  });

  it("LINEAR interpolates between the nearest real windows and leaves the edges NULL", () => {
    assert.deepEqual(rows(`select avg(v) from d1 ${range} interval(1s) fill(linear)`).map((r) => r[0]), [null, 15, 22.5, 30, null]);
  });

  it("fills each partition over the same range", () => {
    assert.deepEqual(rows(`select tbname, count(*) from m ${range} partition by tbname interval(1s) fill(value, 0)`), [
      ["d1", 0n], ["d1", 2n], ["d1", 0n], ["d1", 1n], ["d1", 0n],
      ["d2", 0n], ["d2", 1n], ["d2", 2n], ["d2", 0n], ["d2", 0n],
    ]);
  });

  it("refuses a FILL over more windows than it can hold instead of running out of memory", () => {
    assert.equal(code(`select count(*) from m where ts >= 0 and ts < ${B + 5000} interval(10a) fill(null)`), 0x2600);
    // The cap counts the windows of all partitions together (2 subtables x 600,000 windows here).
    assert.equal(code(`select count(*) from m where ts >= ${B} and ts < ${B + 6_000_000} partition by tbname interval(10a) fill(null)`), 0x2600);
    assert.equal(rows(`select count(*) from m where ts >= ${B} and ts < ${B + 40_000} partition by tbname interval(10a) fill(null)`).length, 8_000);
  });
});

describe("emulator SQL: grouping, ordering and subqueries", () => {
  it("GROUP BY a tag, ORDER BY an aggregate, LIMIT and OFFSET", () => {
    assert.deepEqual(rows("select loc, count(*), avg(v) from m group by loc order by loc"), [["LA", 3n, 1.5], ["SF", 3n, 20]]);
    assert.deepEqual(rows("select tbname, max(v) from m partition by tbname order by max(v) desc limit 1"), [["d1", 30]]);
    assert.deepEqual(rows("select tbname, max(v) from m partition by tbname order by max(v) desc limit 1 offset 1"), [["d2", 2]]);
    assert.deepEqual(rows("select tbname from m partition by tbname order by avg(c)"), [["d1"], ["d2"]]);
  });

  it("DISTINCT removes duplicate rows", () => {
    assert.deepEqual(rows("select distinct loc from m order by loc"), [["LA"], ["SF"]]);
    assert.deepEqual(rows("select distinct loc, g from m order by g desc"), [["LA", 2], ["SF", 1]]);
  });

  it("PARTITION BY without aggregates returns each partition's rows together", () => {
    assert.deepEqual(rows("select tbname, v from m partition by tbname").map((r) => r[0]), ["d1", "d1", "d1", "d2", "d2", "d2"]);
  });

  it("ORDER BY ts over a super table merges the subtables in time order, with LIMIT/OFFSET", () => {
    assert.deepEqual(rows(`select tbname, ts from m where ts > ${B + 1000} order by ts limit 3`), [["d2", b(1100)], ["d1", b(1500)], ["d2", b(2100)]]);
    assert.deepEqual(rows("select v from m order by ts desc limit 2 offset 1").map((r) => r[0]), [null, 2]);
  });

  it("reads a subquery in FROM, including windows of a windowed subquery", () => {
    assert.deepEqual(rows("select max(a) from (select _wstart ws, avg(v) a from m interval(1s))"), [[30]]);
    assert.deepEqual(rows("select count(*) from (select * from m where v > 5)"), [[3n]]);
    assert.deepEqual(rows("select _wstart, sum(n) from (select ts, v as n from d1) interval(2s)"), [[b(0), 30n], [b(2000), 30n]]);
  });
});

describe("emulator SQL: metadata", () => {
  it("information_schema tables list databases' super tables, tables, tags and columns", () => {
    assert.deepEqual(rows("select stable_name, db_name, columns, `tags` from information_schema.ins_stables"), [["m", "p", 3, 2]]);
    assert.deepEqual(rows("select table_name, stable_name, type from information_schema.ins_tables where db_name = 'p' order by table_name"), [["d1", "m", "CHILD_TABLE"], ["d2", "m", "CHILD_TABLE"]]);
    assert.deepEqual(rows("select table_name, tag_name, tag_type, tag_value from information_schema.ins_tags where table_name = 'd2'"), [["d2", "loc", "VARCHAR(16)", "LA"], ["d2", "g", "INT", "2"]]);
    assert.deepEqual(rows("select col_name, col_type from information_schema.ins_columns where table_name = 'm'"), [["ts", "TIMESTAMP"], ["c", "FLOAT"], ["v", "INT"]]);
  });

  it("SHOW TABLES LIKE, SHOW TAGS FROM and SHOW CREATE", () => {
    assert.deepEqual(rows("show tables like 'd_'").map((r) => r[0]).sort(), ["d1", "d2"]);
    assert.deepEqual(rows("show stables like 'x%'"), []);
    assert.deepEqual(rows("show tags from d1").map((r) => [r[3], r[5]]), [["loc", "SF"], ["g", "1"]]);
    assert.match(String(rows("show create stable m")[0][1]), /^CREATE STABLE `m` \(`ts` TIMESTAMP, `c` FLOAT, `v` INT\) TAGS \(`loc` VARCHAR\(16\), `g` INT\)$/);
  });
});

describe("emulator SQL: ALTER", () => {
  it("ADD COLUMN reads old rows as NULL and stores new values; DROP COLUMN removes it", () => {
    run("alter stable m add column x double");
    run(`insert into d1 values (${B + 4000}, 5, 40, 0.25)`);
    assert.deepEqual(rows("select x from d1"), [[null], [null], [null], [0.25]]);
    run("alter stable m drop column c");
    assert.deepEqual(rows("select * from d1 limit 1"), [[b(1000), 10, null]]);
    assert.equal(code("alter stable m drop column ts"), 0x2600);
    assert.equal(code("alter stable m add column v int"), 0x263c);
  });

  it("MODIFY widens a VARCHAR tag, refuses narrowing; ADD/DROP/RENAME TAG; SET TAG on a child table", () => {
    assert.equal(code("insert into d3 using m tags ('0123456789abcdefX', 3) values (now, 1, 1)"), 0x2610);
    run("alter stable m modify tag loc varchar(32)");
    run("insert into d3 using m tags ('0123456789abcdefX', 3) values (now, 1, 1)");
    assert.equal(code("alter stable m modify tag loc varchar(8)"), 0x2600);
    run("alter stable m add tag site int");
    run("alter table d1 set tag site = 7");
    run("alter stable m rename tag g grp");
    assert.deepEqual(rows("select tbname, grp, site from m partition by tbname order by tbname").slice(0, 1), [["d1", 1, 7]]);
    run("alter stable m drop tag site");
    assert.deepEqual(rows("show tags from d2").map((r) => r[3]), ["loc", "grp"]);
  });

  it("ALTER TABLE on a normal table changes its own columns", () => {
    run("create table n (ts timestamp, s varchar(2))");
    assert.equal(code(`insert into n values (${B}, 'abc')`), 0x2610);
    run("alter table n modify column s varchar(4)");
    run(`insert into n values (${B}, 'abc')`);
    run("alter table n add column k int");
    assert.deepEqual(rows("select s, k from n"), [["abc", null]]);
  });
});
