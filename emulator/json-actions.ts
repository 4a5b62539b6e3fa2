// JSON (text frame) actions on /ws.
import { textArg } from "./connections.js";
import { CODE, TdError } from "./errors.js";
import type { ExecResult, ResultSet } from "./result.js";
import { schemalessInsert } from "./schemaless.js";
import { Stmt2 } from "./stmt2.js";
import { jsonColumn, Stmt1, STMT1_ACTIONS } from "./stmt1.js";
import type { WsSession } from "./ws-session.js";
import { parseZone } from "./sql/zone.js";
import { PRECISION_CODE } from "./types.js";

/** Query reply fields shared by `query`, binary query (code 6) and stmt2_result. */
export function queryReplyFields(sess: WsSession, r: ExecResult): Record<string, unknown> {
  if (r.kind === "update") {
    return { id: 0, is_update: true, affected_rows: r.affectedRows, fields_count: 0, fields_names: null, fields_types: null, fields_lengths: null, precision: 0, fields_precisions: null, fields_scales: null };
  }
  const rs = r.result;
  const id = sess.addResult(rs);
  return {
    id,
    is_update: false,
    affected_rows: 0,
    fields_count: rs.columns.length,
    fields_names: rs.columns.map((c) => c.name),
    fields_types: rs.columns.map((c) => c.type),
    fields_lengths: rs.columns.map((c) => c.length),
    precision: PRECISION_CODE[rs.precision],
    fields_precisions: rs.columns.map((c) => c.decPrecision ?? 0),
    fields_scales: rs.columns.map((c) => c.decScale ?? 0),
  };
}

/** The result of an executed statement (stmt2_result, stmt1 use_result): its id and fields, no update flags. */
function statementResult(sess: WsSession, rs: ResultSet): Record<string, unknown> {
  const f = queryReplyFields(sess, { kind: "rows", result: rs });
  return {
    id: f.id,
    fields_count: f.fields_count,
    fields_names: f.fields_names,
    fields_types: f.fields_types,
    fields_lengths: f.fields_lengths,
    precision: f.precision,
    fields_precisions: f.fields_precisions,
    fields_scales: f.fields_scales,
  };
}

/** req_id of a JSON request as a u64 (0 when absent), or null when it is not a non-negative integer. */
export function reqIdOf(raw: string, args: Record<string, unknown>): bigint | null {
  const v = args.req_id;
  if (v === undefined || v === null) return 0n;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return null;
  const m = /"req_id"\s*:\s*(\d+)/.exec(raw);
  return m ? BigInt(m[1]) : BigInt(v);
}

export function handleJson(sess: WsSession, raw: string, started: bigint): void {
  let msg: { action?: unknown; args?: Record<string, unknown> };
  try {
    msg = JSON.parse(raw);
  } catch {
    sess.replyJson("", 0n, started, {}, 0xffff, "unmarshal json error");
    return;
  }
  if (!msg || typeof msg !== "object" || typeof msg.action !== "string" || msg.action === "") {
    sess.replyJson("", 0n, started, {}, 0xffff, "request no action");
    return;
  }
  const action = msg.action;
  const args = (msg.args && typeof msg.args === "object" ? msg.args : {}) as Record<string, unknown>;
  const reqId = reqIdOf(raw, args);
  if (reqId === null) {
    sess.replyJson(action, 0n, started, {}, 0xffff, `unmarshal ${action} request error`);
    return;
  }
  const stmtId = typeof args.stmt_id === "number" ? args.stmt_id : undefined;
  if (!KNOWN.has(action)) {
    sess.replyJson(action, reqId, started, {}, 0xffff, `unknown action ${action}`);
    return;
  }
  if (action === "free_result") {
    // No reply at all, by protocol.
    if (sess.connected) sess.results.delete(Number(args.id));
    return;
  }
  if (!sess.admit(action, reqId, started, stmtId)) return;
  const core = sess.core;
  try {
    switch (action) {
      case "version":
        return sess.replyJson(action, reqId, started, { version: core.serverVersion });
      case "conn": {
        if (sess.connected) return sess.replyJson(action, reqId, started, {}, 0xffff, "duplicate connections");
        if (args.user !== core.user || args.password !== core.password) throw new TdError(CODE.AUTH_FAILURE, "Authentication failure");
        const db = typeof args.db === "string" ? args.db : "";
        if (typeof args.tz === "string" && args.tz !== "") sess.sql.tz = (parseZone(args.tz), args.tz);
        if (db) {
          const name = db.toLowerCase();
          if (!core.catalog.dbs.has(name) && name !== "information_schema") throw new TdError(CODE.DB_NOT_EXIST, "Database not exist");
          sess.sql.db = name;
        }
        sess.connected = true;
        sess.connection = core.connections.add({ user: core.user, app: textArg(args.app), ip: textArg(args.ip), endPoint: sess.peer, connector: textArg(args.connector) });
        return sess.replyJson(action, reqId, started, { version: core.serverVersion });
      }
      case "check_server_status":
        return sess.replyJson(action, reqId, started, { status: 2, details: "" });
      case "query": {
        const sql = typeof args.sql === "string" ? args.sql : "";
        const r = core.engine.execute(sql, sess.sql);
        return sess.replyJson(action, reqId, started, queryReplyFields(sess, r));
      }
      case "get_current_db":
        return sess.replyJson(action, reqId, started, { db: sess.sql.db ?? "" });
      case "get_server_info":
        return sess.replyJson(action, reqId, started, { info: core.serverVersion });
      case "num_fields": {
        const held = sess.results.get(Number(args.result_id));
        if (!held) throw new TdError(0xffff, "result is nil");
        return sess.replyJson(action, reqId, started, { num_fields: held.rs.columns.length });
      }
      case "options_connection": {
        const options = Array.isArray(args.options) ? (args.options as { option?: unknown; value?: unknown }[]) : [];
        for (const o of options) {
          // option 1 = timezone (driver/common/const.go); -1 clears every option. Others are recorded nowhere.
          if (o?.option === 1 || o?.option === -1) sess.sql.tz = typeof o.value === "string" && o.value !== "" && o.option === 1 ? (parseZone(o.value), o.value) : null;
        }
        return sess.replyJson(action, reqId, started);
      }
      case "insert": {
        const protocol = Number(args.protocol ?? 0);
        const r = schemalessInsert({ catalog: core.catalog, serverVersion: core.serverVersion, session: sess.sql }, protocol, String(args.precision ?? ""), String(args.data ?? ""), Number(args.ttl ?? 0));
        return sess.replyJson(action, reqId, started, { affected_rows: r.affected, total_rows: r.total });
      }
      case "init": {
        const s = sess.addStmt1((id) => new Stmt1(id, core.engine, sess.sql));
        return sess.replyJson(action, reqId, started, { stmt_id: s.id });
      }
      case "stmt2_init": {
        const s = sess.addStmt((id) => new Stmt2(id, core.engine, sess.sql));
        return sess.replyJson(action, reqId, started, { stmt_id: s.id });
      }
      default:
        if (STMT1_ACTIONS.includes(action)) return stmt1Action(sess, action, args, reqId, started);
        return stmtAction(sess, action, args, reqId, started);
    }
  } catch (err) {
    sess.replyError(action, reqId, started, err, (action.startsWith("stmt2_") || STMT1_ACTIONS.includes(action)) && stmtId !== undefined ? { stmt_id: stmtId } : {});
  }
}

function stmt1Action(sess: WsSession, action: string, args: Record<string, unknown>, reqId: bigint, started: bigint): void {
  const stmtId = Number(args.stmt_id);
  const s = sess.stmt1s.get(stmtId);
  const ok = (extra: Record<string, unknown> = {}): void => sess.replyJson(action, reqId, started, { stmt_id: stmtId, ...extra });
  if (!s) return sess.replyJson(action, reqId, started, { stmt_id: stmtId }, 0xffff, "stmt is nil");
  switch (action) {
    case "prepare":
      return ok({ is_insert: s.prepare(String(args.sql ?? "")) });
    case "set_table_name":
      s.setTableName(String(args.name ?? ""));
      return ok();
    case "set_tags": {
      const tags = Array.isArray(args.tags) ? (args.tags as unknown[]) : [];
      s.setTags(tags.map((t) => jsonColumn([t])));
      return ok();
    }
    case "bind": {
      const cols = Array.isArray(args.columns) ? (args.columns as unknown[]) : [];
      s.bind(cols.map((c) => jsonColumn(Array.isArray(c) ? c : [c])));
      return ok();
    }
    case "add_batch":
      s.addBatch();
      return ok();
    case "exec":
      return ok({ affected: s.exec() });
    case "get_tag_fields": {
      const fields = s.tagFields();
      return ok(fields.length ? { fields } : {});
    }
    case "get_col_fields":
      return ok({ fields: s.colFields() });
    case "use_result": {
      if (!s.result) throw new TdError(0xffff, "result is nil");
      const { id, ...fields } = statementResult(sess, s.result);
      s.result = null;
      return ok({ result_id: id, ...fields });
    }
    default:
      // close: no reply on success, as taosAdapter.
      sess.stmt1s.delete(stmtId);
  }
}

function stmtAction(sess: WsSession, action: string, args: Record<string, unknown>, reqId: bigint, started: bigint): void {
  const stmtId = Number(args.stmt_id);
  const s = sess.stmts.get(stmtId);
  if (!s) return sess.replyJson(action, reqId, started, { stmt_id: stmtId }, 0xffff, "stmt2 is nil");
  switch (action) {
    case "stmt2_prepare": {
      const r = s.prepare(String(args.sql ?? ""));
      const withFields = args.get_fields === true;
      // taos_stmt2_get_fields before a table name is bound: TSDB_CODE_TSC_STMT_TBNAME_ERROR (0x022B).
      if (withFields && r.isInsert && r.fields === null) throw new TdError(CODE.STMT_TBNAME, "Table does not exist");
      return sess.replyJson(action, reqId, started, {
        stmt_id: stmtId,
        is_insert: r.isInsert,
        fields: withFields ? r.fields : null,
        fields_count: withFields ? r.count : 0,
      });
    }
    case "stmt2_exec": {
      const affected = s.exec();
      return sess.replyJson(action, reqId, started, { stmt_id: stmtId, affected });
    }
    case "stmt2_result": {
      if (!s.result) throw new TdError(0xffff, "result is nil");
      const { id, ...fields } = statementResult(sess, s.result);
      s.result = null;
      return sess.replyJson(action, reqId, started, { stmt_id: stmtId, id, ...fields });
    }
    case "stmt2_close":
      sess.stmts.delete(stmtId);
      return sess.replyJson(action, reqId, started, { stmt_id: stmtId });
  }
}

const KNOWN = new Set([
  "version", "conn", "check_server_status", "query", "free_result", "get_current_db", "get_server_info", "num_fields",
  "options_connection", "insert", "stmt2_init", "stmt2_prepare", "stmt2_exec", "stmt2_result", "stmt2_close",
  "init", ...STMT1_ACTIONS,
]);
