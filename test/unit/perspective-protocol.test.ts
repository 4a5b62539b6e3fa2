// The browser allowlist against request bytes written out by hand from the protobuf wire format
// (tag = field_number << 3 | wire_type, varint-encoded) and the field numbers measured from
// @finos/perspective 3.8.0 (lib/perspective/README.md).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkRequest, encodeServerError, isSubscription, readRequestHeader } from "../../lib/perspective/protocol";

const checkReadOnly = (b: Uint8Array) => checkRequest(b, { serverViews: true });

const bytes = (...b: number[]) => Uint8Array.from(b);
// msg_id = 5 (field 1, varint), entity_id = "t1" (field 2, length-delimited)
const HEAD = [0x08, 0x05, 0x12, 0x02, 0x74, 0x31];

const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));

describe("Perspective request filter", () => {
  // table_make_view requests exactly as @finos/perspective 3.8.0's client sends them (recorded bytes; view ids
  // of 21 characters): view_id (1) and ViewConfig (2) inside field 6.
  const VIEW_ID = "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b"; // "kkkkkkkkkkkkkkkkkkkkk"
  const makeView = (config: string) => hex(`0801120174` + `32${(23 + config.length / 2).toString(16).padStart(2, "0")}0a15${VIEW_ID}` + config);
  const RECORDED: [string, string][] = [
    ["group_by", "12030a0162"],
    ["split_by", "1203120162"],
    ["filter", "121422120a016112023d3d1a0921000000000000f03f"],
    ["sort", "12072a050a01611002"],
    ["expressions", "120a32080a01781203312b31"],
  ];

  it("by default lets through only what replication needs: one flat view, its Arrow and its row deltas", () => {
    const replicate = (b: Uint8Array) => checkRequest(b, {});
    const flat = replicate(makeView(""));
    assert.equal(flat.allow, true, "table.view()");
    assert.equal(flat.allow && flat.header.viewId, "kkkkkkkkkkkkkkkkkkkkk");
    assert.equal(replicate(makeView("120a1a0812060a01610a0162")).allow, true, "table.view({columns: [a, b]})");
    for (const [what, config] of RECORDED) {
      const v = replicate(makeView(config));
      assert.equal(v.allow, false, what);
      assert.match(!v.allow ? v.reason : "", new RegExp(`table_make_view with ${what} is not allowed`), what);
      assert.equal(checkRequest(makeView(config), { serverViews: true }).allow, true, `${what} with server-side views`);
    }
    const allowed: [string, number[]][] = [
      ["get_hosted_tables (4)", [0x22, 0x00]],
      ["on_hosted_tables_update (4 with subscribe)", [0x22, 0x02, 0x08, 0x01]],
      ["table_schema (7)", [0x3a, 0x00]],
      ["table_size (8)", [0x42, 0x00]],
      ["view_delete (11)", [0x5a, 0x00]],
      ["view_to_arrow (16)", [0x82, 0x01, 0x00]],
      ["view_on_update (21)", [0xaa, 0x01, 0x02, 0x08, 0x00]],
      ["view_remove_on_update (22)", [0xb2, 0x01, 0x00]],
      ["table_on_delete (29)", [0xea, 0x01, 0x00]],
      ["remove_hosted_tables_update (37)", [0xaa, 0x02, 0x02, 0x08, 0x01]],
    ];
    for (const [what, req] of allowed) assert.equal(replicate(bytes(...HEAD, ...req)).allow, true, what);
    const refused: [string, number[]][] = [
      ["table_validate_expr", [0x4a, 0x00]],
      ["server_system_info", [0x8a, 0x01, 0x00]],
      ["view_to_rows_string", [0xd2, 0x01, 0x00]],
      ["view_to_columns_string", [0xc2, 0x01, 0x00]],
      ["view_expand", [0x9a, 0x01, 0x00]],
      ["table_make_port", [0x2a, 0x00]],
    ];
    for (const [name, req] of refused) {
      const v = replicate(bytes(...HEAD, ...req));
      assert.equal(v.allow, false, name);
      assert.match(!v.allow ? v.reason : "", new RegExp(`^${name} is not allowed`), name);
      assert.deepEqual(!v.allow && v.header && v.header.msgId, 5, "answered for its msg_id");
    }
  });

  it("tells subscriptions (streams of replies) from requests that get one reply", () => {
    assert.equal(isSubscription(readRequestHeader(bytes(...HEAD, 0x22, 0x02, 0x08, 0x01))), true, "on_hosted_tables_update");
    assert.equal(isSubscription(readRequestHeader(bytes(...HEAD, 0x22, 0x00))), false, "get_hosted_tables");
    assert.equal(isSubscription(readRequestHeader(bytes(...HEAD, 0xaa, 0x01, 0x00))), true, "on_update");
    assert.equal(isSubscription(readRequestHeader(bytes(...HEAD, 0x82, 0x01, 0x00))), false, "to_arrow");
  });

  it("reads msg_id, entity_id and the request's field number", () => {
    // table_update_req = field 33, wire type 2: tag 266 = 0x8a 0x02; empty body
    assert.deepEqual(readRequestHeader(bytes(...HEAD, 0x8a, 0x02, 0x00)), { msgId: 5, entityId: "t1", kind: 33 });
    // a multi-byte msg_id: 300 = 0xac 0x02
    assert.deepEqual(readRequestHeader(bytes(0x08, 0xac, 0x02, 0x22, 0x00)), { msgId: 300, entityId: "", kind: 4 });
  });

  it("with server-side views allowed, lets through what a viewer needs", () => {
    const allowed: [string, number[]][] = [
      ["get_hosted_tables (4)", [0x22, 0x00]],
      ["table_make_port (5)", [0x2a, 0x00]],
      ["table_make_view (6)", [0x32, 0x02, 0x0a, 0x00]],
      ["server_system_info (17)", [0x8a, 0x01, 0x00]],
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
    assert.match(!unknown.allow ? unknown.reason : "", /request type 99 is not allowed/);
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
