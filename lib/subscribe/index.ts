// TDengine data subscription for the tdengine-subscribe node (no Node-RED imports).
export { parseSubscribeSettings, createTopicSql, defaultGroupId, DEFAULT_POLL_WAIT_MS, DEFAULT_COMMIT_INTERVAL_MS } from "./settings";
export type { SubscribeNodeSettings, SubscribeOptions, CommitMode } from "./settings";
export { Subscriber, type SeekTarget, type SubscriberOptions } from "./subscriber";
export { DeliveryTracker } from "./delivery";
export { parseControl, type Control } from "./control";
