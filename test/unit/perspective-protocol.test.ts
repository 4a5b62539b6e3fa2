// The read-only filter against request bytes written out by hand from the protobuf wire format
// (tag = field_number << 3 | wire_type, varint-encoded) and the field numbers measured from
// @finos/perspective 3.8.0 (lib/perspective/README.md).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkReadOnly, encodeServerError, readRequestHeader } from "../../lib/perspective/protocol";

const bytes = (...b: number[]) => Uint8Array.from(b);
// msg_id = 5 (field 1, varint), entity_id = "t1" (field 2, length-delimited)
const HEAD = [0x08, 0x05, 0x12, 0x02, 0x74, 0x31];

describe("Perspective request filter", () => {
  it("reads msg_id, entity_id and the request's field number", () => {
    // table_update_req = field 33, wire type 2: tag 266 = 0x8a 0x02; empty body
    assert.deepEqual(readRequestHeader(bytes(...HEAD, 0x8a, 0x02, 0x00)), { msgId: 5, entityId: "t1", kind: 33 });
    // a multi-byte msg_id: 300 = 0xac 0x02
    assert.deepEqual(readRequestHeader(bytes(0x08, 0xac, 0x02, 0x22, 0x00)), { msgId: 300, entityId: "", kind: 4 });
  });

  it("lets through what a viewer needs", () => {
    const allowed: [string, number[]][] = [
      ["get_hosted_tables (4)", [0x22, 0x00]],
      ["table_make_port (5)", [0x2a, 0x00]],
      ["table_make_view (6)", [0x32, 0x02, 0x0a, 0x00]],
      ["table_schema (7)", [0x3a, 0x00]],
      ["table_size (8)", [0x42, 0x00]],
      ["view_to_arrow (16)", [0x82, 0x01, 0x00]],
      ["view_on_update (21)", [0xaa, 0x01, 0x00]],
      ["view_to_columns_string (24)", [0xc2, 0x01, 0x02, 0x0a, 0x00]],
      ["view_to_rows_string (26)", [0xd2, 0x01, 0x00]],
      ["view_delete (11)", [0x5a, 0x00]],
      ["remove_hosted_tables_update (37)", [0xaa, 0x02, 0x02, 0x08, 0x01]],
    ];
    for (const [what, req] of allowed) assert.equal(checkReadOnly(bytes(...HEAD, ...req)).allow, true, what);
  });

  it("refuses requests that create or change tables, naming them", () => {
    const refused: [string, number[]][] = [
      ["make_table", [0xda, 0x01, 0x00]], // 27
      ["table_delete", [0xe2, 0x01, 0x02, 0x08, 0x01]], // 28
      ["table_remove", [0xfa, 0x01, 0x00]], // 31
      ["table_replace", [0x82, 0x02, 0x00]], // 32 (clear() is a replace with no rows)
      ["table_update", [0x8a, 0x02, 0x00]], // 33
    ];
    for (const [name, req] of refused) {
      const v = checkReadOnly(bytes(...HEAD, ...req));
      assert.equal(v.allow, false, name);
      assert.ok(!v.allow && v.reason.includes(name) && v.reason.startsWith("read-only connection"), name);
      assert.deepEqual(!v.allow && v.header && { msgId: v.header.msgId, entityId: v.header.entityId }, { msgId: 5, entityId: "t1" });
    }
  });

  it("refuses unknown request types and malformed bytes", () => {
    const unknown = checkReadOnly(bytes(...HEAD, 0x9a, 0x06, 0x00)); // field 99
    assert.equal(unknown.allow, false);
    assert.match(!unknown.allow ? unknown.reason : "", /request type 99/);
    for (const bad of [bytes(0x08), bytes(0x12, 0x05, 0x61), bytes(0x0b), bytes(0x00, 0x00)]) {
      const v = checkReadOnly(bad);
      assert.equal(v.allow, false);
      assert.equal(!v.allow && v.header, undefined, "no reply can be addressed for bytes that do not parse");
    }
    const empty = checkReadOnly(bytes(...HEAD));
    assert.equal(empty.allow, false);
    // Two different requests in one message are not a valid Request.
    assert.equal(checkReadOnly(bytes(...HEAD, 0x22, 0x00, 0x8a, 0x02, 0x00)).allow, false);
  });

  it("encodes the error reply as a Response with server_error (field 50) for the same msg_id and entity_id", () => {
    // 08 05 | 12 02 't' '1' | tag 50<<3|2 = 402 = 0x92 0x03, length 4, ServerError{message (1) = "no"}
    assert.deepEqual(encodeServerError({ msgId: 5, entityId: "t1" }, "no"), bytes(...HEAD, 0x92, 0x03, 0x04, 0x0a, 0x02, 0x6e, 0x6f));
    assert.deepEqual(encodeServerError({ msgId: 0, entityId: "" }, ""), bytes(0x92, 0x03, 0x02, 0x0a, 0x00));
  });
});
