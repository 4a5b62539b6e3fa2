// Binary (24-byte header) actions on /ws: 6 binary_query, 7 fetch_raw_block, 9 stmt2_bind.
import { encodeBlock, BLOCK_ROWS } from "./raw-block-encoder.js";
import { queryReplyFields } from "./json-actions.js";
import type { WsSession } from "./ws-session.js";
import { parseStmt1Block } from "./stmt1-block-parser.js";

const NAMES: Record<number, string> = { 1: "set_tags", 2: "bind", 6: "binary_query", 7: "fetch_raw_block", 9: "stmt2_bind" };

/** fetch_raw_block reply (§2.5): marker, action 7, version 1, timing, req_id, code, message, result id, finished, block. */
export function fetchReply(reqId: bigint, resultId: bigint, timing: bigint, code: number, message: string, finished: boolean, block: Buffer | null): Buffer {
  const msg = Buffer.from(message, "utf8");
  const L = msg.length;
  const withBlock = code === 0 && !finished && block !== null;
  const out = Buffer.alloc(51 + L + (withBlock ? 4 + (block as Buffer).length : 0));
  out.writeBigUInt64LE(0xffffffffffffffffn, 0);
  out.writeBigUInt64LE(7n, 8);
  out.writeUInt16LE(1, 16);
  out.writeBigUInt64LE(timing, 18);
  out.writeBigUInt64LE(reqId, 26);
  out.writeUInt32LE(code, 34);
  out.writeUInt32LE(L, 38);
  msg.copy(out, 42);
  out.writeBigUInt64LE(resultId, 42 + L);
  out.writeUInt8(finished ? 1 : 0, 50 + L);
  if (withBlock) {
    out.writeUInt32LE((block as Buffer).length, 51 + L);
    (block as Buffer).copy(out, 55 + L);
  }
  return out;
}

export function handleBinary(sess: WsSession, buf: Buffer, started: bigint): void {
  if (buf.length < 24) {
    sess.replyJson("", 0n, started, {}, 0xffff, "message length is too short");
    return;
  }
  const reqId = buf.readBigUInt64LE(0);
  const resId = buf.readBigUInt64LE(8);
  const code = buf.readBigUInt64LE(16);
  const action = NAMES[Number(code)];
  if (!action || code > 100n) {
    sess.replyJson("", reqId, started, {}, 0xffff, `unknown binary action ${code}`);
    return;
  }
  if (!sess.admit(action, reqId, started, action === "stmt2_bind" || action === "set_tags" || action === "bind" ? Number(resId) : undefined)) return;
  switch (action) {
    case "set_tags":
    case "bind":
      return stmt1Binary(sess, action, buf, reqId, resId, started);
    case "binary_query":
      return binaryQuery(sess, buf, reqId, started);
    case "fetch_raw_block":
      return fetchRawBlock(sess, buf, reqId, resId, started);
    default:
      return stmt2Bind(sess, buf, reqId, resId, started);
  }
}

function binaryQuery(sess: WsSession, buf: Buffer, reqId: bigint, started: bigint): void {
  const action = "binary_query";
  if (buf.length < 31) return sess.replyJson(action, reqId, started, {}, 0xffff, "message length is too short");
  const version = buf.readUInt16LE(24);
  if (version !== 1) return sess.replyJson(action, reqId, started, {}, 0xffff, `unknown binary query version:${version}`);
  const len = buf.readUInt32LE(26);
  if (30 + len > buf.length) return sess.replyJson(action, reqId, started, {}, 0xffff, "sql length out of range");
  const sql = buf.toString("utf8", 30, 30 + len);
  try {
    const r = sess.core.engine.execute(sql, sess.sql);
    sess.replyJson(action, reqId, started, queryReplyFields(sess, r));
  } catch (err) {
    sess.replyError(action, reqId, started, err);
  }
}

function fetchRawBlock(sess: WsSession, buf: Buffer, reqId: bigint, resId: bigint, started: bigint): void {
  const elapsed = (): bigint => process.hrtime.bigint() - started;
  if (buf.length < 26) return sess.out.send(fetchReply(reqId, resId, elapsed(), 0xffff, "message length is too short", true, null));
  const version = buf.readUInt16LE(24);
  if (version !== 1) return sess.out.send(fetchReply(reqId, resId, elapsed(), 0xffff, `unknown fetch raw block version:${version}`, true, null));
  const held = sess.results.get(Number(resId));
  if (!held) return sess.out.send(fetchReply(reqId, resId, elapsed(), 0xffff, "result is nil", true, null));
  const remaining = held.rs.rowCount - held.next;
  if (remaining <= 0) {
    // The adapter frees the result once it reports completion.
    sess.results.delete(Number(resId));
    return sess.out.send(fetchReply(reqId, resId, elapsed(), 0, "", true, null));
  }
  const n = Math.min(remaining, BLOCK_ROWS);
  const block = encodeBlock(held.rs, held.next, n);
  held.next += n;
  sess.out.send(fetchReply(reqId, resId, elapsed(), 0, "", false, block));
}

/** stmt1 binary set_tags (1) / bind (2): 24-byte header (req_id, stmt_id, action), then one raw block. */
function stmt1Binary(sess: WsSession, action: "set_tags" | "bind", buf: Buffer, reqId: bigint, stmtId: bigint, started: bigint): void {
  const extra = { stmt_id: Number(stmtId) };
  const s = sess.stmt1s.get(Number(stmtId));
  if (!s) return sess.replyJson(action, reqId, started, extra, 0xffff, "stmt is nil");
  try {
    const cols = parseStmt1Block(buf.subarray(24));
    if (action === "set_tags") s.setTags(cols);
    else s.bind(cols);
    sess.replyJson(action, reqId, started, extra);
  } catch (err) {
    sess.replyError(action, reqId, started, err, extra);
  }
}

function stmt2Bind(sess: WsSession, buf: Buffer, reqId: bigint, stmtId: bigint, started: bigint): void {
  const action = "stmt2_bind";
  const extra = { stmt_id: Number(stmtId) };
  if (buf.length < 30) return sess.replyJson(action, reqId, started, extra, 0xffff, "message length is too short");
  const version = buf.readUInt16LE(24);
  if (version !== 1) return sess.replyJson(action, reqId, started, extra, 0xffff, "unknown stmt2 bind version");
  const colIndex = buf.readInt32LE(26);
  const s = sess.stmts.get(Number(stmtId));
  if (!s) return sess.replyJson(action, reqId, started, extra, 0xffff, "stmt2 is nil");
  try {
    s.bind(buf.subarray(30), colIndex);
    sess.replyJson(action, reqId, started, extra);
  } catch (err) {
    sess.replyError(action, reqId, started, err, extra);
  }
}
