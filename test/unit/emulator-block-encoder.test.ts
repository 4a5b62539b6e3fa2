// The emulator's raw block encoder and fetch_raw_block reply, checked byte by byte against layouts written out
// by hand from the protocol facts (§2.5, §2.6).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fetchReply } from "../../emulator/binary-actions.js";
import { encodeBlock } from "../../emulator/raw-block-encoder.js";
import { ValuesResult } from "../../emulator/result.js";
import { parseStmt2Bind, boundValue } from "../../emulator/stmt2-bind-parser.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("emulator raw block encoder", () => {
  it("encodes fixed and variable columns with bitmaps, offsets and UCS-4 NCHAR", () => {
    const rs = new ValuesResult(
      [
        { name: "ts", type: 9, length: 8 },
        { name: "i", type: 4, length: 4 },
        { name: "s", type: 8, length: 5 },
        { name: "n", type: 10, length: 2 },
      ],
      [
        [1n, 7, "ab", "é"],
        [2n, null, null, "x"],
      ],
    );
    const expected = hex(`
      01000000 7a000000 02000000 04000000 00000080 0000000000000000
      09 08000000  04 04000000  08 07000000  0a 0a000000
      10000000 08000000 04000000 0c000000
      00 0100000000000000 0200000000000000
      40 07000000 00000000
      00000000 ffffffff 0200 6162
      00000000 06000000 0400 e9000000 0400 78000000
    `);
    assert.equal(encodeBlock(rs, 0, 2).toString("hex"), expected.toString("hex"));
  });

  it("encodes a row window of a larger result and DECIMAL64 with the packed schema width", () => {
    const rs = new ValuesResult([{ name: "d", type: 21, length: 8, decPrecision: 10, decScale: 2 }], [[5n], [-1235n], [null]]);
    const expected = hex(`
      01000000 36000000 02000000 01000000 00000080 0000000000000000
      15 020a0008
      10000000
      40 2dfbffffffffffff 0000000000000000
    `);
    assert.equal(encodeBlock(rs, 1, 2).toString("hex"), expected.toString("hex"));
  });

  it("builds fetch_raw_block replies: data, finished and error forms", () => {
    const block = hex("aabbcc");
    assert.equal(
      fetchReply(5n, 3n, 9n, 0, "", false, block).toString("hex"),
      hex(`ffffffffffffffff 0700000000000000 0100 0900000000000000 0500000000000000 00000000 00000000
           0300000000000000 00 03000000 aabbcc`).toString("hex"),
    );
    assert.equal(
      fetchReply(5n, 3n, 9n, 0, "", true, null).toString("hex"),
      hex(`ffffffffffffffff 0700000000000000 0100 0900000000000000 0500000000000000 00000000 00000000
           0300000000000000 01`).toString("hex"),
    );
    assert.equal(
      fetchReply(6n, 4n, 1n, 0xffff, "result is nil", true, null).toString("hex"),
      hex(`ffffffffffffffff 0700000000000000 0100 0100000000000000 0600000000000000 ffff0000 0d000000
           ${Buffer.from("result is nil").toString("hex")} 0400000000000000 01`).toString("hex"),
    );
  });
});

describe("emulator stmt2 bind parser", () => {
  it("parses table names, tags and columns of a hand-built payload", () => {
    // 1 table "d1", 1 INT tag = 7, 2 columns: TIMESTAMP [10, 11], VARCHAR ["ab", NULL]
    const tag = hex("16000000 04000000 01000000 00 00 04000000 07000000");
    const ts = hex("23000000 09000000 02000000 0000 00 10000000 0a00000000000000 0b00000000000000");
    const vc = hex("1d000000 08000000 02000000 0001 01 02000000 00000000 02000000 6162");
    const cols = Buffer.concat([ts, vc]);
    const names = hex("0300 643100");
    const tagSec = Buffer.concat([hex("16000000"), tag]);
    const colSec = Buffer.concat([Buffer.from(Uint32Array.of(cols.length).buffer), cols]);
    const total = 28 + names.length + tagSec.length + colSec.length;
    const head = Buffer.from(Uint32Array.of(total, 1, 1, 2, 28, 28 + names.length, 28 + names.length + tagSec.length).buffer);
    const tables = parseStmt2Bind(Buffer.concat([head, names, tagSec, colSec]));
    assert.equal(tables.length, 1);
    assert.equal(tables[0].name, "d1");
    assert.equal(boundValue(tables[0].tags[0], 0), 7);
    assert.deepEqual([boundValue(tables[0].columns[0], 0), boundValue(tables[0].columns[0], 1)], [10n, 11n]);
    assert.deepEqual([boundValue(tables[0].columns[1], 0), boundValue(tables[0].columns[1], 1)], ["ab", null]);
  });
});
