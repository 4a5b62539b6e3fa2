// Row conversion: timestamps as Date or epoch ms from any precision, BIGINT as number when safe, NULL as null.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import { makeRowConverter } from "../../lib/poll";
import type { ColumnMeta, Precision } from "../../lib/tdengine/api";

const cols = (p: Precision): ColumnMeta[] => [
  { name: "ts", type: 9, typeName: "TIMESTAMP", length: 8, precision: p },
  { name: "big", type: 5, typeName: "BIGINT", length: 8 },
  { name: "ubig", type: 14, typeName: "BIGINT UNSIGNED", length: 8 },
  { name: "f", type: 6, typeName: "FLOAT", length: 4 },
  { name: "s", type: 8, typeName: "VARCHAR", length: 16 },
  { name: "tbname", type: 8, typeName: "VARCHAR", length: 192 },
];

describe("poll: row conversion", () => {
  it("converts ms, us and ns timestamps to the same Date and epoch ms", () => {
    const cases: [Precision, number | bigint][] = [
      ["ms", 1700000000123],
      ["us", 1700000000123456],
      ["ns", 1700000000123456789n],
    ];
    for (const [p, v] of cases) {
      const asDate = makeRowConverter(cols(p), p, "date").convert([v, 1, 2, 0.5, "x", "d0"]);
      assert.ok(asDate.ts instanceof Date, p);
      assert.equal((asDate.ts as Date).getTime(), 1700000000123, p);
      const asMs = makeRowConverter(cols(p), p, "ms").convert([v, 1, 2, 0.5, "x", "d0"]);
      assert.equal(asMs.ts, 1700000000123, p);
    }
  });

  it("floors pre-1970 sub-millisecond timestamps (not toward zero)", () => {
    const r = makeRowConverter(cols("us"), "us", "ms").convert([-1500, 0, 0, 0, "", ""]);
    assert.equal(r.ts, -2);
  });

  it("keeps BIGINT a number when safe and a decimal string otherwise (JSON-safe); NULL stays null", () => {
    const c = makeRowConverter(cols("ms"), "ms", "ms");
    const r = c.convert([0, 9007199254740993n, "18446744073709551615", null, null, "d1"]);
    assert.equal(r.big, "9007199254740993");
    assert.equal(r.ubig, "18446744073709551615");
    assert.equal(r.f, null);
    assert.equal(r.s, null);
    assert.equal(c.convert([0, 42n, "7", 1, "a", "d"]).big, 42);
    assert.equal(c.convert([0, 42n, "7", 1, "a", "d"]).ubig, 7);
    assert.doesNotThrow(() => JSON.stringify(r));
  });

  it("leaves out omitted columns from the objects and from the metadata", () => {
    const c = makeRowConverter(cols("ms"), "ms", "date", new Set([5]));
    assert.deepEqual(c.columns.map((x) => x.name), ["ts", "big", "ubig", "f", "s"]);
    assert.ok(!("tbname" in c.convert([0, 1, 1, 1, "a", "d"])));
  });

  it("builds plain objects: Object.prototype, keys in column order, as inspect, JSON and structuredClone see them", () => {
    const r = makeRowConverter(cols("ms"), "ms", "date").convert([1700000000123, 1, 2, 0.5, "x", "d0"]);
    assert.equal(Object.getPrototypeOf(r), Object.prototype);
    assert.equal(r.constructor, Object);
    assert.deepEqual(Object.keys(r), ["ts", "big", "ubig", "f", "s", "tbname"]);
    assert.match(inspect(r, { breakLength: Infinity }), /^\{ ts: 2023-11-14T22:13:20\.123Z, big: 1,/, "no class name before the braces");
    assert.deepEqual(structuredClone(r), r);
    assert.equal(JSON.stringify(r), '{"ts":"2023-11-14T22:13:20.123Z","big":1,"ubig":2,"f":0.5,"s":"x","tbname":"d0"}');
  });

  it("columns named like Object.prototype members are own fields; a repeated name keeps the last value", () => {
    const meta = (names: string[]): ColumnMeta[] => names.map((name) => ({ name, type: 4, typeName: "INT", length: 4 }));
    const r = makeRowConverter(meta(["constructor", "toString", "__proto__", "v", "v"]), "ms", "ms").convert([1, 2, 3, 4, 5]);
    assert.equal(Object.getPrototypeOf(r), Object.prototype, "a __proto__ column does not set the prototype");
    assert.deepEqual(Object.entries(r), [
      ["constructor", 1],
      ["toString", 2],
      ["__proto__", 3],
      ["v", 5],
    ]);
    const plain = makeRowConverter(meta(["constructor", "v", "v"]), "ms", "ms").convert([1, 4, 5]);
    assert.deepEqual(Object.entries(plain), [
      ["constructor", 1],
      ["v", 5],
    ]);
  });

  it("a timestamp that is not an integer epoch is passed through; -0 comes out as 0", () => {
    const c = makeRowConverter(cols("ms"), "ms", "ms");
    assert.equal(c.convert([1.5, 0, 0, 0, "", ""]).ts, 1.5);
    assert.ok(Object.is(c.convert([-0, 0, 0, 0, "", ""]).ts, 0));
    assert.ok(Object.is(makeRowConverter(cols("us"), "us", "ms").convert([-0, 0, 0, 0, "", ""]).ts, 0));
    assert.equal(makeRowConverter(cols("us"), "us", "ms").convert([-1000, 0, 0, 0, "", ""]).ts, -1);
  });
});
