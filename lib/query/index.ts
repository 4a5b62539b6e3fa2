// tdengine-query's logic without Node-RED: placeholders, settings, row values, the per-node query queue.
export { bindStatement, scanPlaceholders, type BoundStatement } from "./placeholders";
export { queryRowConverter, uniqueNames, type BigValues, type TimestampValues, type ValueOptions } from "./rows";
export { MAX_QUEUED, parseQueryNodeSettings, QUERY_DEFAULTS, rowCapError, statementText, type OutputMode, type QueryNodeOptions, type QueryNodeSettings } from "./settings";
export { QueryQueue, QueueFullError, QueueStoppedError } from "./queue";
