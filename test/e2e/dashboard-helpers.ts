// What the dashboard e2e tests look at on a page: console errors and requests leaving 127.0.0.1, the
// Perspective requests the page sends on its WebSocket (decoded from the frames Chromium saw, independently
// of the page's own bookkeeping), and the page's exposed state.
import type { Page } from "playwright-core";
import { decodeRequest, type SentRequest } from "../support/perspective-frames";

export { decodeRequest, REPLICATION_REQUESTS } from "../support/perspective-frames";

export interface Dash {
  connected: boolean;
  table?: string;
  entity?: string;
  generation?: number;
  updates: number;
  rows: number;
  loads: number;
  replications: number;
  /** Deltas the page skipped because its snapshot already held them. */
  skippedDeltas: number;
  /** Times the page fell behind its server table and started over from a fresh snapshot. */
  catchUps: number;
  error?: string;
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

/**
 * Holds back every update of the page's local tables (every table of the page's Perspective module shares the
 * prototype; the page loads the module from its host's page at /perspective/) until `open` is called: the page
 * then applies deltas more slowly than they come.
 */
export async function holdTableUpdates(page: Page): Promise<{ open(): Promise<void> }> {
  await page.evaluate(async () => {
    const url = "/perspective/assets/@finos/perspective/dist/cdn/perspective.js";
    const mod = (await import(url)) as { default: { worker(): Promise<{ table(d: object): Promise<object> }> } };
    const probe = await (await mod.default.worker()).table({ a: [1] });
    const proto = Object.getPrototypeOf(probe) as { update(d: unknown): Promise<void> };
    const update = proto.update;
    let open: () => void = () => undefined;
    const opened = new Promise<void>((r) => (open = r));
    (window as unknown as { updateGate: { open(): void } }).updateGate = { open: () => open() };
    proto.update = async function (this: unknown, d: unknown) {
      await opened;
      return update.call(this, d);
    };
  });
  return { open: () => page.evaluate(() => (window as unknown as { updateGate: { open(): void } }).updateGate.open()) };
}
