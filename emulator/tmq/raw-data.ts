// Binary replies of /rest/tmq and the TMQ raw data they carry (what taosc's tmq_get_raw returns for a data
// message: an encoded SMqDataRsp). All integers little-endian unless noted.
//
// fetch_raw_data reply (tmq.go wsFetchRawBlockMessage / tmqFetchRawBlockErrorMsg):
//   u64 0xffffffffffffffff | u64 action 8 | u16 version 1 | u64 timing | u64 req_id | u32 code | u32 message length L
//   | L bytes message | u64 message id | (only on success) u16 raw type | u32 raw length | raw data
// Raw data of a data message (tEncodeMqDataRsp; parsed by taosAdapter driver/common/parser/raw.go and the Node
// connector's WSTmqFetchBlockInfo):
//   i8 offset type 1 (log) + i64 req offset | i8 1 + i64 rsp offset | i32 block count | i8 with table name
//   | i8 with schema, then per block: varint length + [i64 version 1 | i64 rows (big-endian) | i8 compressed 0
//   | i8 precision | raw block], the schema (zigzag varint columns, zigzag varint version, per column: u8 type,
//   i8 flags, zigzag varint bytes, zigzag varint column id, varint name length+1, name, NUL) and the table name
//   (varint length+1, name, NUL).
import { blockColumnBytes, encodeBlock } from "../raw-block-encoder.js";
import { PRECISION_CODE } from "../types.js";
import { TMQ_FETCH_RAW_NEW_MESSAGE, TMQ_RAW_MESSAGE } from "./constants.js";
import type { TopicBlock } from "./topics.js";

/** Unsigned LEB128-style variable byte integer (7 bits per byte, low group first), as tEncodeU32v writes. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function zigzag(n: number): number[] {
  return varint(n >= 0 ? n * 2 : -n * 2 - 1);
}

function cstr(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([Buffer.from(varint(b.length + 1)), b, Buffer.from([0])]);
}

function offsetVal(version: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeInt8(1, 0);
  b.writeBigInt64LE(BigInt(version), 1);
  return b;
}

function schemaOf(block: TopicBlock): Buffer {
  const parts: Buffer[] = [Buffer.from([...zigzag(block.result.columns.length), ...zigzag(1)])];
  block.result.columns.forEach((c, i) => {
    parts.push(Buffer.from([c.type & 0xff, 1, ...zigzag(blockColumnBytes(c)), ...zigzag(i + 1)]));
    parts.push(cstr(c.name));
  });
  return Buffer.concat(parts);
}

/** The raw data of one data message: its blocks, with schemas and (when asked) table names. */
export function encodeRawData(reqOffset: number, rspOffset: number, blocks: TopicBlock[], withTableName: boolean): Buffer {
  const parts: Buffer[] = [offsetVal(reqOffset), offsetVal(rspOffset)];
  const head = Buffer.alloc(6);
  head.writeInt32LE(blocks.length, 0);
  head.writeInt8(withTableName ? 1 : 0, 4);
  head.writeInt8(1, 5);
  parts.push(blocks.length ? head : head.subarray(0, 4));
  for (const b of blocks) {
    const raw = encodeBlock(b.result, 0, b.result.rowCount);
    const rsp = Buffer.alloc(18);
    rsp.writeBigInt64LE(1n, 0);
    rsp.writeBigInt64BE(BigInt(b.result.rowCount), 8);
    rsp.writeInt8(0, 16);
    rsp.writeInt8(PRECISION_CODE[b.result.precision], 17);
    parts.push(Buffer.from(varint(rsp.length + raw.length)), rsp, raw, schemaOf(b));
    if (withTableName) parts.push(cstr(b.tableName));
  }
  return Buffer.concat(parts);
}

function header(reqId: bigint, timing: bigint, code: number, message: string): { buf: Buffer; at: number } {
  const msg = Buffer.from(message, "utf8");
  const buf = Buffer.alloc(42 + msg.length);
  buf.writeBigUInt64LE(0xffffffffffffffffn, 0);
  buf.writeBigUInt64LE(BigInt(TMQ_FETCH_RAW_NEW_MESSAGE), 8);
  buf.writeUInt16LE(1, 16);
  buf.writeBigUInt64LE(timing, 18);
  buf.writeBigUInt64LE(reqId, 26);
  buf.writeUInt32LE(code & 0xffff, 34);
  buf.writeUInt32LE(msg.length, 38);
  msg.copy(buf, 42);
  return { buf, at: 42 + msg.length };
}

/** Successful fetch_raw_data reply. */
export function fetchRawDataReply(reqId: bigint, timing: bigint, messageId: bigint, rawType: number, raw: Buffer): Buffer {
  const { buf } = header(reqId, timing, 0, "");
  const tail = Buffer.alloc(14);
  tail.writeBigUInt64LE(messageId, 0);
  tail.writeUInt16LE(rawType, 8);
  tail.writeUInt32LE(raw.length, 10);
  return Buffer.concat([buf, tail, raw]);
}

/** fetch_raw_data error reply: the header, the message and the message id, nothing after. */
export function fetchRawDataError(reqId: bigint, timing: bigint, code: number, message: string, messageId: bigint): Buffer {
  const { buf, at } = header(reqId, timing, code, message);
  const out = Buffer.alloc(at + 8);
  buf.copy(out, 0);
  out.writeBigUInt64LE(messageId, at);
  return out;
}

/** Legacy fetch_raw reply: u64 timing, u64 req_id, u64 message id, u64 3, u32 raw length, u16 raw type, raw data. */
export function fetchRawReply(reqId: bigint, timing: bigint, messageId: bigint, rawType: number, raw: Buffer): Buffer {
  const head = Buffer.alloc(38);
  head.writeBigUInt64LE(timing, 0);
  head.writeBigUInt64LE(reqId, 8);
  head.writeBigUInt64LE(messageId, 16);
  head.writeBigUInt64LE(BigInt(TMQ_RAW_MESSAGE), 24);
  head.writeUInt32LE(raw.length, 32);
  head.writeUInt16LE(rawType, 36);
  return Buffer.concat([head, raw]);
}

/** fetch_block reply: u64 timing, u64 req_id, u64 message id, then the raw block of the last `fetch`. */
export function fetchBlockReply(reqId: bigint, timing: bigint, messageId: bigint, block: Buffer): Buffer {
  const head = Buffer.alloc(24);
  head.writeBigUInt64LE(timing, 0);
  head.writeBigUInt64LE(reqId, 8);
  head.writeBigUInt64LE(messageId, 16);
  return Buffer.concat([head, block]);
}
