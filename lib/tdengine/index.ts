// Public entry of the TDengine client (contract: ./api.ts).
export type * from "./api";
export { openClient, compareVersions, MIN_SERVER_VERSION } from "./client";
export { TdengineError, CLIENT_CODE } from "./errors";
export { validateIdentifier, quoteIdentifier, qualifiedName } from "./identifiers";
export { TYPE, TYPE_NAME, typeCodeFromName } from "./constants";
