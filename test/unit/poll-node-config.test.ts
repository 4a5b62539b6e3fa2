// The node's saved settings -> poller options: defaults, the demo's 12 h window, and clear errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_INTERVAL_MS, parsePollNodeSettings, splitList } from "../../lib/poll";

describe("poll: node settings", () => {
  it("defaults: table mode, ts, 250 ms, start now, Date timestamps, connection database", () => {
    const o = parsePollNodeSettings({ table: "meters" }, "power", 3000);
    assert.equal(o.intervalMs, DEFAULT_INTERVAL_MS);
    assert.equal(DEFAULT_INTERVAL_MS, 250);
    assert.deepEqual(o.poller.source, {
      mode: "table",
      table: { database: "power", table: "meters", tsColumn: "ts", columns: [], tags: [] },
      includeTbname: true,
    });
    assert.deepEqual(o.poller.start, { kind: "now" });
    assert.equal(o.poller.timestamps, "date");
    assert.equal(o.poller.requestTimeoutMs, 3000);
    assert.equal(o.emitEmpty, false);
    assert.equal(o.contextStore, "");
  });

  it("reads the editor's strings: lists, numbers, the start window in its unit", () => {
    const o = parsePollNodeSettings(
      {
        database: "db2",
        table: "meters",
        columns: " current, voltage ,",
        tags: "location",
        includeTbname: false,
        interval: "1000",
        start: "lookback",
        startWindow: "12",
        startWindowUnit: "h",
        lookback: "500",
        pageSize: "2000",
        timestamps: "ms",
        emitEmpty: true,
        contextStore: " file ",
      },
      "power",
    );
    assert.deepEqual(o.poller.source, {
      mode: "table",
      table: { database: "db2", table: "meters", tsColumn: "ts", columns: ["current", "voltage"], tags: ["location"] },
      includeTbname: false,
    });
    assert.deepEqual(o.poller.start, { kind: "lookback", ms: 12 * 3600_000 });
    assert.equal(o.intervalMs, 1000);
    assert.equal(o.poller.lookbackMs, 500);
    assert.equal(o.poller.pageSize, 2000);
    assert.equal(o.poller.timestamps, "ms");
    assert.equal(o.contextStore, "file");
    assert.deepEqual(splitList(undefined), []);
  });

  it("SQL mode keeps the SQL and the timestamp column", () => {
    const o = parsePollNodeSettings({ mode: "sql", sql: "SELECT ts FROM t WHERE ts >= $watermark", tsColumn: "when" }, "");
    assert.deepEqual(o.poller.source, { mode: "sql", sql: "SELECT ts FROM t WHERE ts >= $watermark", tsColumn: "when" });
  });

  it("names the setting that is wrong", () => {
    assert.throws(() => parsePollNodeSettings({ table: "meters" }, ""), /no database/);
    assert.throws(() => parsePollNodeSettings({}, "power"), /table/);
    assert.throws(() => parsePollNodeSettings({ mode: "sql" }, "power"), /SQL query is required/);
    assert.throws(() => parsePollNodeSettings({ mode: "x", table: "t" }, "power"), /mode/);
    assert.throws(() => parsePollNodeSettings({ table: "t", interval: "fast" }, "power"), /interval/);
    assert.throws(() => parsePollNodeSettings({ table: "t", pageSize: "0" }, "power"), /page size/);
    assert.throws(() => parsePollNodeSettings({ table: "t", pageSize: "1.5" }, "power"), /page size/);
    assert.throws(() => parsePollNodeSettings({ table: "t", start: "later" }, "power"), /start/);
    assert.throws(() => parsePollNodeSettings({ table: "t", start: "lookback", startWindowUnit: "y" }, "power"), /unit/);
    assert.throws(() => parsePollNodeSettings({ table: "t", timestamps: "iso" }, "power"), /timestamps/);
    assert.throws(() => parsePollNodeSettings({ table: "t", lookback: "-1" }, "power"), /late-row lookback/);
  });
});
