// Raw-block decoding against blocks written out byte by byte from the layout table (protocol reference §2.6):
// 0 i32 version | 4 i32 length | 8 i32 rows | 12 i32 cols | 16 i32 flag | 20 u64 group | 5-byte column
// entries | i32 column lengths | sections. Nothing here is produced by an encoder of ours.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeRawBlock } from "../../lib/tdengine/raw-block-decoder";
import { TdengineError } from "../../lib/tdengine";
import { BLOCK_DECIMAL_BLOB, BLOCK_SMALL_INTS, BLOCK_TEN_ROWS, BLOCK_TS_UNSIGNED, BLOCK_VAR, BLOCK_WIDE, hex } from "../support/tdengine-blocks";

describe("raw block decoder", () => {
  it("decodes BOOL/TINYINT/SMALLINT/INT with NULLs and ignores trailing bytes", () => {
    const { rows, columns } = decodeRawBlock(BLOCK_SMALL_INTS);
    assert.deepEqual(columns.map((c) => c.type), [1, 2, 3, 4]);
    assert.deepEqual(rows, [
      [true, -1, -32768, -2],
      [null, 127, null, 2147483647],
      [false, null, 300, null],
    ]);
  });

  it("decodes BIGINT beyond 2^53 as string by default, FLOAT exactly, DOUBLE, BIGINT UNSIGNED", () => {
    const { rows } = decodeRawBlock(BLOCK_WIDE);
    assert.deepEqual(rows, [
      [-1, Math.fround(1.1), 0.1, "18446744073709551615"],
      ["9007199254740993", null, -2.5, 5],
      [null, -0.5, null, null],
    ]);
    assert.equal(rows[0][1], 1.100000023841858);
  });

  it("returns every BIGINT as bigint with bigint: 'bigint'", () => {
    const { rows } = decodeRawBlock(BLOCK_WIDE, { bigint: "bigint" });
    assert.deepEqual(rows.map((r) => [r[0], r[3]]), [
      [-1n, 18446744073709551615n],
      [9007199254740993n, 5n],
      [null, null],
    ]);
  });

  it("keeps ns timestamps exact (bigint) and negative timestamps as numbers; unsigned types", () => {
    const { rows } = decodeRawBlock(BLOCK_TS_UNSIGNED);
    assert.deepEqual(rows, [
      [1700000000123456789n, 255, 65535, 4294967295],
      [-1000, 0, 1, 7],
      [null, null, null, null],
    ]);
  });

  it("decodes VARCHAR (multi-byte UTF-8, empty), NCHAR (UCS-4 beyond the BMP), JSON, VARBINARY, GEOMETRY", () => {
    const { rows } = decodeRawBlock(BLOCK_VAR);
    const point = hex("01 01000000 000000000000f03f 0000000000000040");
    assert.deepEqual(rows, [
      ["héllo", "a😀", '{"k":1}', Uint8Array.from([0, 0xff, 0x10]), point],
      ["", null, null, null, null],
      [null, "", null, new Uint8Array(0), null],
    ]);
    assert.equal(Object.getPrototypeOf(rows[0][3]), Uint8Array.prototype, "binary values are plain Uint8Arrays");
  });

  it("decodes DECIMAL64 and DECIMAL (128-bit) with the scale applied, and BLOB with u32 prefixes", () => {
    const { rows, columns } = decodeRawBlock(BLOCK_DECIMAL_BLOB);
    assert.deepEqual(columns.map((c) => [c.type, c.scale, c.precision]), [
      [21, 4, 10],
      [17, 2, 38],
      [18, 0, 0],
    ]);
    assert.deepEqual(rows, [
      ["12.3400", "-123.45", Uint8Array.from([1, 2, 3])],
      ["-0.0005", "184467440737095516.17", null],
      [null, null, new Uint8Array(0)],
    ]);
  });

  it("uses the scale from the query reply when given", () => {
    const { rows } = decodeRawBlock(BLOCK_DECIMAL_BLOB, { scales: [2, 0] });
    assert.equal(rows[0][0], "1234.00");
    assert.equal(rows[0][1], "-12345");
  });

  it("reads the null bitmap most-significant bit first across bytes", () => {
    const { rows } = decodeRawBlock(BLOCK_TEN_ROWS);
    assert.deepEqual(rows.map((r) => r[0]), [null, 1, 2, 3, 4, 5, 6, 7, 8, null]);
  });

  it("decodes a block of zero rows", () => {
    const empty = hex("01000000", "2e000000", "00000000", "02000000", "00000000", "0000000000000000", "09 08000000", "08 10000000", "00000000", "00000000");
    const { rows, columns } = decodeRawBlock(empty);
    assert.deepEqual(rows, []);
    assert.equal(columns.length, 2);
  });

  it("rejects an unknown type code and a short block with a protocol error", () => {
    const bad = Uint8Array.from(BLOCK_TEN_ROWS);
    bad[28] = 19; // MEDIUMBLOB: not decodable
    assert.throws(() => decodeRawBlock(bad), (e: unknown) => e instanceof TdengineError && e.kind === "protocol" && /type code 19/.test(e.message));
    assert.throws(() => decodeRawBlock(BLOCK_TEN_ROWS.subarray(0, 20)), (e: unknown) => e instanceof TdengineError && e.kind === "protocol");
  });
});
