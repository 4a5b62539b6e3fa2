// TMQ fetch_raw_data replies and TMQ raw data written out byte by byte from the layouts (protocol reference §4,
// taosAdapter controller/ws/tmq/tmq.go wsFetchRawBlockMessage / tmqFetchRawBlockErrorMsg and
// driver/common/parser/raw.go). Nothing here is produced by an encoder of this project.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeTmqRawData, parseRawDataReply } from "../../lib/tdengine/tmq-raw-data";
import { tmqUrl } from "../../lib/tdengine/connection";
import { subscribeArgs } from "../../lib/tdengine/tmq";
import { TdengineError } from "../../lib/tdengine";
import { BLOCK_TEN_ROWS, BLOCK_VAR, hex } from "../support/tdengine-blocks";

const TEN = Buffer.from(BLOCK_TEN_ROWS).toString("hex"); // 79 bytes: one INT column "v", 10 rows
const VAR = Buffer.from(BLOCK_VAR).toString("hex"); // 194 bytes: VARCHAR, NCHAR, JSON, VARBINARY, GEOMETRY

/** Old head (two offsets), one block with schema and table name. Block length varint 0x61 = 18 + 79. */
const RAW_ONE = hex(
  "01", "0000000000000000", // request offset: type 1 (log), 8 bytes
  "01", "0500000000000000", // response offset: type 1
  "01000000", "01", "01", // 1 block, with table name, with schema
  "61", "0000000000000000000000000000000000", "01", TEN, // block: 17 bytes, precision 1 (us), raw block
  "02", "00", // schema: 1 column (zigzag 2), version 0
  "04", "01", "08", "02", "02 7600", // INT, flag 1, bytes 4 (zigzag 8), col id 1 (zigzag 2), name "v"
  "04 643132 00", // table name "d12"
);

/** New head (v >= 100: i32 length + skipped bytes), two blocks with schema, no table name. */
const RAW_TWO = hex(
  "64", "04000000", "deadbeef",
  "02000000", "00", "01",
  "d401", "0000000000000000000000000000000000", "02", VAR, // length 212 = 18 + 194 (varint d4 01)
  "0a", "02", // 5 columns, version 1
  "08 01 a002 02 02 61 00", // VARCHAR, bytes 144 (zigzag varint a0 02), col id 1, name "a"
  "0a 01 54 04 02 62 00",
  "0f 01 00 06 02 63 00",
  "10 01 40 08 02 64 00",
  "14 01 8004 0a 02 65 00",
  "61", "0000000000000000000000000000000000", "00", TEN,
  "02", "00", "04 01 08 02 02 7600",
);

function fetchReply(body: string): Uint8Array {
  return hex("ffffffffffffffff", "0800000000000000", "0100", "0700000000000000", "2a00000000000000", body);
}

describe("TMQ fetch_raw_data reply and raw data", () => {
  it("reads the reply header: req_id, message id, meta type and the data", () => {
    const r = parseRawDataReply(fetchReply(`00000000 00000000 0900000000000000 0100 ${"03000000"} 010203`));
    assert.equal(r.reqId, 42n);
    assert.equal(r.code, 0);
    assert.equal(r.messageId, 9n);
    assert.equal(r.metaType, 1);
    assert.deepEqual([...r.data], [1, 2, 3]);
  });

  it("reads an error reply: code, message, message id and no data", () => {
    const r = parseRawDataReply(fetchReply(`ffff0000 16000000 ${Buffer.from("message has been freed").toString("hex")} 0300000000000000`));
    assert.equal(r.code, 0xffff);
    assert.equal(r.message, "message has been freed");
    assert.equal(r.messageId, 3n);
    assert.equal(r.data.length, 0);
  });

  it("refuses a reply with another action code", () => {
    const frame = Uint8Array.from(fetchReply("00000000 00000000 0900000000000000 0100 00000000"));
    frame[8] = 7;
    assert.throws(() => parseRawDataReply(frame), (e: unknown) => e instanceof TdengineError && e.kind === "protocol" && /action 7/.test(e.message));
  });

  it("decodes one block with schema names, precision and table name", () => {
    const [b, ...rest] = decodeTmqRawData(RAW_ONE);
    assert.equal(rest.length, 0);
    assert.equal(b.table, "d12");
    assert.equal(b.precision, "us");
    assert.deepEqual(b.columns, [{ name: "v", type: 4, typeName: "INT", length: 4 }]);
    assert.deepEqual(b.rows.map((r) => r[0]), [null, 1, 2, 3, 4, 5, 6, 7, 8, null]);
  });

  it("skips a v>=100 head, decodes several blocks, each with its own schema", () => {
    const [a, b] = decodeTmqRawData(RAW_TWO);
    assert.equal(a.table, undefined);
    assert.deepEqual(a.columns.map((c) => [c.name, c.typeName]), [["a", "VARCHAR"], ["b", "NCHAR"], ["c", "JSON"], ["d", "VARBINARY"], ["e", "GEOMETRY"]]);
    assert.equal(a.precision, "ns");
    assert.deepEqual(a.rows[0].slice(0, 3), ["héllo", "a😀", '{"k":1}']);
    assert.deepEqual(b.columns.map((c) => c.name), ["v"]);
    assert.equal(b.rows.length, 10);
  });

  it("every truncation and every corrupt length fails with a protocol error, never anything else", () => {
    for (const raw of [RAW_ONE, RAW_TWO]) {
      for (let cut = 0; cut < raw.length; cut++) {
        assert.throws(() => decodeTmqRawData(raw.subarray(0, cut)), (e: unknown) => e instanceof TdengineError && e.kind === "protocol", `cut at ${cut}`);
      }
    }
    const hugeCount = Uint8Array.from(RAW_ONE);
    hugeCount.set([0xff, 0xff, 0xff, 0x7f], 18);
    assert.throws(() => decodeTmqRawData(hugeCount), /block count/);
    const longVarint = hex("01", "0000000000000000", "01", "0000000000000000", "01000000", "00", "00", "ffffffffffff01");
    assert.throws(() => decodeTmqRawData(longVarint), /longer than 5 bytes/);
    const badOffset = Uint8Array.from(RAW_ONE);
    badOffset[0] = 7;
    assert.throws(() => decodeTmqRawData(badOffset), /offset type 7/);
  });

  it("writes the subscribe args as taosAdapter reads them (strings for booleans and numbers, offset_rest)", () => {
    assert.deepEqual(subscribeArgs({ url: "ws://x", groupId: "g", clientId: "c", offsetReset: "earliest", autoCommit: true, autoCommitIntervalMs: 1000, user: "u", password: "p", sessionTimeoutMs: 6000 }, ["a", "b"]), {
      user: "u", password: "p", db: "", group_id: "g", client_id: "c", offset_rest: "earliest", topics: ["a", "b"],
      auto_commit: "true", auto_commit_interval_ms: "1000", with_table_name: "true", connector: "node-red-tdengine-perspective",
      session_timeout_ms: "6000",
    });
  });

  it("puts the TMQ endpoint in the URL: /rest/tmq for no path or the SQL endpoint's /ws, other paths kept", () => {
    assert.equal(tmqUrl("ws://h:6041"), "ws://h:6041/rest/tmq");
    assert.equal(tmqUrl("http://h:6041/ws"), "ws://h:6041/rest/tmq");
    assert.equal(tmqUrl("wss://h/proxy/ws", "tok"), "wss://h/proxy/rest/tmq?token=tok");
    assert.equal(tmqUrl("ws://h/custom"), "ws://h/custom");
  });
});
