// Public entry of the TDengine client (contract: ./api.ts).
export type * from "./api";
export { openClient, compareVersions, MIN_SERVER_VERSION } from "./client";
export { TdengineError, CLIENT_CODE } from "./errors";
export { validateIdentifier, quoteIdentifier, qualifiedName } from "./identifiers";
export { TYPE, TYPE_NAME, typeCodeFromName } from "./constants";
export { TmqSession, TMQ_OFFSET_INVALID, type TmqOptions, type TmqMessage, type TmqBlock, type TopicVgroup, type VgroupAssignment, type OffsetReset } from "./tmq";
export { TmqConsumer, type TmqConsumerOptions } from "./tmq-consumer";
