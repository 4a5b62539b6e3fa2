// Row mapping, validation, batching and outage buffering behind tdengine-write (no Node-RED imports).
export { checkIdentifier, quote, qualified } from "./identifiers";
export { RowMapper, type MapOptions, type MappedRow, type Overrides, type RowBlock, type RowError, type SubtableRule } from "./mapper";
export { MessageError, WritePipeline, type PipelineOptions, type WriteRequest } from "./pipeline";
export { RateMeter } from "./rate";
export {
  checkSchema,
  createDatabaseSql,
  createStableSql,
  declaredSchema,
  describeSql,
  insertSql,
  parseFieldList,
  schemaFromDescribe,
  type FieldDef,
  type Precision,
  type TableSchema,
} from "./schema";
export { instantIn, readInstant, type Instant, type NumberUnit } from "./timestamps";
export { BufferFullError, isTransportError, Writer, WriterClosedError, type Target, type WriteOutcome, type WriterEvent, type WriterOptions } from "./writer";
export { MAX_CLOSE_MS, pipelineSettings, type WriteNodeSettings } from "./node-settings";
export { RefusalTracker, type RefusalSummary } from "./refusals";
