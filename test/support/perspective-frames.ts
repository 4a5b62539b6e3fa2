// Perspective 3.8.0 protocol frames in tests and benchmarks: reading the top-level protobuf fields of a message
// and which request a client frame carries, and writing request frames by hand (tag = field << 3 | wire type)
// for hostile clients that send what no real client would. Field numbers are those of perspective.proto in 3.8.0.

/** Request kinds (field numbers of perspective.proto's Request oneof, 3.8.0) a replicating page may send. */
export const REPLICATION_REQUESTS: ReadonlyMap<number, string> = new Map([
  [3, "get_features"],
  [4, "get_hosted_tables"],
  [6, "table_make_view"],
  [7, "table_schema"],
  [8, "table_size"],
  [11, "view_delete"],
  [16, "view_to_arrow"],
  [21, "view_on_update"],
  [22, "view_remove_on_update"],
  [37, "remove_hosted_tables_update"],
]);

export interface Field {
  field: number;
  wire: number;
  value: number | Uint8Array;
}

/** Top-level fields of a protobuf message (enough to read a Perspective request). */
export function fieldsOf(buf: Uint8Array): Field[] {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = buf[pos++];
      if (b === undefined) throw new Error("truncated varint");
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new Error("varint too long");
  };
  const out: Field[] = [];
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = varint();
      value = buf.subarray(pos, pos + n);
      pos += n;
    } else if (wire === 1) value = buf.subarray(pos, (pos += 8));
    else if (wire === 5) value = buf.subarray(pos, (pos += 4));
    else throw new Error(`wire type ${wire}`);
    out.push({ field: Math.floor(tag / 8), wire, value });
  }
  return out;
}

export interface SentRequest {
  kind: number;
  /** For table_make_view: true when the view has no configuration (a flat view of all columns). */
  flat?: boolean;
}

/** Decodes one frame the page sent. */
export function decodeRequest(payload: Buffer): SentRequest {
  const fields = fieldsOf(new Uint8Array(payload));
  const req = fields.find((f) => f.field >= 3);
  if (!req) throw new Error("request without a kind");
  if (req.field !== 6) return { kind: req.field };
  // TableMakeViewReq: view_id (1) and config (2); `table.view()` sends no config at all, `{}` an empty one.
  const body = fieldsOf(req.value as Uint8Array);
  const config = body.filter((f) => f.field === 2);
  return { kind: 6, flat: config.every((f) => (f.value as Uint8Array).length === 0) };
}

const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A length-delimited field. */
export function lenField(field: number, body: Uint8Array | number[] | string): number[] {
  const b = typeof body === "string" ? [...enc.encode(body)] : [...body];
  return [...varint(field * 8 + 2), ...varint(b.length), ...b];
}

/** A varint field. */
export function intField(field: number, n: number): number[] {
  return [...varint(field * 8), ...varint(n)];
}

/** Request { msg_id = 1, entity_id = 2, <kind> = body }. */
export function request(msgId: number, entityId: string, kind: number, body: number[] = []): Uint8Array {
  return Uint8Array.from([...intField(1, msgId), ...(entityId ? lenField(2, entityId) : []), ...lenField(kind, body)]);
}

export interface ViewConfigSpec {
  columns?: string[];
  groupBy?: string[];
  splitBy?: string[];
  expressions?: Record<string, string>;
  sort?: [string, number][];
}

/** TableMakeViewReq { view_id = 1, config = 2 } with a ViewConfig. */
export function makeViewBody(viewId: string, cfg: ViewConfigSpec = {}): number[] {
  const c: number[] = [];
  for (const g of cfg.groupBy ?? []) c.push(...lenField(1, g));
  for (const g of cfg.splitBy ?? []) c.push(...lenField(2, g));
  if (cfg.columns) c.push(...lenField(3, lenField(2, cfg.columns.flatMap((x) => lenField(1, x)))));
  for (const [col, op] of cfg.sort ?? []) c.push(...lenField(5, [...lenField(1, col), ...intField(2, op)]));
  for (const [k, v] of Object.entries(cfg.expressions ?? {})) c.push(...lenField(6, [...lenField(1, k), ...lenField(2, v)]));
  return [...lenField(1, viewId), ...(c.length ? lenField(2, c) : [])];
}

/** The top-level fields of a Response: msg_id, and the field number of what it carries (50: server_error). */
export function responseKind(buf: Uint8Array): { msgId: number; kind: number; error?: string } {
  let msgId = 0;
  let kind = 0;
  let error: string | undefined;
  for (const f of fieldsOf(buf)) {
    if (f.field === 1 && f.wire === 0) msgId = f.value as number;
    else if (f.wire === 2 && f.field >= 3) {
      kind = f.field;
      if (f.field === 50) error = new TextDecoder().decode((f.value as Uint8Array).subarray(2));
    }
  }
  return { msgId, kind, error };
}
