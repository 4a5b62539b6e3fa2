// The reconnecting shared connection a tdengine-config node owns (no Node-RED imports).
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
export {
  SharedConnection,
  type ConnectionState,
  type ConnectionStatus,
  type SharedConnectionOptions,
  type Reconnectable,
} from "./shared-connection";
export { redactSecrets, displayUrl } from "./redact";
export { parseEndpoints, spreadIndex, MAX_ENDPOINTS, type ParsedEndpoints } from "./endpoints";
export { LandedRows } from "./landed-rows";
