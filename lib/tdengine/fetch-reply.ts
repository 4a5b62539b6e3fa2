// Parser of the binary fetch_raw_block (action 7) reply (taosAdapter controller/ws/ws/resp.go, adapter >= 3.3.0.7):
//   0 u64 marker 0xFFFF..FF | 8 u64 action 7 | 16 u16 version | 18 u64 timing | 26 u64 req_id | 34 u32 code |
//   38 u32 L | 42 L bytes message | 42+L u64 result id | 50+L u8 finished | 51+L u32 block length B | 55+L block
import { FETCH_REPLY_MARKER } from "./constants";
import { TdengineError } from "./errors";

export interface FetchReply {
  reqId: bigint;
  code: number;
  message: string;
  resultId: bigint;
  finished: boolean;
  /** The raw block (a view into the frame) when code = 0 and not finished. */
  block?: Uint8Array;
}

/** req_id of a binary reply (bytes 26..33), or undefined when the frame is not a new-format reply. */
export function binaryReplyReqId(frame: Uint8Array): bigint | undefined {
  if (frame.byteLength < 34) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getBigUint64(0, true) !== FETCH_REPLY_MARKER) return undefined;
  return view.getBigUint64(26, true);
}

export function parseFetchReply(frame: Uint8Array): FetchReply {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const need = (n: number, what: string): void => {
    if (frame.byteLength < n) {
      throw TdengineError.protocol(`fetch_raw_block reply truncated: ${frame.byteLength} bytes, ${what} needs ${n}`);
    }
  };
  need(42, "the header");
  if (view.getBigUint64(0, true) !== FETCH_REPLY_MARKER) throw TdengineError.protocol("binary reply without the 0xFFFF.. marker");
  const reqId = view.getBigUint64(26, true);
  const code = view.getUint32(34, true);
  const msgLen = view.getUint32(38, true);
  need(42 + msgLen + 9, "the message, result id and finished flag");
  const message = Buffer.from(frame.buffer, frame.byteOffset + 42, msgLen).toString("utf8");
  let p = 42 + msgLen;
  const resultId = view.getBigUint64(p, true);
  p += 8;
  const finished = view.getUint8(p) !== 0;
  p += 1;
  if (code !== 0 || finished) return { reqId, code: code & 0xffff, message, resultId, finished: true };
  need(p + 4, "the block length");
  const blockLen = view.getUint32(p, true);
  p += 4;
  need(p + blockLen, "the raw block");
  return { reqId, code, message, resultId, finished, block: frame.subarray(p, p + blockLen) };
}
