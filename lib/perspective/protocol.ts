// Just enough of Perspective 3.8.0's client -> server protocol (protobuf `perspective.proto.Request`) to decide
// what a browser may ask of the engine. A Request is: msg_id (field 1, varint), entity_id (field 2, string) and
// one request from a oneof whose field number names it. The numbers below were measured from the installed
// @finos/perspective 3.8.0 by recording the bytes its own client sends for each API call, and agree with
// perspective.proto of finos/perspective (lib/perspective/README.md).
//
// An ALLOWLIST: by default a browser may only replicate a table (open it, read its schema and size, make ONE
// flat view of it, take that view's Arrow snapshot and its row deltas, delete its view). Anything else,
// including request kinds a newer client may invent, is refused with an error naming the request.

/** Every request kind of 3.8.0 by field number (names as in perspective.proto). */
export const REQUEST_NAMES: ReadonlyMap<number, string> = new Map([
  [3, "get_features"],
  [4, "get_hosted_tables"],
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
  [27, "make_table"],
  [28, "table_delete"],
  [29, "table_on_delete"],
  [30, "table_remove_delete"],
  [31, "table_remove"],
  [32, "table_replace"],
  [33, "table_update"],
  [34, "view_on_delete"],
  [35, "view_remove_delete"],
  [36, "view_to_ndjson_string"],
  [37, "remove_hosted_tables_update"],
]);

export const KIND = {
  GET_FEATURES: 3, GET_HOSTED_TABLES: 4, MAKE_VIEW: 6, TABLE_SCHEMA: 7, TABLE_SIZE: 8, VIEW_DELETE: 11,
  VIEW_DIMENSIONS: 12, VIEW_SCHEMA: 15, VIEW_TO_ARROW: 16, SERVER_SYSTEM_INFO: 17, VIEW_ON_UPDATE: 21,
  VIEW_REMOVE_ON_UPDATE: 22, TABLE_ON_DELETE: 29, TABLE_REMOVE_DELETE: 30, VIEW_ON_DELETE: 34,
  VIEW_REMOVE_DELETE: 35, REMOVE_HOSTED_TABLES_UPDATE: 37,
} as const;

/**
 * What a replicating client needs (measured: see the README for which call sends which request). get_index()
 * and get_limit() send nothing: open_table() learns both from get_hosted_tables.
 */
export const REPLICATION_REQUESTS: ReadonlySet<number> = new Set([
  KIND.GET_FEATURES, KIND.GET_HOSTED_TABLES, KIND.REMOVE_HOSTED_TABLES_UPDATE, KIND.MAKE_VIEW, KIND.TABLE_SCHEMA,
  KIND.TABLE_SIZE, KIND.VIEW_DELETE, KIND.VIEW_DIMENSIONS, KIND.VIEW_SCHEMA, KIND.VIEW_TO_ARROW,
  KIND.VIEW_ON_UPDATE, KIND.VIEW_REMOVE_ON_UPDATE, KIND.TABLE_ON_DELETE, KIND.TABLE_REMOVE_DELETE,
  KIND.VIEW_ON_DELETE, KIND.VIEW_REMOVE_DELETE,
]);

/** Requests that create or change tables (clear() is sent as a replace with no rows): never from a browser. */
export const MUTATING_REQUESTS: ReadonlySet<number> = new Set([27, 28, 31, 32, 33]);

/** ViewConfig fields (perspective.proto) that make a view compute on the server. */
const VIEW_CONFIG_COMPUTED: ReadonlyMap<number, string> = new Map([
  [1, "group_by"],
  [2, "split_by"],
  [4, "filter"],
  [5, "sort"],
  [6, "expressions"],
]);
/** ViewConfig fields a flat view may carry: columns 3, aggregates 7 (unused without group_by), filter_op 8, group_by_depth 9. */
const VIEW_CONFIG_FLAT: ReadonlySet<number> = new Set([3, 7, 8, 9]);

/**
 * Requests whose reply is not one response but a stream (or nothing until an event): they are subscriptions,
 * not requests in flight. get_hosted_tables is one when its `subscribe` flag (field 1) is set.
 */
export function isSubscription(h: RequestHeader): boolean {
  if (h.kind === KIND.GET_HOSTED_TABLES) return h.subscribe === true;
  return h.kind === KIND.VIEW_ON_UPDATE || h.kind === KIND.TABLE_ON_DELETE || h.kind === KIND.VIEW_ON_DELETE;
}

export function requestName(kind: number | undefined): string {
  if (kind === undefined) return "an empty request";
  return REQUEST_NAMES.get(kind) ?? `request type ${kind}`;
}

export interface RequestHeader {
  msgId: number;
  entityId: string;
  /** Field number of the request in the oneof; undefined when the message has none. */
  kind?: number;
  /** table_make_view: the view id the client chose. */
  viewId?: string;
  /** table_make_view: the computed ViewConfig fields it asks for (group_by, filter, ...), by name. */
  computed?: string[];
  /** table_make_view: ViewConfig fields this filter does not know. */
  unknownConfig?: number[];
  /** get_hosted_tables: the subscribe flag (on_hosted_tables_update). */
  subscribe?: boolean;
  /** table_make_view: no view config at all, i.e. every column of the table, unsorted (what a page replicates). */
  wholeTable?: boolean;
  /** view_on_update: row mode asked for (the reply carries the delta rows). */
  rowMode?: boolean;
  /** view_remove_on_update: the subscription to end (the msg_id of its view_on_update). */
  removeId?: number;
  /** table_make_view of the whole table: the request's body (a copy), to make the same view again. */
  makeViewBody?: Uint8Array;
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
  /** The next field: its number and value (a number for varints, the bytes otherwise). */
  field(): { field: number; value: number | Uint8Array } {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error("field number 0");
    switch (wire) {
      case 0: return { field, value: this.varint() };
      case 1: return { field, value: this.bytes(8) };
      case 2: return { field, value: this.bytes(this.varint()) };
      case 5: return { field, value: this.bytes(4) };
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

const decoder = new TextDecoder("utf-8", { fatal: false });

function readMakeView(body: Uint8Array, header: RequestHeader): void {
  const r = new Reader(body);
  header.wholeTable = true;
  while (!r.done) {
    const { field, value } = r.field();
    if (field === 1 && value instanceof Uint8Array) header.viewId = decoder.decode(value);
    else if (field === 2 && value instanceof Uint8Array) {
      if (value.length > 0) header.wholeTable = false;
      const c = new Reader(value);
      while (!c.done) {
        const f = c.field().field;
        const computed = VIEW_CONFIG_COMPUTED.get(f);
        if (computed) {
          header.computed ??= [];
          if (!header.computed.includes(computed)) header.computed.push(computed);
        }
        else if (!VIEW_CONFIG_FLAT.has(f)) (header.unknownConfig ??= []).push(f);
      }
    }
  }
}

/** Reads field 1 (a varint) of a message body, or undefined. */
function firstVarint(body: Uint8Array): number | undefined {
  const r = new Reader(body);
  let v: number | undefined;
  while (!r.done) {
    const { field, value } = r.field();
    if (field === 1 && typeof value === "number") v = value;
  }
  return v;
}

function readHostedTables(body: Uint8Array, header: RequestHeader): void {
  const r = new Reader(body);
  while (!r.done) {
    const { field, value } = r.field();
    if (field === 1 && typeof value === "number") header.subscribe = value !== 0;
  }
}

/**
 * Reads the top-level fields of a Request (or a Response: the same header), and what the filter needs from the
 * body of a table_make_view / get_hosted_tables. Throws on bytes that are not a well-formed protobuf message.
 */
export function readRequestHeader(buf: Uint8Array): RequestHeader {
  const r = new Reader(buf);
  const header: RequestHeader = { msgId: 0, entityId: "" };
  while (!r.done) {
    const { field, value } = r.field();
    if (field === 1 && typeof value === "number") header.msgId = value;
    else if (field === 2 && value instanceof Uint8Array) header.entityId = decoder.decode(value);
    else if (field >= 3) {
      if (header.kind !== undefined && header.kind !== field) throw new Error("more than one request in one message");
      header.kind = field;
      if (value instanceof Uint8Array) {
        if (field === KIND.MAKE_VIEW) {
          readMakeView(value, header);
          if (header.wholeTable) header.makeViewBody = value.slice();
        }
        else if (field === KIND.GET_HOSTED_TABLES) readHostedTables(value, header);
        // ViewOnUpdateReq.mode (1): ROW = 0, present only when asked for.
        else if (field === KIND.VIEW_ON_UPDATE) header.rowMode = firstVarint(value) === 0;
        else if (field === KIND.VIEW_REMOVE_ON_UPDATE) header.removeId = firstVarint(value) ?? 0;
      }
    }
  }
  return header;
}

/** Reads only the msg_id of a Response (the engine's replies are trusted; this is for bookkeeping). */
export function readMsgId(buf: Uint8Array): number | undefined {
  try {
    const r = new Reader(buf);
    while (!r.done) {
      const { field, value } = r.field();
      if (field === 1 && typeof value === "number") return value;
    }
  } catch {
    // not ours to judge
  }
  return undefined;
}

export interface FilterOptions {
  /** Full server-side views (group_by, expressions, to_json, ...): everything except changing tables. */
  serverViews?: boolean;
}

/** Decides whether a browser session may pass this request on to the engine. */
export function checkRequest(buf: Uint8Array, opts: FilterOptions = {}): Verdict {
  let header: RequestHeader;
  try {
    header = readRequestHeader(buf);
  } catch (err) {
    return { allow: false, reason: `malformed request: ${(err as Error).message}` };
  }
  const kind = header.kind;
  if (kind === undefined) return { allow: false, header, reason: "empty request" };
  const name = requestName(kind);
  if (MUTATING_REQUESTS.has(kind)) {
    return { allow: false, header, reason: `read-only connection: ${name} is not allowed (tables are changed only by the Node-RED flow)` };
  }
  if (!REQUEST_NAMES.has(kind)) return { allow: false, header, reason: `${name} is not allowed (unknown to this server)` };
  if (opts.serverViews) return { allow: true, header };
  if (!REPLICATION_REQUESTS.has(kind)) {
    return { allow: false, header, reason: `${name} is not allowed: this server only lets browsers replicate tables (server-side views are off)` };
  }
  if (kind === KIND.MAKE_VIEW) {
    if (header.computed?.length) {
      return { allow: false, header, reason: `table_make_view with ${header.computed.join(", ")} is not allowed: only a flat view (server-side views are off)` };
    }
    if (header.unknownConfig?.length) {
      return { allow: false, header, reason: `table_make_view with view config field ${header.unknownConfig.join(", ")} is not allowed` };
    }
  }
  return { allow: true, header };
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
  if (header.entityId) writeBytes(out, 2, encoder.encode(header.entityId.slice(0, 256)));
  const err: number[] = [];
  writeBytes(err, 1, encoder.encode(message));
  writeBytes(out, 50, err);
  return Uint8Array.from(out);
}

/** A Request of `kind` with the given body (the host's own requests on a client's session). */
export function encodeRequest(msgId: number, entityId: string, kind: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out: number[] = [...encodeResponsePrefix(msgId, entityId)];
  writeBytes(out, kind, body);
  return Uint8Array.from(out);
}

/**
 * msg_id (1) and entity_id (2) of a Response (a Request starts the same way): what differs between the frames of
 * two subscribers.
 */
export function encodeResponsePrefix(msgId: number, entityId: string): Uint8Array {
  const out: number[] = [];
  if (msgId) {
    writeVarint(out, 1 * 8 + 0);
    writeVarint(out, msgId);
  }
  if (entityId) writeBytes(out, 2, encoder.encode(entityId));
  return Uint8Array.from(out);
}

/** A Response whose oneof `kind` is an empty message (view_remove_on_update_resp and the like). */
export function encodeEmptyResponse(prefix: Uint8Array, kind: number): Uint8Array {
  const out: number[] = [...prefix];
  writeBytes(out, kind, []);
  return Uint8Array.from(out);
}

/**
 * A Response carrying view_on_update_resp (21): delta (1, bytes, when there is one) and port_id (2, left out
 * when 0, as proto3 does), after a subscriber's prefix. One allocation, the delta copied once.
 */
export function encodeUpdateResponse(prefix: Uint8Array, delta: Uint8Array | undefined, port: number): Buffer {
  const inner: number[] = [];
  if (delta) {
    writeVarint(inner, 1 * 8 + 2);
    writeVarint(inner, delta.length);
  }
  const tail: number[] = [];
  if (port) {
    writeVarint(tail, 2 * 8 + 0);
    writeVarint(tail, port);
  }
  const innerLen = inner.length + (delta?.length ?? 0) + tail.length;
  const head: number[] = [];
  writeVarint(head, KIND.VIEW_ON_UPDATE * 8 + 2);
  writeVarint(head, innerLen);
  const out = Buffer.allocUnsafe(prefix.length + head.length + innerLen);
  let pos = 0;
  out.set(prefix, pos);
  pos += prefix.length;
  for (const b of head) out[pos++] = b;
  for (const b of inner) out[pos++] = b;
  if (delta) {
    out.set(delta, pos);
    pos += delta.length;
  }
  for (const b of tail) out[pos++] = b;
  return out;
}
