// Incremental, exactly-once polling of TDengine (no Node-RED imports).
export { Poller, POLLER_DEFAULTS } from "./poller";
export type { PollerOptions, PollResult, PollSource, PersistedState, QueryClient, StartPosition, WatermarkInfo } from "./poller";
export { TickScheduler } from "./scheduler";
export { mergePollResults, pollMessage } from "./merge-results";
export type { MessagePollOptions } from "./merge-results";
export type { SchedulerOptions, SchedulerStats, TaskOutcome } from "./scheduler";
export { ErrorLatch, errorSignature } from "./error-latch";
export { RateMeter } from "./rate";
export { HandoverLedger } from "./handover";
export { buildTableQuery, prepareUserSql, validateTableSource, WATERMARK_PLACEHOLDER, TBNAME } from "./sql";
export type { BoundOp, TableSource } from "./sql";
export { makeRowConverter } from "./rows";
export type { RowConverter, TimestampOutput } from "./rows";
export { epochToMs, msToEpoch, toEpoch, UNITS_PER_MS } from "./timestamps";
export { parsePollNodeSettings, splitList, DEFAULT_INTERVAL_MS } from "./node-config";
export type { PollNodeOptions, PollNodeSettings } from "./node-config";
