// Row values -> what Perspective accepts for each column type.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { plansFromSchema } from "../../lib/perspective/schema";
import { converterFor, epochToMs, RowConverter } from "../../lib/perspective/values";

const T = Date.UTC(2026, 10, 27, 12, 34, 56, 789);

describe("timestamp conversion", () => {
  it("reads epochs of any precision by magnitude, exactly for bigint", () => {
    assert.equal(epochToMs(T, "auto"), T);
    assert.equal(epochToMs(T * 1000, "auto"), T);
    assert.equal(epochToMs(BigInt(T) * 1000000n + 123456n, "auto"), T + 0.123456);
    assert.equal(epochToMs(BigInt(T) * 1000n, "auto"), T);
    assert.equal(epochToMs(1_700_000_000, "s"), 1_700_000_000_000);
    assert.equal(epochToMs(1_700_000_000, "auto"), 1_700_000_000, "seconds are not guessed: they need unit s");
    assert.equal(epochToMs(-1000, "auto"), -1000);
  });

  it("converts Dates, numeric strings and text with or without a zone; rejects what is not a time", () => {
    const c = converterFor("datetime");
    assert.equal(c(new Date(T)), T);
    assert.equal(c(String(BigInt(T) * 1000000n)), T);
    assert.equal(c("2026-11-27 20:34:56.789+0800"), T, "TDengine's +0800 zone");
    assert.equal(c("2026-11-27T12:34:56.789Z"), T);
    assert.equal(c("2026-11-27 12:34:56.789"), T, "no zone: UTC, as Perspective reads it");
    assert.equal(c(null), null);
    assert.throws(() => c("yesterday"), /not a valid timestamp/);
    assert.throws(() => c(new Date(NaN)), /not a valid timestamp/);
    assert.throws(() => c({}), /not a timestamp/);
  });
});

describe("number, boolean and string conversion", () => {
  it("integer: 32-bit only, never wrapped", () => {
    const c = converterFor("integer");
    assert.equal(c(7), 7);
    assert.equal(c(3.9), 3);
    assert.equal(c("42"), 42);
    assert.equal(c(5n), 5);
    assert.equal(c(true), 1);
    assert.equal(c(2147483647), 2147483647);
    assert.throws(() => c(2147483648), /outside the 32-bit integer range/);
    assert.throws(() => c("abc"), /not an integer/);
  });

  it("float: bigints, DECIMAL text and numbers", () => {
    const c = converterFor("float");
    assert.equal(c(2n ** 53n), 2 ** 53);
    assert.equal(c("12.3400"), 12.34);
    assert.equal(c("-1e3"), -1000);
    assert.throws(() => c("1,5"), /not a number/);
    assert.throws(() => c([1]), /not a number/);
  });

  it("boolean and string", () => {
    const b = converterFor("boolean");
    assert.deepEqual([true, 0, 1, "false", "TRUE", "1"].map(b), [true, false, true, false, true, true]);
    assert.throws(() => b("maybe"), /not a boolean/);
    const s = converterFor("string");
    assert.deepEqual([5, 5n, false, new Date(T), { a: 1 }, new Uint8Array([104, 105])].map(s), [
      "5", "5", "false", "2026-11-27T12:34:56.789Z", '{"a":1}', "hi",
    ]);
    const hex = converterFor("hex");
    assert.equal(hex(new Uint8Array([0, 0xab, 0xff])), "00abff");
    assert.equal(hex(Buffer.from([1, 2])), "0102");
    assert.equal(hex("7f8290"), "7f8290");
  });
});

describe("RowConverter", () => {
  const conv = new RowConverter(plansFromSchema({ ts: "datetime", v: "integer", s: "string" }));

  it("turns rows into columnar chunks, one per run of rows with the same columns", () => {
    const out = conv.convert([
      { ts: T, v: 1, s: "a", extra: "ignored" },
      { ts: T + 1, v: 2, s: "b" },
      { s: "c", v: 3 },
      { ts: T + 3, v: 4, s: "d" },
    ]);
    assert.equal(out.rows, 4);
    assert.deepEqual(out.rejected, []);
    assert.deepEqual(out.chunks, [
      { ts: [T, T + 1], v: [1, 2], s: ["a", "b"] },
      { v: [3], s: ["c"] },
      { ts: [T + 3], v: [4], s: ["d"] },
    ]);
  });

  it("rejects a bad row with its index and column, keeping its batch-mates", () => {
    const out = conv.convert([{ ts: T, v: 1 }, { ts: T, v: 2 ** 40 }, "junk", { nothing: 1 }, { ts: T, v: 5 }]);
    assert.equal(out.rows, 2);
    assert.deepEqual(out.chunks, [{ ts: [T, T], v: [1, 5] }]);
    assert.deepEqual(out.rejected.map((r) => r.index), [1, 2, 3]);
    assert.match(out.rejected[0].reason, /^column "v": outside the 32-bit integer range/);
  });

  it("accepts one row object or a columnar object", () => {
    assert.deepEqual(conv.convert({ ts: T, v: 1 }).chunks, [{ ts: [T], v: [1] }]);
    assert.deepEqual(conv.convert({ ts: [T, T + 1], v: [1, 2] }).chunks, [{ ts: [T, T + 1], v: [1, 2] }]);
    assert.throws(() => conv.convert(42), /msg\.payload must be/);
  });
});
