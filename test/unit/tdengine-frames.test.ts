// Binary request frames and the fetch_raw_block reply, against bytes written out from the protocol tables
// (reference §2.2 request header, §2.4 `show databases` example, §2.5 reply layout).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { binaryQueryFrame, fetchRawBlockFrame, stmt2BindFrame } from "../../lib/tdengine/frames";
import { binaryReplyReqId, parseFetchReply } from "../../lib/tdengine/fetch-reply";
import { TdengineError } from "../../lib/tdengine";
import { BLOCK_TEN_ROWS, hex } from "../support/tdengine-blocks";

describe("binary request frames", () => {
  it("binary_query (6) for `show databases`: header, version 1, u32 length 14, SQL at 30", () => {
    const frame = binaryQueryFrame(5, "show databases");
    assert.deepEqual(
      new Uint8Array(frame),
      hex(
        "0500000000000000", // req_id
        "0000000000000000", // resource id
        "0600000000000000", // action 6
        "0100", // version
        "0e000000", // SQL byte length 14
        "73686f7720646174616261736573", // "show databases"
      ),
    );
  });

  it("binary_query counts UTF-8 bytes, not characters", () => {
    const frame = binaryQueryFrame(1, "é");
    assert.deepEqual(new Uint8Array(frame).subarray(26), hex("02000000", "c3a9"));
  });

  it("fetch_raw_block (7) is 26 bytes with the result id as resource id", () => {
    assert.deepEqual(
      new Uint8Array(fetchRawBlockFrame(7, 3)),
      hex("0700000000000000", "0300000000000000", "0700000000000000", "0100"),
    );
  });

  it("stmt2_bind (9): stmt id as resource id, column index -1 at 26, payload at 30", () => {
    assert.deepEqual(
      new Uint8Array(stmt2BindFrame(9, 2, Uint8Array.from([0xaa, 0xbb]))),
      hex("0900000000000000", "0200000000000000", "0900000000000000", "0100", "ffffffff", "aabb"),
    );
  });

  it("req ids up to 2^53-1 are written as full u64", () => {
    const frame = fetchRawBlockFrame(Number.MAX_SAFE_INTEGER, 1);
    assert.deepEqual(new Uint8Array(frame).subarray(0, 8), hex("ffffffffffff1f00"));
  });
});

const REPLY_WITH_BLOCK = hex(
  "ffffffffffffffff", // marker
  "0700000000000000", // action 7
  "0100", // version
  "1000000000000000", // timing
  "2a00000000000000", // req_id 42
  "00000000", // code
  "00000000", // message length
  "0300000000000000", // result id
  "00", // finished
  "4f000000", // block length 79
);

describe("fetch_raw_block reply", () => {
  it("parses a data reply and routes by the u64 at offset 26", () => {
    const frame = new Uint8Array([...REPLY_WITH_BLOCK, ...BLOCK_TEN_ROWS]);
    assert.equal(binaryReplyReqId(frame), 42n);
    const r = parseFetchReply(frame);
    assert.equal(r.reqId, 42n);
    assert.equal(r.code, 0);
    assert.equal(r.resultId, 3n);
    assert.equal(r.finished, false);
    assert.deepEqual(r.block, BLOCK_TEN_ROWS);
  });

  it("parses an error reply with its message", () => {
    const frame = hex(
      "ffffffffffffffff", "0700000000000000", "0100", "0000000000000000", "0900000000000000",
      "ffff0000", // code 0xffff
      "0d000000", "726573756c74206973206e696c", // "result is nil"
      "0300000000000000", "01",
    );
    const r = parseFetchReply(frame);
    assert.equal(r.code, 0xffff);
    assert.equal(r.message, "result is nil");
    assert.equal(r.finished, true);
    assert.equal(r.block, undefined);
  });

  it("parses the finished reply (no block length)", () => {
    const frame = hex("ffffffffffffffff", "0700000000000000", "0100", "0000000000000000", "0900000000000000", "00000000", "00000000", "0300000000000000", "01");
    assert.deepEqual(parseFetchReply(frame), { reqId: 9n, code: 0, message: "", resultId: 3n, finished: true });
  });

  it("rejects a legacy frame (no marker) and a truncated block", () => {
    const legacy = Uint8Array.from(REPLY_WITH_BLOCK);
    legacy[0] = 0;
    assert.equal(binaryReplyReqId(legacy), undefined);
    const isProtocol = (e: unknown): boolean => e instanceof TdengineError && e.kind === "protocol";
    assert.throws(() => parseFetchReply(legacy), isProtocol);
    assert.throws(() => parseFetchReply(new Uint8Array([...REPLY_WITH_BLOCK, ...BLOCK_TEN_ROWS.subarray(0, 40)])), isProtocol);
  });
});
