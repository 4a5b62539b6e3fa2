// Binary request frames of taosAdapter's /ws endpoint (all little-endian):
//   0 u64 req_id | 8 u64 resource id (result/stmt id, else 0) | 16 u64 action | 24 u16 version 1 | 26 payload
import { ACTION, BINARY_PROTOCOL_VERSION } from "./constants";
import { TdengineError } from "./errors";

/** A u64 of a frame. Result and statement ids come from server replies: a non-integer is the server's error. */
function u64(n: number, what: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw TdengineError.protocol(`the server's ${what} ${String(n)} is not a valid id`);
  return BigInt(n);
}

const HEADER = 26;

function header(total: number, reqId: number, resourceId: number, action: number): { buf: Buffer; view: DataView } {
  const buf = Buffer.allocUnsafe(total);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setBigUint64(0, u64(reqId, "request id"), true);
  view.setBigUint64(8, u64(resourceId, "result or statement id"), true);
  view.setBigUint64(16, u64(action, "action"), true);
  view.setUint16(24, BINARY_PROTOCOL_VERSION, true);
  return { buf, view };
}

/** Action 6: u32 SQL byte length at 26, UTF-8 SQL at 30. */
export function binaryQueryFrame(reqId: number, sql: string): Buffer {
  const len = Buffer.byteLength(sql, "utf8");
  const { buf, view } = header(HEADER + 4 + len, reqId, 0, ACTION.BINARY_QUERY);
  view.setUint32(HEADER, len, true);
  buf.write(sql, HEADER + 4, "utf8");
  return buf;
}

/** Action 7: header only (26 bytes); resource id = result id. */
export function fetchRawBlockFrame(reqId: number, resultId: number): Buffer {
  return header(HEADER, reqId, resultId, ACTION.FETCH_RAW_BLOCK).buf;
}

/** Action 9: i32 column index at 26 (-1 = the whole bind), stmt2 bind payload at 30; resource id = stmt id. */
export function stmt2BindFrame(reqId: number, stmtId: number, payload: Uint8Array, columnIndex = -1): Buffer {
  const { buf, view } = header(HEADER + 4 + payload.byteLength, reqId, stmtId, ACTION.STMT2_BIND);
  view.setInt32(HEADER, columnIndex, true);
  buf.set(payload, HEADER + 4);
  return buf;
}
