// Column, tag and field names that are Object.prototype members ("constructor", "toString", "valueOf",
// "__proto__", "hasOwnProperty") are ordinary names to TDengine. A plain obj[name] reads an inherited function
// for a missing value, `name in obj` is true for any object, and obj.__proto__ = v sets a prototype: every place
// that reads or writes user-named keys must use own properties.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeRowConverter, parsePollNodeSettings } from "../../lib/poll";
import { plansFromSchema } from "../../lib/perspective/schema";
import { RowConverter } from "../../lib/perspective/values";
import type { ColumnMeta } from "../../lib/tdengine/api";
import { declaredSchema, RowMapper, type MapOptions } from "../../lib/write";

const SCHEMA = declaredSchema("ts TIMESTAMP, constructor INT, valueOf DOUBLE, __proto__ INT, hasOwnProperty BOOL", "toString INT, isPrototypeOf VARCHAR(8)");
const OPTS: MapOptions = { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "d_${toString}" }, strict: false };
const TS = 1700000000000;

describe("Object.prototype names as columns, tags and fields", () => {
  it("tdengine-write maps own values of such columns and tags (JSON __proto__ included)", () => {
    const m = new RowMapper(SCHEMA, OPTS);
    const row = JSON.parse(`{"ts": ${TS}, "constructor": 1, "valueOf": 2.5, "__proto__": 3, "hasOwnProperty": true, "toString": 7, "isPrototypeOf": "x"}`) as unknown;
    const { rows, errors } = m.map([row]);
    assert.deepEqual(errors, []);
    assert.deepEqual(rows, [{ index: 0, table: "d_7", tags: [7, "x"], ts: TS, values: [1, 2.5, 3, true] }]);
  });

  it("a missing value of such a column or tag is NULL, not an inherited function", () => {
    const m = new RowMapper(SCHEMA, OPTS);
    const { rows, errors } = m.map([{ ts: TS, toString: 1 }]);
    assert.deepEqual(errors, []);
    assert.deepEqual(rows, [{ index: 0, table: "d_1", tags: [1, null], ts: TS, values: [null, null, null, null] }]);
  });

  it("a missing template field of such a name is reported as missing", () => {
    const m = new RowMapper(SCHEMA, OPTS);
    const { rows, errors } = m.map([{ ts: TS, constructor: 1 }]);
    assert.equal(rows.length, 0);
    assert.deepEqual(errors, [{ index: 0, field: "toString", reason: "subtable name template needs toString, got nothing" }]);
    const byField = new RowMapper(SCHEMA, { ...OPTS, subtable: { mode: "field", field: "valueOf" } });
    assert.match(byField.map([{ ts: TS, toString: 1 }]).errors[0]?.reason ?? "", /subtable name field valueOf is missing/);
    const tsNamed = new RowMapper(declaredSchema("constructor TIMESTAMP, v INT", "g INT"), { ...OPTS, tsField: "constructor", subtable: { mode: "template", template: "d_${g}" } });
    assert.match(tsNamed.map([{ g: 1, v: 1 }]).errors[0]?.reason ?? "", /^timestamp: /);
  });

  it("msg.tags overrides only the tags it has as its own keys", () => {
    const m = new RowMapper(SCHEMA, OPTS);
    const none = m.map([{ ts: TS, toString: 4, isPrototypeOf: "r" }], { tags: {} });
    assert.deepEqual(none.rows[0]?.tags, [4, "r"], "an empty msg.tags overrides nothing");
    const some = m.map([{ ts: TS, toString: 4, isPrototypeOf: "r" }], { tags: { isPrototypeOf: "o" } });
    assert.deepEqual(some.rows[0]?.tags, [4, "o"]);
  });

  it("tdengine-poll emits such columns as own fields, and a __proto__ column does not replace the prototype", () => {
    const cols: ColumnMeta[] = ["ts", "constructor", "__proto__", "toString"].map((name, i) =>
      i === 0 ? { name, type: 9, typeName: "TIMESTAMP", length: 8, precision: "ms" } : { name, type: 4, typeName: "INT", length: 4 },
    );
    const row = makeRowConverter(cols, "ms", "ms").convert([TS, 1, 2, 3]);
    assert.deepEqual(Object.keys(row), ["ts", "constructor", "__proto__", "toString"]);
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(JSON.parse(JSON.stringify(row)), JSON.parse(`{"ts": ${TS}, "constructor": 1, "__proto__": 2, "toString": 3}`));
  });

  it("tdengine-poll refuses a start window unit named like a prototype member", () => {
    assert.throws(() => parsePollNodeSettings({ mode: "table", table: "t", start: "lookback", startWindow: 1, startWindowUnit: "constructor" } as never, "db"), /start window unit must be one of/);
  });

  it("perspective-out keeps a __proto__ column of a columnar payload", () => {
    const conv = new RowConverter(plansFromSchema(JSON.parse(`{"__proto__": "integer", "v": "integer"}`) as Record<string, string>));
    const out = conv.convert(JSON.parse(`{"__proto__": [1, 2], "v": [3, 4]}`));
    assert.deepEqual(out.rejected, []);
    assert.equal(out.rows, 2);
    assert.deepEqual(out.chunks.map((c) => JSON.stringify(c)), [JSON.stringify(JSON.parse(`{"__proto__": [1, 2], "v": [3, 4]}`))]);
  });
});
