// Just enough of Perspective 3.8.0's client -> server protocol (protobuf `perspective.proto.Request`) to keep
// browser sessions read-only. A Request is: msg_id (field 1, varint), entity_id (field 2, string) and one
// request from a oneof whose field number names it. The numbers below were measured from the installed
// @finos/perspective 3.8.0 by recording the bytes its own client sends for each API call (see
// lib/perspective/README.md). Anything not known to be read-only is refused: a newer client with new
// request kinds gets an error instead of a way around the filter.

/** Requests a viewer needs; none of them changes or creates a table. */
export const READ_ONLY_REQUESTS: ReadonlyMap<number, string> = new Map([
  [3, "get_features"],
  [4, "get_hosted_tables"],
  // Only allocates a port id (perspective-viewer asks for one when it loads a table); writing through a port
  // is still a table_update, which stays refused.
  [5, "table_make_port"],
  [6, "table_make_view"],
  [7, "table_schema"],
  [8, "table_size"],
  [9, "table_validate_expr"],
  [10, "view_column_paths"],
  [11, "view_delete"],
  [12, "view_dimensions"],
  [13, "view_expression_schema"],
  [14, "view_get_config"],
  [15, "view_schema"],
  [16, "view_to_arrow"],
  [17, "server_system_info"],
  [18, "view_collapse"],
  [19, "view_expand"],
  [20, "view_get_min_max"],
  [21, "view_on_update"],
  [22, "view_remove_on_update"],
  [23, "view_set_depth"],
  [24, "view_to_columns_string"],
  [25, "view_to_csv"],
  [26, "view_to_rows_string"],
  [29, "table_on_delete"],
  [30, "table_remove_delete"],
  [34, "view_on_delete"],
  [35, "view_remove_delete"],
  [36, "view_to_ndjson_string"],
  [37, "remove_hosted_tables_update"],
]);

/** Requests that create or change tables (clear() is sent as a replace with no rows). */
export const MUTATING_REQUESTS: ReadonlyMap<number, string> = new Map([
  [27, "make_table"],
  [28, "table_delete"],
  [31, "table_remove"],
  [32, "table_replace"],
  [33, "table_update"],
]);

export interface RequestHeader {
  msgId: number;
  entityId: string;
  /** Field number of the request in the oneof; undefined when the message has none. */
  kind?: number;
}

export type Verdict = { allow: true; header: RequestHeader } | { allow: false; header?: RequestHeader; reason: string };

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error("varint too long");
  }
  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Reads the top-level fields of a Request. Throws on bytes that are not a well-formed protobuf message. */
export function readRequestHeader(buf: Uint8Array): RequestHeader {
  const r = new Reader(buf);
  const header: RequestHeader = { msgId: 0, entityId: "" };
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error("field number 0");
    let value: number | Uint8Array;
    switch (wire) {
      case 0: value = r.varint(); break;
      case 1: value = r.bytes(8); break;
      case 2: value = r.bytes(r.varint()); break;
      case 5: value = r.bytes(4); break;
      default: throw new Error(`unsupported wire type ${wire}`);
    }
    if (field === 1 && typeof value === "number") header.msgId = value;
    else if (field === 2 && value instanceof Uint8Array) header.entityId = decoder.decode(value);
    else if (field >= 3) {
      if (header.kind !== undefined && header.kind !== field) throw new Error("more than one request in one message");
      header.kind = field;
    }
  }
  return header;
}

/** Decides whether a browser session may pass this request on to the engine. */
export function checkReadOnly(buf: Uint8Array): Verdict {
  let header: RequestHeader;
  try {
    header = readRequestHeader(buf);
  } catch (err) {
    return { allow: false, reason: `malformed request: ${(err as Error).message}` };
  }
  if (header.kind === undefined) return { allow: false, header, reason: "empty request" };
  if (READ_ONLY_REQUESTS.has(header.kind)) return { allow: true, header };
  const name = MUTATING_REQUESTS.get(header.kind);
  return {
    allow: false,
    header,
    reason: name
      ? `read-only connection: ${name} is not allowed (tables are changed only by the Node-RED flow)`
      : `read-only connection: request type ${header.kind} is not allowed`,
  };
}

function writeVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function writeBytes(out: number[], field: number, bytes: Uint8Array | number[]): void {
  writeVarint(out, field * 8 + 2);
  writeVarint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

const encoder = new TextEncoder();

/**
 * A `perspective.proto.Response` carrying `server_error` (field 50: message = 1) for the given request, so the
 * client's pending call rejects with this message.
 */
export function encodeServerError(header: Pick<RequestHeader, "msgId" | "entityId">, message: string): Uint8Array {
  const out: number[] = [];
  if (header.msgId) {
    writeVarint(out, 1 * 8 + 0);
    writeVarint(out, header.msgId);
  }
  if (header.entityId) writeBytes(out, 2, encoder.encode(header.entityId));
  const err: number[] = [];
  writeBytes(err, 1, encoder.encode(message));
  writeBytes(out, 50, err);
  return Uint8Array.from(out);
}
