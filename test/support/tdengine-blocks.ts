// Raw blocks written out byte by byte from the layout table of the protocol reference (§2.6), shared by the
// client's decoder tests and fuzz test. Nothing here is produced by an encoder of this project.
import assert from "node:assert/strict";

/** Hex with spaces/newlines -> bytes. */
export function hex(...parts: string[]): Uint8Array {
  const s = parts.join("").replace(/\s+/g, "");
  assert.equal(s.length % 2, 0, "odd hex length in test data");
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** BOOL, TINYINT, SMALLINT, INT; 3 rows; NULLs; a trailing blank-fill byte after the last column. */
export const BLOCK_SMALL_INTS = hex(
  "01000000", "5d000000", "03000000", "04000000", "00000080", "0000000000000000",
  "01 01000000", "02 01000000", "03 02000000", "04 04000000",
  "03000000", "03000000", "06000000", "0c000000",
  "40", "01 00 00", // BOOL [true, null, false]
  "20", "ff 7f 00", // TINYINT [-1, 127, null]
  "40", "0080 0000 2c01", // SMALLINT [-32768, null, 300]
  "20", "feffffff ffffff7f 00000000", // INT [-2, 2147483647, null]
  "00", // trailing byte (blank-fill flag of newer encoders)
);

/** BIGINT, FLOAT, DOUBLE, BIGINT UNSIGNED; 3 rows. */
export const BLOCK_WIDE = hex(
  "01000000", "98000000", "03000000", "04000000", "00000000", "0000000000000000",
  "05 08000000", "06 04000000", "07 08000000", "0e 08000000",
  "18000000", "0c000000", "18000000", "18000000",
  "20", "ffffffffffffffff 0100000000002000 0000000000000000", // BIGINT [-1, 2^53+1, null]
  "40", "cdcc8c3f 00000000 000000bf", // FLOAT [1.1f, null, -0.5]
  "20", "9a9999999999b93f 00000000000004c0 0000000000000000", // DOUBLE [0.1, -2.5, null]
  "20", "ffffffffffffffff 0500000000000000 0000000000000000", // UBIGINT [2^64-1, 5, null]
);

/** TIMESTAMP (ns values), TINYINT/SMALLINT/INT UNSIGNED; 3 rows. */
export const BLOCK_TS_UNSIGNED = hex(
  "01000000", "71000000", "03000000", "04000000", "00000080", "0000000000000000",
  "09 08000000", "0b 01000000", "0c 02000000", "0d 04000000",
  "18000000", "03000000", "06000000", "0c000000",
  "20", "15cd853dfe9c9717 18fcffffffffffff 0000000000000000", // [1700000000123456789, -1000, null]
  "20", "ff 00 00", // [255, 0, null]
  "20", "ffff 0100 0000", // [65535, 1, null]
  "20", "ffffffff 07000000 00000000", // [4294967295, 7, null]
);

/** VARCHAR, NCHAR, JSON, VARBINARY, GEOMETRY; 3 rows. */
export const BLOCK_VAR = hex(
  "01000000", "c2000000", "03000000", "05000000", "00000080", "0000000000000000",
  "08 10000000", "0a 2a000000", "0f 00100000", "10 20000000", "14 00010000",
  "0a000000", "0c000000", "09000000", "07000000", "17000000",
  "00000000 08000000 ffffffff", "0600 68c3a96c6c6f 0000", // VARCHAR ["héllo", "", null]
  "00000000 ffffffff 0a000000", "0800 61000000 00f60100 0000", // NCHAR ["a😀", null, ""] (UCS-4 LE)
  "00000000 ffffffff ffffffff", "0700 7b226b223a317d", // JSON ['{"k":1}', null, null]
  "00000000 ffffffff 05000000", "0300 00ff10 0000", // VARBINARY [00 ff 10, null, empty]
  "00000000 ffffffff ffffffff", "1500 01 01000000 000000000000f03f 0000000000000040", // GEOMETRY [POINT(1 2), null, null]
);

/** DECIMAL64(10,4), DECIMAL(38,2), BLOB; 3 rows. Decimal entries pack scale at +1, precision at +2, bytes at +4. */
export const BLOCK_DECIMAL_BLOB = hex(
  "01000000", "98000000", "03000000", "03000000", "00000000", "0000000000000000",
  "15 040a0008", "11 02260010", "12 00004000",
  "18000000", "30000000", "0b000000",
  "20", "08e2010000000000 fbffffffffffffff 0000000000000000", // [123400, -5, null] scale 4
  "20", "c7cfffffffffffff ffffffffffffffff 0100000000000000 0100000000000000", "00000000000000000000000000000000", // [-12345, 2^64+1, null] scale 2
  "00000000 ffffffff 07000000", "03000000 010203 00000000", // BLOB [01 02 03, null, empty] (u32 prefixes)
);

/** One INT column, 10 rows: the null bitmap spans two bytes (rows 0 and 9 NULL). */
export const BLOCK_TEN_ROWS = hex(
  "01000000", "4f000000", "0a000000", "01000000", "00000000", "0000000000000000",
  "04 04000000",
  "28000000",
  "80 40",
  "00000000 01000000 02000000 03000000 04000000 05000000 06000000 07000000 08000000 09000000",
);
