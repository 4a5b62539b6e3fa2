// What the dashboard e2e tests look at on a page: console errors and requests leaving 127.0.0.1, the
// Perspective requests the page sends on its WebSocket (decoded from the frames Chromium saw, independently
// of the page's own bookkeeping), and the page's exposed state.
import type { Page } from "playwright-core";

export interface Dash {
  connected: boolean;
  table?: string;
  entity?: string;
  generation?: number;
  updates: number;
  rows: number;
  loads: number;
  replications: number;
  error?: string;
}

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

interface Field {
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

/** Everything that went wrong on a page, and every request that left 127.0.0.1. */
export function watchPage(page: Page): { problems: string[]; foreign: string[]; sent: SentRequest[]; sockets: string[] } {
  const w = { problems: [] as string[], foreign: [] as string[], sent: [] as SentRequest[], sockets: [] as string[] };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") w.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.problems.push(`pageerror: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["http:", "https:", "ws:", "wss:"].includes(u.protocol)) return; // data: and blob: URLs
    if (u.hostname !== "127.0.0.1") w.foreign.push(r.url());
  });
  page.on("requestfailed", (r) => {
    // A reload cancels what the page was still fetching (its periodic config.json): not a failure a user sees.
    if (r.failure()?.errorText === "net::ERR_ABORTED") return;
    w.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) w.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("websocket", (ws) => {
    w.sockets.push(ws.url());
    ws.on("framesent", (f) => {
      if (typeof f.payload === "string") {
        w.problems.push(`text frame sent: ${f.payload.slice(0, 80)}`);
        return;
      }
      try {
        w.sent.push(decodeRequest(f.payload));
      } catch (err) {
        w.problems.push(`undecodable frame: ${(err as Error).message}`);
      }
    });
  });
  return w;
}

export const dash = (page: Page): Promise<Dash> => page.evaluate(() => ({ ...(window as unknown as { dashboard: Dash }).dashboard }));

/** Rows of the page's own (replicated) table, as columns, and its size, index and limit. */
export function localTable(page: Page, columns?: string[]): Promise<{ size: number; index: string | null; limit: number | null; data: Record<string, unknown[]> } | null> {
  return page.evaluate(async (cols) => {
    type T = {
      size(): Promise<number>;
      get_index(): Promise<string | null>;
      get_limit(): Promise<number | null>;
      view(c?: object): Promise<{ to_columns(): Promise<Record<string, unknown[]>>; delete(): Promise<void> }>;
    };
    const t = (window as unknown as { dashboardMetrics: { local(): T | undefined } }).dashboardMetrics.local();
    if (!t) return null;
    const v = await t.view(cols ? { columns: cols } : {});
    const data = await v.to_columns();
    await v.delete();
    return { size: await t.size(), index: await t.get_index(), limit: await t.get_limit(), data };
  }, columns);
}
