// The statements a poller sends: identifiers validated and quoted, the watermark always a bound `?`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildTableQuery, prepareUserSql, validateTableSource, type TableSource } from "../../lib/poll";

const src: TableSource = { database: "power", table: "meters", tsColumn: "ts", columns: ["current", "voltage"], tags: ["location"] };

describe("poll: table-mode SQL", () => {
  it("reads ts, the columns, the tags and tbname, ordered by ts, with the watermark as a placeholder", () => {
    assert.equal(
      buildTableQuery(src, ">=", 500),
      "SELECT `ts`, `current`, `voltage`, `location`, tbname FROM `power`.`meters` WHERE `ts` >= ? ORDER BY `ts` LIMIT 500",
    );
  });

  it("does not repeat the timestamp column when it is listed, and reads * when no columns are given", () => {
    assert.equal(
      buildTableQuery({ ...src, columns: ["ts", "phase"], tags: [] }, ">", 10),
      "SELECT `ts`, `phase`, tbname FROM `power`.`meters` WHERE `ts` > ? ORDER BY `ts` LIMIT 10",
    );
    assert.equal(
      buildTableQuery({ ...src, columns: ["tbname", "phase"], tags: ["TBNAME"] }, ">", 10),
      "SELECT `ts`, `phase`, tbname FROM `power`.`meters` WHERE `ts` > ? ORDER BY `ts` LIMIT 10",
    );
    assert.equal(
      buildTableQuery({ ...src, columns: [], tags: [] }, "=", undefined),
      "SELECT *, tbname FROM `power`.`meters` WHERE `ts` = ? ORDER BY `ts`",
    );
  });

  it("rejects identifiers that could inject SQL, naming what is wrong", () => {
    for (const bad of [
      { ...src, table: "meters; DROP DATABASE power" },
      { ...src, database: "po`wer" },
      { ...src, columns: ["current", "1 OR 1=1"] },
      { ...src, tags: ["location)"] },
      { ...src, tsColumn: "" },
    ]) {
      assert.throws(() => validateTableSource(bad), Error);
    }
    assert.throws(() => buildTableQuery(src, ">=", 0), /page size/);
  });
});

describe("poll: SQL-mode placeholder", () => {
  it("turns every $watermark and bare ? into a bound placeholder", () => {
    const p = prepareUserSql("SELECT ts, v FROM db.t WHERE ts >= $watermark AND ts < $WATERMARK + 10s ORDER BY ts");
    assert.equal(p.sql, "SELECT ts, v FROM db.t WHERE ts >= ? AND ts < ? + 10s ORDER BY ts");
    assert.equal(p.params, 2);
    assert.deepEqual(prepareUserSql("select * from t where ts >= ?;"), { sql: "select * from t where ts >= ?", params: 1 });
  });

  it("leaves placeholders inside string literals and quoted identifiers alone", () => {
    const p = prepareUserSql("SELECT ts, 'is $watermark?' AS s, `a?b` FROM t WHERE loc = 'it''s ?' AND ts >= $watermark");
    assert.equal(p.sql, "SELECT ts, 'is $watermark?' AS s, `a?b` FROM t WHERE loc = 'it''s ?' AND ts >= ?");
    assert.equal(p.params, 1);
  });

  it("rejects SQL without a placeholder, non-SELECTs, several statements and open quotes", () => {
    assert.throws(() => prepareUserSql("SELECT * FROM t"), /placeholder/);
    assert.throws(() => prepareUserSql("DELETE FROM t WHERE ts >= ?"), /SELECT/);
    assert.throws(() => prepareUserSql("SELECT * FROM t WHERE ts >= ?; DROP TABLE t"), /single statement/);
    assert.throws(() => prepareUserSql("SELECT * FROM t WHERE s = 'x AND ts >= ?"), /unterminated/);
    assert.throws(() => prepareUserSql("SELECT $watermarks FROM t"), /placeholder/);
  });
});
