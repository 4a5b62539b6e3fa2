// Topic SQL and vgroups of the emulator: CREATE / DROP TOPIC of the three kinds, SHOW TOPICS and ins_topics,
// VGROUPS per database and where tables land, errors with TDengine's codes, and the vgroup write logs.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { EmulatorCore } from "../../emulator/core.js";
import type { Session } from "../../emulator/sql/context.js";
import { murmur3, vgroupIndex } from "../../emulator/store/vgroups.js";
import { sqlHelpers } from "../support/sql-engine.js";

let core: EmulatorCore;
let session: Session;
const { rows, names, affected, code } = sqlHelpers(() => ({ engine: core.engine, session }));

beforeEach(() => {
  core = new EmulatorCore("root", "taosdata", "3.3.6.0", false, 0, 2);
  session = { db: null };
  affected("create database power");
  affected("use power");
  affected("create stable meters (ts timestamp, current float, phase int) tags (location varchar(16), group_id int)");
  affected("create table d1 using meters tags ('SF', 1)");
  affected("create table plain (ts timestamp, v int)");
});

describe("emulator TMQ SQL: topics", () => {
  it("creates the three kinds of topic and lists them in SHOW TOPICS and ins_topics", () => {
    affected("create topic t_query as select ts, current, location from power.meters where phase > 1");
    affected("create topic if not exists t_stable with meta as stable power.meters where group_id = 1");
    affected("create topic t_db as database power");
    assert.deepEqual(names("show topics"), ["topic_name"]);
    assert.deepEqual(rows("show topics").map((r) => r[0]).sort(), ["t_db", "t_query", "t_stable"]);
    assert.deepEqual(names("select * from information_schema.ins_topics"), ["topic_name", "db_name", "create_time", "sql", "schema", "meta", "type"]);
    const byName = new Map(rows("select topic_name, db_name, sql, schema, meta, type from information_schema.ins_topics").map((r) => [r[0], r.slice(1)]));
    assert.deepEqual(byName.get("t_query"), [
      "power",
      "create topic t_query as select ts, current, location from power.meters where phase > 1",
      JSON.stringify([
        { name: "ts", type: "TIMESTAMP", length: 8 },
        { name: "current", type: "FLOAT", length: 4 },
        { name: "location", type: "VARCHAR", length: 16 },
      ]),
      "no",
      "column",
    ]);
    assert.deepEqual(byName.get("t_stable")?.slice(2), [null, "yes", "stable"]);
    assert.deepEqual(byName.get("t_db")?.slice(2), [null, "no", "db"]);
  });

  it("answers existing and missing topics with TDengine's codes (0x03E0, 0x03E1)", () => {
    affected("create topic t1 as select * from meters");
    assert.equal(code("create topic t1 as select * from meters"), 0x03e0);
    assert.equal(affected("create topic if not exists t1 as select * from meters"), 0);
    assert.equal(code("drop topic nope"), 0x03e1);
    assert.equal(affected("drop topic if exists nope"), 0);
    affected("drop topic t1");
    assert.deepEqual(rows("show topics"), []);
  });

  it("refuses topics over aggregates, windows or missing tables, and databases that still have topics", () => {
    assert.equal(code("create topic bad as select count(*) from meters"), 0x03e4);
    assert.equal(code("create topic bad as select ts, current from meters order by ts"), 0x03e4);
    assert.equal(code("create topic bad as select * from nowhere"), 0x2603);
    assert.equal(code("create topic bad as stable nowhere"), 0x0362);
    assert.equal(code("create topic bad as database nowhere"), 0x0388);
    assert.equal(code("create topic bad as select nocol from meters"), 0x2602);
    affected("create topic keep as database power");
    assert.equal(code("drop database power"), 0x03ed);
    affected("drop topic keep");
    affected("drop database power");
  });
});

describe("emulator TMQ SQL: vgroups", () => {
  it("gives a database the default or the VGROUPS it was created with, with cluster-wide ids", () => {
    affected("create database big vgroups 4");
    affected("create database one vgroups 1");
    assert.equal(code("create database zero vgroups 0"), 0x2619);
    const v = new Map(rows("select name, vgroups from information_schema.ins_databases").map((r) => [r[0], r[1]]));
    assert.deepEqual([v.get("power"), v.get("big"), v.get("one")], [2, 4, 1]);
    assert.deepEqual(core.catalog.dbs.get("power")?.vgroups.map((g) => g.id), [2, 3]);
    assert.deepEqual(core.catalog.dbs.get("big")?.vgroups.map((g) => g.id), [4, 5, 6, 7]);
  });

  it("places each table in the vgroup its MurmurHash3 of db.table falls in, as ins_tables shows", () => {
    // Reference values of MurmurHash3 x86_32 with seed 0.
    assert.equal(murmur3(""), 0);
    assert.equal(murmur3("hello"), 0x248bfa47);
    assert.equal(murmur3("abc"), 0xb3dd93fa);
    affected("create database big vgroups 4");
    for (let i = 0; i < 20; i++) affected(`create table big.t${i} (ts timestamp, v int)`);
    const ids = core.catalog.dbs.get("big")?.vgroups.map((g) => g.id) as number[];
    const got = rows("select table_name, vgroup_id from information_schema.ins_tables where db_name = 'big'");
    for (const [name, vg] of got) assert.equal(vg, ids[vgroupIndex("big", name as string, 4)], String(name));
    assert.ok(new Set(got.map((r) => r[1])).size > 1, "20 tables spread over more than one vgroup");
  });

  it("logs each write request in its table's vgroup with increasing versions", () => {
    const vg = core.catalog.dbs.get("power")?.tables.get("d1")?.vgroup;
    assert.ok(vg);
    const before = vg.next;
    affected("insert into d1 values (now, 1.5, 2) (now + 1s, 2.5, 3)");
    affected("insert into d1 values (now + 2s, 3.5, 4)");
    assert.equal(vg.next, before + 2);
    assert.deepEqual([vg.at(before)?.ts.length, vg.at(before + 1)?.ts.length], [2, 1]);
    assert.equal(vg.at(before + 2), undefined);
  });
});
