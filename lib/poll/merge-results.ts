// Two polls read back to back (the second from where the first ended) as one result, so their rows go out in one
// message: a write that landed batch by batch while the first poll ran reaches its readers whole.
import type { Poller, PollResult, QueryClient } from "./poller";

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

export interface MessagePollOptions {
  /** Look for late rows (the poll was not woken by a local write). */
  lateRows: boolean;
  /** Whether rows landed while the first poll ran (asked only when the first poll could take more rows). */
  landed: () => Promise<boolean>;
  /** The node is closing: no second read. */
  closing: () => boolean;
}

/**
 * The rows of one message: a poll, and when rows landed while it ran, a second poll from where it ended, joined
 * to it. The joined message is no bigger than one poll's (maxRowsPerPoll): the second poll takes what is left of
 * it, and what does not fit follows in the next message, at once (the result is then not caught up).
 */
export async function pollMessage(poller: Poller, client: QueryClient, opts: MessagePollOptions): Promise<PollResult> {
  const first = await poller.poll(client, { lateRows: opts.lateRows });
  if (first.rows.length === 0 || !first.caughtUp || first.error || !(await opts.landed()) || opts.closing()) return first;
  try {
    return mergePollResults(first, await poller.poll(client, { lateRows: false, maxRows: poller.maxRowsPerPoll - first.rows.length }));
  } catch (err) {
    // The first read's rows are past the watermark already: they go out, and the error is reported.
    return { ...first, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
