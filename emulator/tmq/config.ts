// subscribe arguments -> consumer options, checked the way taosAdapter (tmq.go subscribe) and taosc's tmq_conf_set
// check them: auto_commit / auto_commit_interval_ms parsed by the adapter (Go strconv errors, code 0xffff), every
// other option set as a taosc key (unknown key or bad value: code 0x0118 with the adapter's wording).
import { TdError } from "../errors.js";
import { TMQ_CODE } from "./constants.js";
import type { ConsumerConfig, OffsetReset } from "./groups.js";
import type { TmqDefaults } from "./state.js";

type Check = (v: string) => boolean;

const bool: Check = (v) => /^(true|false)$/i.test(v);
const intIn =
  (lo: number, hi: number): Check =>
  (v) =>
    /^-?\d+$/.test(v.trim()) && Number(v) >= lo && Number(v) <= hi;
const any: Check = () => true;
const INT32_MAX = 2147483647;

/** Keys taosc's tmq_conf_set knows, with the values it accepts. */
const TAOSC_KEYS: Record<string, Check> = {
  "group.id": (v) => Buffer.byteLength(v) < 193,
  "client.id": (v) => Buffer.byteLength(v) < 256,
  "enable.auto.commit": bool,
  "auto.commit.interval.ms": intIn(0, INT32_MAX),
  "session.timeout.ms": intIn(6000, 1800000),
  "heartbeat.interval.ms": intIn(1000, INT32_MAX),
  "max.poll.interval.ms": intIn(1000, INT32_MAX),
  "auto.offset.reset": (v) => /^(none|earliest|latest)$/i.test(v),
  "msg.with.table.name": bool,
  "experimental.snapshot.enable": bool,
  "enable.replay": bool,
  "msg.consume.excluded": any,
  "msg.enable.batchmeta": any,
  "msg.consume.rawdata": any,
  "fetch.max.wait.ms": intIn(0, INT32_MAX),
  "min.poll.rows": intIn(1, INT32_MAX),
  "td.connect.ip": any,
  "td.connect.user": any,
  "td.connect.pass": any,
  "td.connect.port": intIn(0, 65535),
  "td.connect.db": any,
  "td.connect.token": any,
};

/** Subscribe fields the adapter turns into taosc keys when non-empty. */
const FIELD_KEYS: [string, string][] = [
  ["group_id", "group.id"],
  ["client_id", "client.id"],
  ["db", "td.connect.db"],
  ["snapshot_enable", "experimental.snapshot.enable"],
  ["enable_batch_meta", "msg.enable.batchmeta"],
  ["session_timeout_ms", "session.timeout.ms"],
  ["max_poll_interval_ms", "max.poll.interval.ms"],
  ["msg_consume_rawdata", "msg.consume.rawdata"],
  ["with_table_name", "msg.with.table.name"],
  ["msg_consume_excluded", "msg.consume.excluded"],
  ["auto_commit", "enable.auto.commit"],
  ["auto_commit_interval_ms", "auto.commit.interval.ms"],
];
const IGNORED_CONFIG = new Set(["td.connect.user", "td.connect.pass", "td.connect.ip", "td.connect.port"]);
const STRING_FIELDS = ["user", "password", "db", "group_id", "client_id", "offset_rest", "offset_reset", "auto_commit", "auto_commit_interval_ms", "snapshot_enable", "with_table_name", "enable_batch_meta", "msg_consume_excluded", "session_timeout_ms", "max_poll_interval_ms", "tz", "app", "ip", "connector", "msg_consume_rawdata"];

export interface SubscribeRequest {
  user: string;
  password: string;
  topics: string[];
  options: Map<string, string>;
}

/** Shape check of the subscribe args (what Go's json.Unmarshal into TMQSubscribeReq accepts); null = mismatch. */
export function readSubscribe(args: Record<string, unknown>): SubscribeRequest | null {
  for (const f of STRING_FIELDS) if (args[f] !== undefined && args[f] !== null && typeof args[f] !== "string") return null;
  if (args.list_instances !== undefined && args.list_instances !== null && typeof args.list_instances !== "boolean") return null;
  const topics = args.topics ?? [];
  if (topics !== null && (!Array.isArray(topics) || topics.some((t) => typeof t !== "string"))) return null;
  const config = args.config ?? {};
  if (config !== null && (typeof config !== "object" || Array.isArray(config) || Object.values(config).some((v) => typeof v !== "string"))) return null;
  const str = (f: string): string => (typeof args[f] === "string" ? (args[f] as string) : "");
  const options = new Map<string, string>();
  for (const [field, k] of FIELD_KEYS) if (str(field)) options.set(k, str(field));
  options.set("td.connect.user", str("user"));
  options.set("td.connect.pass", str("password"));
  const reset = str("offset_reset") || str("offset_rest");
  if (reset) options.set("auto.offset.reset", reset);
  for (const [k, v] of Object.entries((config ?? {}) as Record<string, string>)) if (!IGNORED_CONFIG.has(k)) options.set(k, v);
  return { user: str("user"), password: str("password"), topics: (topics ?? []) as string[], options };
}

function goParseBool(v: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new TdError(TMQ_CODE.ADAPTER, `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function goParseInt(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new TdError(TMQ_CODE.ADAPTER, `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** The consumer's options, or a TdError carrying the code and message taosAdapter replies with. */
export function consumerConfig(req: SubscribeRequest, defaults: TmqDefaults): ConsumerConfig {
  const o = req.options;
  const autoCommit = o.has("enable.auto.commit") ? goParseBool(o.get("enable.auto.commit") as string) : false;
  const interval = o.has("auto.commit.interval.ms") ? goParseInt(o.get("auto.commit.interval.ms") as string) : 5000;
  o.set("enable.auto.commit", "false"); // the adapter commits itself, during poll
  for (const [k, v] of o) {
    const check = TAOSC_KEYS[k];
    if (!check) throw new TdError(TMQ_CODE.INVALID_PARA, `unknown configuration key: ${k}`);
    if (!check(v)) throw new TdError(TMQ_CODE.INVALID_PARA, `invalid value for key '${k}': ${v}`);
  }
  return {
    groupId: o.get("group.id") ?? "",
    clientId: o.get("client.id") ?? "",
    offsetReset: (o.get("auto.offset.reset")?.toLowerCase() ?? "latest") as OffsetReset,
    // TDengine 3.2.0.0 deprecated msg.with.table.name: still checked as a boolean, always on.
    withTableName: true,
    autoCommit,
    autoCommitIntervalMs: interval,
    sessionTimeoutMs: o.has("session.timeout.ms") ? Number(o.get("session.timeout.ms")) : defaults.sessionTimeoutMs,
    maxPollIntervalMs: o.has("max.poll.interval.ms") ? Number(o.get("max.poll.interval.ms")) : defaults.maxPollIntervalMs,
  };
}
