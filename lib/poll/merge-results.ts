// Two polls read back to back (the second from where the first ended) as one result, so their rows go out in one
// message: a write that landed batch by batch while the first poll ran reaches its readers whole.
import type { PollResult } from "./poller";

/** `later` read after `first` on the same poller: rows in order, the state (watermark, caught up, error) of `later`. */
export function mergePollResults(first: PollResult, later: PollResult): PollResult {
  const newest = [first.newestMs, later.newestMs].filter((v): v is number => v !== undefined);
  return {
    rows: later.rows.length === 0 ? first.rows : first.rows.concat(later.rows),
    columns: later.columns.length > 0 ? later.columns : first.columns,
    watermark: later.watermark ?? first.watermark,
    caughtUp: later.caughtUp,
    pages: first.pages + later.pages,
    rowsRead: first.rowsRead + later.rowsRead,
    lookbackRead: first.lookbackRead === true || later.lookbackRead === true ? true : (first.lookbackRead ?? later.lookbackRead),
    newestMs: newest.length > 0 ? Math.max(...newest) : undefined,
    rowsWithoutTs: first.rowsWithoutTs + later.rowsWithoutTs,
    stalled: first.stalled || later.stalled,
    error: later.error,
  };
}
