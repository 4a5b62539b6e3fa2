// Declared schemas, DESCRIBE results and the SQL built from them: identifiers validated and quoted, values
// only as placeholders.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDatabaseSql, createStableSql, declaredSchema, describeSql, insertSql, schemaFromDescribe } from "../../lib/write";

const METERS = declaredSchema("ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT", "groupid INT, location VARCHAR(16)");

describe("declared schema", () => {
  it("reads the demo's power.meters schema", () => {
    assert.deepEqual(METERS, {
      columns: [
        { name: "ts", type: 9, length: 0 },
        { name: "current", type: 6, length: 0 },
        { name: "voltage", type: 4, length: 0 },
        { name: "phase", type: 6, length: 0 },
      ],
      tags: [
        { name: "groupid", type: 4, length: 0 },
        { name: "location", type: 8, length: 16 },
      ],
    });
  });

  it("accepts unsigned and NCHAR types, and lower case", () => {
    const s = declaredSchema("ts timestamp, n int unsigned, s nchar(4), b bigint", "t binary(8)");
    assert.deepEqual(s.columns.map((c) => [c.type, c.length]), [[9, 0], [13, 0], [10, 4], [5, 0]]);
    assert.deepEqual(s.tags[0], { name: "t", type: 8, length: 8 });
  });

  it("rejects bad schemas with a reason", () => {
    assert.throws(() => declaredSchema("current FLOAT, ts TIMESTAMP", "g INT"), /first column \(current\) must be a TIMESTAMP/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, s VARCHAR", "g INT"), /VARCHAR needs a length/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, x WIBBLE", "g INT"), /type WIBBLE is not supported/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, v INT", ""), /at least one tag/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, v INT, V FLOAT", "g INT"), /used twice/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, `v` INT", "g INT"), /cannot read column definition/);
    assert.throws(() => declaredSchema("ts TIMESTAMP, v INT(3)", "g INT"), /takes no length/);
  });
});

describe("SQL text", () => {
  it("builds quoted DDL and a placeholder-only INSERT", () => {
    assert.equal(createDatabaseSql("power", "us"), "CREATE DATABASE IF NOT EXISTS `power` PRECISION 'us'");
    assert.equal(
      createStableSql("power", "meters", METERS),
      "CREATE STABLE IF NOT EXISTS `power`.`meters` (`ts` TIMESTAMP, `current` FLOAT, `voltage` INT, `phase` FLOAT) TAGS (`groupid` INT, `location` VARCHAR(16))",
    );
    assert.equal(insertSql("power", "meters", METERS), "INSERT INTO ? USING `power`.`meters` TAGS (?,?) VALUES (?,?,?,?)");
    assert.equal(describeSql("power", "meters"), "DESCRIBE `power`.`meters`");
  });

  it("refuses identifiers that could escape the quotes", () => {
    assert.throws(() => createDatabaseSql("po`wer", "ms"), /invalid database name/);
    assert.throws(() => insertSql("power", "m; DROP DATABASE power", METERS), /invalid super table name/);
    assert.throws(() => describeSql("1db", "m"), /invalid database name/);
  });
});

describe("schemaFromDescribe", () => {
  it("splits columns and tags by the TAG note", () => {
    const s = schemaFromDescribe([
      ["ts", "TIMESTAMP", 8, ""],
      ["current", "FLOAT", 4, ""],
      ["groupid", "INT", 4, "TAG"],
      ["location", "VARCHAR", 16, "TAG"],
    ]);
    assert.deepEqual(s.columns.map((c) => c.name), ["ts", "current"]);
    assert.deepEqual(s.tags, [
      { name: "groupid", type: 4, length: 4 },
      { name: "location", type: 8, length: 16 },
    ]);
  });

  it("names a column it cannot bind", () => {
    assert.throws(() => schemaFromDescribe([["ts", "TIMESTAMP", 8, ""], ["d", "DECIMAL(10,2)", 8, ""], ["g", "INT", 4, "TAG"]]), /column d has type DECIMAL/);
  });
});
