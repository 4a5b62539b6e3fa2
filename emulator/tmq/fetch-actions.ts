// Reading the held message (tmq.go fetch, fetch_block, fetch_raw, fetch_raw_data, fetch_json_meta): each checks
// that a message is held and that message_id names it, with taosAdapter's error texts (they differ per action).
import { encodeBlock } from "../raw-block-encoder.js";
import { PRECISION_CODE } from "../types.js";
import { RAW_TYPE_DATA, TMQ_RES_DATA } from "./constants.js";
import { encodeRawData, fetchBlockReply, fetchRawDataError, fetchRawDataReply, fetchRawReply } from "./raw-data.js";
import type { HeldMessage, TmqRequest, TmqSession } from "./session.js";

export const FETCH_ACTIONS = new Set(["fetch", "fetch_block", "fetch_raw", "fetch_raw_data", "fetch_json_meta"]);

/** Text of the "message id does not match" error, as each action words it. */
const MISMATCH: Record<string, string> = {
  fetch: "message ID are not equal",
  fetch_block: "message is nil",
  fetch_raw: "message ID is not equal",
  fetch_raw_data: "message ID is not equal",
  fetch_json_meta: "message ID is not equal",
};

function messageIdOf(r: TmqRequest): bigint {
  const v = r.args.message_id;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : 0n;
}

function rawData(s: TmqSession, m: HeldMessage): Buffer {
  const d = m.data;
  return encodeRawData(d.offset, d.end, d.blocks, !!s.consumer?.config.withTableName);
}

export function fetchAction(s: TmqSession, r: TmqRequest): void {
  const mid = messageIdOf(r);
  const fail = (code: number, message: string): void => {
    if (r.action === "fetch_raw_data") s.out.send(fetchRawDataError(r.reqId, s.timing(r.started), code, message, mid));
    else s.reply(r.action, r.reqId, r.started, { message_id: Number(mid) }, code, message);
  };
  if (!s.consumer) return fail(0xffff, "tmq not init");
  const m = s.message;
  if (!m) return fail(0xffff, "message has been freed");
  if (r.action === "fetch_json_meta") return fail(0xffff, `message type can not get meta, type: ${TMQ_RES_DATA}`);
  if (m.index !== mid) return fail(0xffff, MISMATCH[r.action]);
  switch (r.action) {
    case "fetch": {
      const b = m.data.blocks[m.fetched];
      if (!b) return s.reply(r.action, r.reqId, r.started, { message_id: Number(mid), completed: true, table_name: "", rows: 0, fields_count: 0, fields_names: null, fields_types: null, fields_lengths: null, precision: 0 });
      m.fetched++;
      const rs = b.result;
      m.buffer = fetchBlockReply(r.reqId, 0n, mid, encodeBlock(rs, 0, rs.rowCount));
      return s.reply(r.action, r.reqId, r.started, {
        message_id: Number(mid),
        completed: false,
        table_name: s.consumer.config.withTableName ? b.tableName : "",
        rows: rs.rowCount,
        fields_count: rs.columns.length,
        fields_names: rs.columns.map((c) => c.name),
        fields_types: rs.columns.map((c) => c.type),
        fields_lengths: rs.columns.map((c) => c.length),
        precision: PRECISION_CODE[rs.precision],
      });
    }
    case "fetch_block": {
      if (!m.buffer || !m.buffer.length) return fail(0xffff, "no fetch data");
      // taosAdapter resends its message buffer with the timing written over the first 8 bytes.
      m.buffer.writeBigUInt64LE(s.timing(r.started), 0);
      return s.out.send(Buffer.from(m.buffer));
    }
    case "fetch_raw":
      m.buffer = fetchRawReply(r.reqId, s.timing(r.started), mid, RAW_TYPE_DATA, rawData(s, m));
      return s.out.send(m.buffer);
    default:
      m.buffer = fetchRawDataReply(r.reqId, s.timing(r.started), mid, RAW_TYPE_DATA, rawData(s, m));
      return s.out.send(m.buffer);
  }
}
