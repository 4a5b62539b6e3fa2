// Protocol facts of taosAdapter's /rest/tmq endpoint (controller/ws/tmq/const.go, tmq.go) and the TDengine error
// codes TMQ replies carry (include/util/taoserror.h; sent masked to 16 bits).

/** Binary reply tag of fetch_raw_data (the 0xffff_ffff_ffff_ffff-marked header, like fetch_raw_block's 7). */
export const TMQ_FETCH_RAW_NEW_MESSAGE = 8;
/** The u64 "message type" of the legacy fetch_raw reply. */
export const TMQ_RAW_MESSAGE = 3;
/** What committed/position report for a vgroup with no offset (tmq OffsetInvalid). */
export const OFFSET_INVALID = -2147467247;
/** Message types of a poll reply (TMQ_RES_*): data, table meta, meta+data, raw data. */
export const TMQ_RES_DATA = 1;
/** Raw meta type of data in tmq_get_raw (RES_TYPE__TMQ... the u16 at offset 50 of a fetch_raw_data reply). */
export const RAW_TYPE_DATA = 2;

/** Emulated message bounds: rows per poll message (TDengine's min.poll.rows default) and blocks per message. */
export const MIN_POLL_ROWS = 4096;
export const MAX_BLOCKS_PER_MESSAGE = 1000;

export const TMQ_CODE = {
  ADAPTER: 0xffff,
  INVALID_PARA: 0x0118,
  TOPIC_EXIST: 0x03e0,
  TOPIC_NOT_EXIST: 0x03e1,
  INVALID_TOPIC_QUERY: 0x03e4,
  TOPIC_SUBSCRIBED: 0x03eb,
  TOPIC_MUST_BE_DELETED: 0x03ed,
  TMQ_INVALID_MSG: 0x4000,
  VERSION_OUT_OF_RANGE: 0x4007,
  INVALID_VGID: 0x4008,
  INVALID_TOPIC: 0x4009,
} as const;

export const TMQ_MESSAGE: Record<number, string> = {
  [TMQ_CODE.TOPIC_EXIST]: "Topic already exists",
  [TMQ_CODE.TOPIC_NOT_EXIST]: "Topic not exist",
  [TMQ_CODE.INVALID_TOPIC_QUERY]: "Topic with invalid query",
  [TMQ_CODE.TOPIC_SUBSCRIBED]: "Topic subscribed cannot be dropped",
  [TMQ_CODE.TOPIC_MUST_BE_DELETED]: "Topic must be dropped first",
  [TMQ_CODE.TMQ_INVALID_MSG]: "Invalid message",
  [TMQ_CODE.VERSION_OUT_OF_RANGE]: "Offset out of range",
  [TMQ_CODE.INVALID_VGID]: "VgId does not belong to this consumer",
  [TMQ_CODE.INVALID_TOPIC]: "Topic does not belong to this consumer",
};
