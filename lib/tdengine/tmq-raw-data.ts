// Parser of taosAdapter's TMQ `fetch_raw_data` reply (controller/ws/tmq/tmq.go, wsFetchRawBlockMessage and
// tmqFetchRawBlockErrorMsg; all little-endian):
//   0 u64 marker 0xFFFF..FF | 8 u64 action 8 | 16 u16 version 1 | 18 u64 timing | 26 u64 req_id | 34 u32 code |
//   38 u32 L | 42 L bytes message | 42+L u64 message id | (code 0, L = 0:) 50 u16 meta type | 52 u32 length N |
//   56 N bytes of TMQ raw data.
// TMQ raw data (what tmq_get_raw gives for a data message; taosAdapter driver/common/parser/raw.go):
//   head: i8 v; v >= 100: i32 n then n bytes skipped; otherwise two offsets (i8 type then 8 bytes for type 1,
//   16 bytes for types 2 and 3);
//   i32 block count | u8 with table name | u8 with schema | per block:
//     varint block length B | 17 bytes | u8 precision | raw block (B - 18 bytes, the layout of §2.6);
//     with schema: zigzag varint column count, zigzag varint version, per column u8 type, i8 flag,
//       zigzag varint bytes, zigzag varint column id, name; with table name: name.
//   A name is a varint length that counts a trailing NUL, then the bytes.
// Varints are little-endian base-128 (7 bits a byte, high bit = more). Every read is bounds-checked: a corrupt
// or hostile frame throws a TdengineError of kind "protocol" and allocates nothing the frame cannot justify.
import type { ColumnMeta, Precision } from "./api";
import { FETCH_REPLY_MARKER, PRECISIONS, TMQ_FETCH_RAW_DATA_ACTION, TYPE, TYPE_NAME } from "./constants";
import { TdengineError } from "./errors";
import { decodeRawBlock, type DecodeOptions } from "./raw-block-decoder";

export interface RawDataReply {
  reqId: bigint;
  code: number;
  message: string;
  messageId: bigint;
  /** TMQ message type of the data (1 data, 2 table meta, 3 meta + data, 4 raw); 0 on error. */
  metaType: number;
  /** TMQ raw data (a view into the frame); empty on error. */
  data: Uint8Array;
}

export interface TmqBlock {
  /** Subtable the rows belong to (with msg.with.table.name). */
  table?: string;
  precision: Precision;
  columns: ColumnMeta[];
  rows: unknown[][];
}

function fail(msg: string): never {
  throw TdengineError.protocol(`TMQ raw data: ${msg}`);
}

export function parseRawDataReply(frame: Uint8Array): RawDataReply {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const need = (n: number, what: string): void => {
    if (frame.byteLength < n) fail(`fetch_raw_data reply truncated: ${frame.byteLength} bytes, ${what} needs ${n}`);
  };
  need(42, "the header");
  if (view.getBigUint64(0, true) !== FETCH_REPLY_MARKER) fail("binary reply without the 0xFFFF.. marker");
  const action = view.getBigUint64(8, true);
  if (action !== BigInt(TMQ_FETCH_RAW_DATA_ACTION)) fail(`binary reply with action ${action}, expected ${TMQ_FETCH_RAW_DATA_ACTION}`);
  const reqId = view.getBigUint64(26, true);
  const code = view.getUint32(34, true) & 0xffff;
  const msgLen = view.getUint32(38, true);
  need(42 + msgLen + 8, "the message and message id");
  const message = Buffer.from(frame.buffer, frame.byteOffset + 42, msgLen).toString("utf8");
  const messageId = view.getBigUint64(42 + msgLen, true);
  if (code !== 0) return { reqId, code, message, messageId, metaType: 0, data: new Uint8Array(0) };
  const p = 50 + msgLen;
  need(p + 6, "the meta type and data length");
  const metaType = view.getUint16(p, true);
  const len = view.getUint32(p + 2, true);
  need(p + 6 + len, "the raw data");
  return { reqId, code, message, messageId, metaType, data: frame.subarray(p + 6, p + 6 + len) };
}

class Reader {
  p = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number, what: string): void {
    if (n < 0 || this.p + n > this.buf.byteLength) fail(`${what} needs ${n} bytes at ${this.p}, ${this.buf.byteLength - this.p} left`);
  }
  i8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.p++);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.p++);
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.p, true);
    this.p += 4;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.p += n;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
  varint(what: string): number {
    let value = 0;
    let mult = 1;
    for (let i = 0; ; i++) {
      // Five 7-bit groups hold any 32-bit length; more is garbage, not a length.
      if (i >= 5) fail(`${what}: variable-length integer longer than 5 bytes`);
      const b = this.u8(what);
      value += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return value;
      mult *= 128;
    }
  }
  zigzag(what: string): number {
    const n = this.varint(what);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  name(what: string): string {
    const n = this.varint(what);
    if (n < 1) fail(`${what}: name length ${n} without its NUL`);
    const b = this.bytes(n, what);
    return Buffer.from(b.buffer, b.byteOffset, n - 1).toString("utf8");
  }
}

function offsetSkip(type: number): number {
  if (type === 1) return 8;
  if (type === 2 || type === 3) return 16;
  return fail(`unknown offset type ${type} in the head`);
}

interface SchemaColumn {
  type: number;
  bytes: number;
  name: string;
}

/** Decodes the data blocks of one TMQ message's raw data. */
export function decodeTmqRawData(data: Uint8Array, opts: DecodeOptions = {}): TmqBlock[] {
  const r = new Reader(data);
  const v = r.i8("head version");
  if (v >= 100) {
    r.skip(r.i32("head length"), "head");
  } else {
    r.skip(offsetSkip(v), "request offset");
    r.skip(offsetSkip(r.i8("response offset type")), "response offset");
  }
  const count = r.i32("block count");
  // Every block needs at least 19 bytes: a count the data cannot hold is refused before anything is allocated.
  if (count < 0 || count * 19 > data.byteLength) fail(`block count ${count} does not fit in ${data.byteLength} bytes`);
  const withTableName = r.u8("table name flag") !== 0;
  const withSchema = r.u8("schema flag") !== 0;
  const blocks: TmqBlock[] = [];
  let lastSchema: SchemaColumn[] | undefined;
  for (let b = 0; b < count; b++) {
    const len = r.varint("block length");
    if (len < 18) fail(`block ${b}: length ${len} shorter than its 18-byte header`);
    r.skip(17, "block header");
    const precision: Precision = PRECISIONS[r.u8("precision")] ?? fail(`block ${b}: unknown precision`);
    const raw = r.bytes(len - 18, "raw block");
    let schema = lastSchema;
    if (withSchema) {
      const cols = r.zigzag("column count");
      if (cols < 0 || cols * 5 > data.byteLength) fail(`block ${b}: column count ${cols} does not fit`);
      r.zigzag("schema version");
      schema = [];
      for (let c = 0; c < cols; c++) {
        const type = r.u8("column type");
        r.i8("column flag");
        const bytes = r.zigzag("column bytes");
        r.zigzag("column id");
        schema.push({ type, bytes, name: r.name("column name") });
      }
      lastSchema = schema;
    }
    const table = withTableName ? r.name("table name") : undefined;
    const decoded = decodeRawBlock(raw, opts);
    if (schema && schema.length !== decoded.columns.length) {
      fail(`block ${b}: schema has ${schema.length} columns, the block ${decoded.columns.length}`);
    }
    const columns: ColumnMeta[] = decoded.columns.map((c, i) => {
      const meta: ColumnMeta = {
        name: schema?.[i].name ?? `c${i}`,
        type: c.type,
        typeName: TYPE_NAME[c.type] ?? `TYPE ${c.type}`,
        length: schema?.[i].bytes ?? c.bytes,
      };
      if (c.type === TYPE.TIMESTAMP) meta.precision = precision;
      if (c.type === TYPE.DECIMAL || c.type === TYPE.DECIMAL64) {
        meta.scale = c.scale;
        meta.typeName = `DECIMAL(${c.precision},${c.scale})`;
      }
      return meta;
    });
    const block: TmqBlock = { precision, columns, rows: decoded.rows };
    if (table !== undefined) block.table = table;
    blocks.push(block);
  }
  return blocks;
}
