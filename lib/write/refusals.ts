// While the write buffer is full every new message is refused. Reporting each refusal would flood Debug
// (four errors a second in the demo), so the first refusal of an episode is reported on its own and the
// following ones are counted and reported as one summary every `everyMs`, and once more when the episode ends.

export interface RefusalSummary {
  messages: number;
  rows: number;
  /** Since when (epoch ms) these refusals were counted. */
  since: number;
}

export class RefusalTracker {
  private episodeSince: number | undefined;
  private lastRows = 0;
  private count: RefusalSummary | undefined;
  private lastReport = 0;

  constructor(
    private readonly everyMs = 30000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Epoch ms when the current episode began (undefined when rows are accepted). */
  get refusingSince(): number | undefined {
    return this.episodeSince;
  }

  /** Rows of the last refused message: room for them ends the episode. */
  get lastRefusedRows(): number {
    return this.lastRows;
  }

  /** Records one refused message; true when it is the first of an episode and is to be reported on its own. */
  refuse(rows: number): boolean {
    this.lastRows = rows;
    if (this.episodeSince === undefined) {
      this.episodeSince = this.now();
      this.lastReport = this.episodeSince;
      return true;
    }
    this.count ??= { messages: 0, rows: 0, since: this.now() };
    this.count.messages++;
    this.count.rows += rows;
    return false;
  }

  /** The repeats counted since the last report, when `everyMs` has passed since it (then counting restarts). */
  due(): RefusalSummary | undefined {
    if (!this.count || this.now() - this.lastReport < this.everyMs) return undefined;
    return this.take();
  }

  /** Ends the episode (rows fit again); returns the repeats not yet reported. */
  end(): RefusalSummary | undefined {
    if (this.episodeSince === undefined) return undefined;
    this.episodeSince = undefined;
    return this.count ? this.take() : undefined;
  }

  private take(): RefusalSummary {
    const c = this.count!;
    this.count = undefined;
    this.lastReport = this.now();
    return c;
  }
}
