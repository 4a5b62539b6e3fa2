// stmt2 bind payloads checked byte by byte against layouts written out from the protocol facts (reference §3.2,
// taosAdapter driver/wrapper/stmt2.go): 28-byte header, names (u16 lengths then NUL-terminated names), tags and
// columns (u32 per-table lengths then column blocks: u32 length, u32 type, u32 rows, is-null bytes, has-lengths
// byte, [i32 lengths], u32 buffer length, buffer).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Stmt2Field } from "../../lib/tdengine";
import { TdengineError } from "../../lib/tdengine";
import { encodeStmt2InsertBind, encodeStmt2QueryParams } from "../../lib/tdengine/stmt2-bind-encoder";
import { hex } from "../support/tdengine-blocks";

const f = (name: string, type: number, bindType: Stmt2Field["bindType"], bytes = 0): Stmt2Field => ({ name, type, precision: "ms", scale: 0, bytes, bindType });

/** What stmt2_prepare reports for INSERT INTO ? USING power.meters TAGS (?,?) VALUES (?,?,?,?). */
const METER_FIELDS: Stmt2Field[] = [
  f("tbname", 8, "tbname", 271),
  f("groupid", 4, "tag", 4),
  f("location", 8, "tag", 18),
  f("ts", 9, "column", 8),
  f("current", 6, "column", 4),
  f("voltage", 4, "column", 4),
  f("phase", 6, "column", 4),
];

const invalid = (e: unknown): boolean => e instanceof TdengineError && e.kind === "invalid";

describe("stmt2 insert bind payload", () => {
  it("two subtables with names, tags (one NULL tag) and columns (one all-NULL column)", () => {
    const payload = encodeStmt2InsertBind(METER_FIELDS, [
      { table: "d1", tags: [1, "ab"], columns: [[1700000000000, 1700000000001n], [1.5, null], [220, 221], [0.25, 0.5]] },
      { table: "d22", tags: [2, null], columns: [[new Date(1700000000002)], [null], [230], [1]] },
    ]);
    const expected = hex(
      // header
      "5d010000", // total 349
      "02000000", // 2 tables
      "02000000", // 2 tags per table
      "04000000", // 4 columns per table
      "1c000000", // names at 28
      "27000000", // tags at 39
      "89000000", // columns at 137
      // names
      "0300 0400", "643100 64323200",
      // tags: per-table lengths, then blocks
      "2e000000 2c000000",
      "16000000 04000000 01000000 00 00 04000000 01000000", // d1 groupid INT 1
      "18000000 08000000 01000000 00 01 02000000 02000000 6162", // d1 location "ab"
      "16000000 04000000 01000000 00 00 04000000 02000000", // d22 groupid INT 2
      "16000000 08000000 01000000 01 01 00000000 00000000", // d22 location NULL: no buffer
      // columns
      "74000000 58000000",
      "23000000 09000000 02000000 0000 00 10000000 0068e5cf8b010000 0168e5cf8b010000", // ts
      "1b000000 06000000 02000000 0001 00 08000000 0000c03f 00000000", // current [1.5, NULL]
      "1b000000 04000000 02000000 0000 00 08000000 dc000000 dd000000", // voltage
      "1b000000 06000000 02000000 0000 00 08000000 0000803e 0000003f", // phase
      "1a000000 09000000 01000000 00 00 08000000 0268e5cf8b010000", // ts from a Date (ms precision)
      "12000000 06000000 01000000 01 00 00000000", // current all NULL: no buffer
      "16000000 04000000 01000000 00 00 04000000 e6000000", // voltage 230
      "16000000 06000000 01000000 00 00 04000000 0000803f", // phase 1
    );
    assert.deepEqual(new Uint8Array(payload), expected);
  });

  it("no tbname/tags: NCHAR and VARCHAR as UTF-8, BIGINT beyond 2^53, DECIMAL as text, BOOL, VARBINARY", () => {
    const fields = [f("n", 10, "column"), f("b", 5, "column"), f("d", 21, "column"), f("ok", 1, "column"), f("raw", 16, "column")];
    const payload = encodeStmt2InsertBind(fields, [
      { columns: [["é", null], [2n ** 60n, -1], ["12.34", null], [true, false], [Uint8Array.from([1, 2]), new Uint8Array(0)]] },
    ]);
    const expected = hex(
      "b2000000", "01000000", "00000000", "05000000", "00000000", "00000000", "1c000000",
      "92000000",
      "1d000000 0a000000 02000000 0001 01 02000000 00000000 02000000 c3a9", // NCHAR ["é", NULL]
      "23000000 05000000 02000000 0000 00 10000000 0000000000000010 ffffffffffffffff", // BIGINT
      "20000000 15000000 02000000 0001 01 05000000 00000000 05000000 31322e3334", // DECIMAL64 ["12.34", NULL]
      "15000000 01000000 02000000 0000 00 02000000 0100", // BOOL
      "1d000000 10000000 02000000 0000 01 02000000 00000000 02000000 0102", // VARBINARY [01 02, empty]
    );
    assert.deepEqual(new Uint8Array(payload), expected);
  });

  it("timestamps from Date follow the column precision (us, ns)", () => {
    const us = encodeStmt2InsertBind([{ ...f("ts", 9, "column"), precision: "us" }], [{ columns: [[new Date(1)]] }]);
    assert.deepEqual(new Uint8Array(us).subarray(32 + 18), hex("e803000000000000"));
    const ns = encodeStmt2InsertBind([{ ...f("ts", 9, "column"), precision: "ns" }], [{ columns: [[new Date(1)]] }]);
    assert.deepEqual(new Uint8Array(ns).subarray(32 + 18), hex("40420f0000000000"));
  });

  it("rejects bad input with kind invalid, naming the table and placeholder", () => {
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, []), invalid);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ tags: [1, "a"], columns: [[1], [1], [1], [1]] }]), /no table name/);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1], columns: [[1], [1], [1], [1]] }]), /1 tags, the statement 2/);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1, "a"], columns: [[1, 2], [1], [1], [1]] }]), /column 1 has 1 values/);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1.5, "a"], columns: [[1], [1], [1], [1]] }]), (e: unknown) => invalid(e) && /groupid/.test((e as Error).message));
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1, "a"], columns: [[1], [1], [2 ** 31], [1]] }]), /voltage/);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1, 5], columns: [[1], [1], [1], [1]] }]), /a string/);
    assert.throws(() => encodeStmt2InsertBind(METER_FIELDS, [{ table: "d1", tags: [1, "a"], columns: [["x"], [1], [1], [1]] }]), /ts/);
  });
});

describe("stmt2 query parameters", () => {
  it("one table, no name or tags, each `?` a one-row column typed by its value", () => {
    const payload = encodeStmt2QueryParams([1700000000005n, "loc7"]);
    const expected = hex(
      "54000000", "01000000", "00000000", "02000000", "00000000", "00000000", "1c000000",
      "34000000",
      "1a000000 05000000 01000000 00 00 08000000 0568e5cf8b010000", // BIGINT
      "1a000000 08000000 01000000 00 01 04000000 04000000 6c6f6337", // VARCHAR "loc7"
    );
    assert.deepEqual(new Uint8Array(payload), expected);
  });

  it("types numbers, booleans and dates as taosAdapter's own encoder does", () => {
    const payload = new Uint8Array(encodeStmt2QueryParams([42, 1.5, true, new Date(0)]));
    const expected = hex(
      "95000000", "01000000", "00000000", "04000000", "00000000", "00000000", "1c000000",
      "75000000",
      "1a000000 05000000 01000000 00 00 08000000 2a00000000000000", // 42 -> BIGINT
      "1a000000 07000000 01000000 00 00 08000000 000000000000f83f", // 1.5 -> DOUBLE
      "13000000 01000000 01000000 00 00 01000000 01", // true -> BOOL
      "2e000000 08000000 01000000 00 01 18000000 18000000", "313937302d30312d30315430303a30303a30302e3030305a", // RFC 3339 text
    );
    assert.deepEqual(payload, expected);
  });

  it("refuses NULL and unsupported parameter values", () => {
    assert.throws(() => encodeStmt2QueryParams([null]), (e: unknown) => invalid(e) && /IS NULL/.test((e as Error).message));
    assert.throws(() => encodeStmt2QueryParams([{}]), invalid);
    assert.throws(() => encodeStmt2QueryParams([]), invalid);
  });
});
