// The write node's editor settings -> pipeline options: defaults, the connection's database as fallback,
// and readable refusals of unusable settings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_CLOSE_MS, pipelineSettings } from "../../lib/write";

describe("pipelineSettings", () => {
  it("fills sensible defaults and takes the connection's database", () => {
    const s = pipelineSettings({ stable: "meters", subtable: "d_${groupid}" }, "power");
    assert.equal(s.database, "power");
    assert.equal(s.schema, undefined);
    assert.deepEqual(s.map, { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "d_${groupid}" }, strict: false });
    assert.deepEqual([s.batchRows, s.flushMs, s.maxBufferedRows, s.closeTimeoutMs, s.output], [1000, 100, 100000, 10000, false]);
  });

  it("reads the editor's strings", () => {
    const s = pipelineSettings(
      {
        database: "db2",
        stable: "m",
        subtableMode: "field",
        subtable: "name",
        tsField: "time",
        tsUnit: "db",
        columns: "time TIMESTAMP, v DOUBLE",
        tags: "site NCHAR(8)",
        autoCreate: true,
        precision: "us",
        strict: true,
        batchSize: "500",
        flushInterval: "0",
        maxBuffered: "2000",
        closeTimeout: "60000",
        output: true,
      },
      "power",
    );
    assert.equal(s.database, "db2");
    assert.deepEqual(s.autoCreate, { precision: "us" });
    assert.equal(s.schema?.tags[0].length, 8);
    assert.deepEqual(s.map.subtable, { mode: "field", field: "name" });
    assert.deepEqual([s.batchRows, s.flushMs, s.maxBufferedRows, s.closeTimeoutMs, s.output], [500, 0, 2000, MAX_CLOSE_MS, true]);
  });

  it("refuses unusable settings with a reason", () => {
    assert.throws(() => pipelineSettings({ stable: "m", subtable: "x" }, ""), /no database/);
    assert.throws(() => pipelineSettings({ stable: "m", subtable: "x", autoCreate: true }, "db"), /auto-create needs the columns and tags/);
    assert.throws(() => pipelineSettings({ stable: "m", subtable: "" }, "db"), /no subtable name/);
    assert.throws(() => pipelineSettings({ stable: "m", subtable: "x", columns: "v INT, w INT", tags: "t INT" }, "db"), /must be a TIMESTAMP/);
  });
});
