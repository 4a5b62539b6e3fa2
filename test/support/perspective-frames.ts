// Perspective 3.8.0 request frames written by hand from the protobuf wire format (tag = field << 3 | wire
// type) and perspective.proto's field numbers, for hostile clients that send what no real client would.
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
  let p = 0;
  const rv = (): number => {
    let r = 0;
    let m = 1;
    for (;;) {
      const b = buf[p++];
      r += (b & 0x7f) * m;
      if (!(b & 0x80)) return r;
      m *= 128;
    }
  };
  let msgId = 0;
  let kind = 0;
  let error: string | undefined;
  while (p < buf.length) {
    const tag = rv();
    const f = Math.floor(tag / 8);
    const w = tag % 8;
    if (w === 0) {
      const v = rv();
      if (f === 1) msgId = v;
    } else if (w === 2) {
      const n = rv();
      const body = buf.subarray(p, p + n);
      p += n;
      if (f >= 3) kind = f;
      if (f === 50) error = new TextDecoder().decode(body.subarray(2));
    } else if (w === 1) p += 8;
    else p += 4;
  }
  return { msgId, kind, error };
}
