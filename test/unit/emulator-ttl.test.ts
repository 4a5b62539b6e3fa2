// Table TTL in the emulator as TDengine documents it: a table created with TTL n is dropped once n ttlUnits
// (days by default) have passed since its creation, TTL 0 never expires, ALTER TABLE … TTL changes it (still from
// creation), and a dropped child table's rows leave its super table. The clock and ttlUnit are injected (ttlUnit is
// TDengine's own test hook), and the sweep is run explicitly, so nothing here waits on real time.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Engine } from "../../emulator/sql/engine.js";
import { Catalog } from "../../emulator/store/catalog.js";
import { sqlHelpers } from "../support/sql-engine.js";

const T0 = Date.UTC(2026, 0, 1);
const UNIT_S = 60; // one TTL unit = 60 s in these tests (ttlUnit 60)

let now: number;
let catalog: Catalog;
let engine: Engine;
let session: { db: string | null };
const { run, rows, affected, code } = sqlHelpers(() => ({ engine, session }));

/** Advance the injected clock by a number of TTL units (fractions allowed) and run the expiry sweep. */
function after(units: number): string[] {
  now = T0 + Math.round(units * UNIT_S * 1000);
  return catalog.expireTables();
}
const tables = (): string[] => rows("show tables").map((r) => String(r[0])).sort();
const ttlOf = (name: string): unknown => rows(`select ttl from information_schema.ins_tables where table_name = '${name}'`)[0]?.[0];

beforeEach(() => {
  now = T0;
  catalog = new Catalog(0, 2, { now: () => now, ttlUnitSeconds: UNIT_S });
  engine = new Engine(catalog, "3.3.6.0");
  session = { db: null };
  run("create database db");
  run("use db");
  run("create stable st (ts timestamp, v int) tags (site int)");
});

describe("emulator TTL: expiry", () => {
  it("drops a normal table TTL units after its creation, not before", () => {
    run("create table n1 (ts timestamp, v int) ttl 2");
    run("insert into n1 values (now, 1)");
    assert.equal(ttlOf("n1"), 2);
    assert.deepEqual(after(1.999), []);
    assert.deepEqual(tables(), ["n1"]);
    assert.deepEqual(after(2), ["db.n1"]);
    assert.deepEqual(tables(), []);
    assert.deepEqual(rows("select count(*) from information_schema.ins_tables where db_name = 'db'"), [[0n]]);
    assert.equal(code("select * from n1"), 0x2603);
  });

  it("never drops a table with TTL 0 or without TTL", () => {
    run("create table keep0 (ts timestamp, v int) ttl 0");
    run("create table keepnone (ts timestamp, v int)");
    run("create table c0 using st tags (1)");
    assert.deepEqual(after(1e6), []);
    assert.deepEqual(tables(), ["c0", "keep0", "keepnone"]);
    assert.equal(ttlOf("keep0"), 0);
    assert.equal(ttlOf("c0"), 0);
  });

  it("an expired child table leaves its super table's queries, SHOW TABLES and ins_tables", () => {
    run("create table c1 using st tags (1) ttl 1 c2 using st tags (2)");
    run("insert into c1 values (now, 10) c2 values (now, 20)");
    assert.deepEqual(rows("select site, v from st order by site"), [[1, 10], [2, 20]]);
    assert.deepEqual(after(1), ["db.c1"]);
    assert.deepEqual(rows("select site, v from st order by site"), [[2, 20]]);
    assert.deepEqual(rows("select count(*) from st"), [[1n]]);
    assert.deepEqual(tables(), ["c2"]);
    assert.deepEqual(rows("select table_name from information_schema.ins_tables where stable_name = 'st'"), [["c2"]]);
    // The name is free again: a new table of that name is a new table, with no TTL unless given one.
    run("insert into c1 using st tags (3) values (now, 30)");
    assert.deepEqual(after(5), []);
    assert.deepEqual(rows("select site, v from st where tbname = 'c1'"), [[3, 30]]);
  });

  it("INSERT … USING … TAGS … TTL n creates the child table with that TTL; an existing table keeps its own", () => {
    run("insert into a1 using st tags (1) ttl 3 comment 'x' values (now, 1)");
    assert.equal(ttlOf("a1"), 3);
    run("insert into a1 using st tags (1) ttl 9 values (now + 1s, 2)");
    assert.equal(ttlOf("a1"), 3);
    assert.deepEqual(after(2.5), []);
    assert.deepEqual(after(3), ["db.a1"]);
  });

  it("counts from creation, not from the last write (ttlChangeOnWrite off, TDengine's default)", () => {
    run("create table w1 (ts timestamp, v int) ttl 1");
    now = T0 + 59_000;
    run("insert into w1 values (now, 1)");
    assert.deepEqual(after(1), ["db.w1"]);
  });

  it("ALTER TABLE … TTL n changes the TTL of normal and child tables, counted from creation", () => {
    run("create table n1 (ts timestamp, v int) ttl 1");
    run("create table c1 using st tags (1) ttl 1");
    run("create table c2 using st tags (2)");
    affected("alter table n1 ttl 0");
    affected("alter table c1 ttl 4");
    affected("alter table c2 ttl 2");
    assert.deepEqual([ttlOf("n1"), ttlOf("c1"), ttlOf("c2")], [0, 4, 2]);
    assert.deepEqual(after(1), []);
    assert.deepEqual(after(2), ["db.c2"]);
    assert.deepEqual(after(4), ["db.c1"]);
    assert.deepEqual(tables(), ["n1"]);
    // Super tables take no TTL (TDengine's ALTER STABLE options are COMMENT only).
    assert.equal(code("alter table st ttl 1"), 0x2600);
    assert.equal(code("alter stable st ttl 1"), 0x2600);
  });

  it("a dropped table, super table or database leaves nothing for the sweep", () => {
    run("create table n1 (ts timestamp, v int) ttl 1");
    run("create table c1 using st tags (1) ttl 1");
    run("create database other");
    run("create table other.o1 (ts timestamp, v int) ttl 1");
    run("drop table n1");
    run("drop stable st");
    run("drop database other");
    run("create table n1 (ts timestamp, v int)");
    assert.deepEqual(after(10), []);
    assert.deepEqual(tables(), ["n1"]);
    assert.equal(catalog.ttl.size, 0);
  });
});

describe("emulator TTL: values", () => {
  it("takes a non-negative integer, clamps it to 2147483647 and refuses the rest as TDengine's grammar does", () => {
    run("create table big (ts timestamp, v int) ttl 2100000000020 comment 'hello'");
    assert.equal(ttlOf("big"), 2147483647);
    assert.equal(code("create table f1 (ts timestamp, v int) ttl 1.1"), 0x2600);
    assert.equal(code("create table f2 (ts timestamp, v int) ttl 1e1"), 0x2600);
    assert.equal(code("create table f3 (ts timestamp, v int) ttl -1"), 0x2600);
    assert.equal(code("insert into f4 using st tags (1) ttl -23 values (now, 1)"), 0x2600);
    assert.equal(code("alter table big ttl -1"), 0x2600);
    assert.equal(code("alter table big add column w int ttl 3"), 0x2600);
    assert.equal(ttlOf("big"), 2147483647);
  });

  it("creation time and TTL units come from the injected clock and ttlUnit", () => {
    run("create table n1 (ts timestamp, v int) ttl 1");
    assert.deepEqual(rows("select create_time from information_schema.ins_tables where table_name = 'n1'"), [[BigInt(T0)]]);
    assert.equal(catalog.ttl.deleteTimeMs(catalog.dbs.get("db")!.tables.get("n1")!), T0 + UNIT_S * 1000);
  });
});
