// One WebSocket session on /ws: connection state, result and statement registries (ids from 1), the
// pre-conn rule, injected failures, and dispatch of JSON and binary frames to their handlers.
import type { WebSocket } from "ws";
import { handleBinary } from "./binary-actions.js";
import type { ConnectionInfo } from "./connections.js";
import type { EmulatorCore } from "./core.js";
import { TdError } from "./errors.js";
import { handleJson } from "./json-actions.js";
import { jsonReplyText } from "./json-reply.js";
import { ReplyChannel } from "./reply-channel.js";
import type { ResultSet } from "./result.js";
import type { Session } from "./sql/context.js";
import type { Stmt2 } from "./stmt2.js";
import { STMT1_ACTIONS, type Stmt1 } from "./stmt1.js";

const PRE_CONN = new Set(["version", "conn", "check_server_status"]);
/** Actions that injected failures (faults.failNext) apply to. */
const FAILABLE = new Set(["query", "binary_query", "insert", "stmt2_init", "stmt2_prepare", "stmt2_bind", "stmt2_exec", "stmt2_result"]);
const STMT_ACTIONS = new Set(["stmt2_prepare", "stmt2_bind", "stmt2_exec", "stmt2_result", "stmt2_close", ...STMT1_ACTIONS]);

export interface HeldResult {
  rs: ResultSet;
  next: number;
}

export class WsSession {
  connected = false;
  readonly sql: Session = { db: null };
  readonly results = new Map<number, HeldResult>();
  readonly stmts = new Map<number, Stmt2>();
  readonly stmt1s = new Map<number, Stmt1>();
  /** Listed by SHOW CONNECTIONS from a successful conn until the socket closes. */
  connection: ConnectionInfo | null = null;
  private nextResult = 1;
  private nextStmt = 1;
  readonly out: ReplyChannel;

  constructor(
    readonly ws: WebSocket,
    readonly core: EmulatorCore,
  ) {
    this.out = new ReplyChannel(ws, core.faults, core.reorderReplies);
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on("close", () => this.dispose());
    ws.on("error", () => this.dispose());
  }

  addResult(rs: ResultSet): number {
    const id = this.nextResult++;
    this.results.set(id, { rs, next: 0 });
    return id;
  }

  addStmt(make: (id: number) => Stmt2): Stmt2 {
    const id = this.nextStmt++;
    const s = make(id);
    this.stmts.set(id, s);
    return s;
  }

  addStmt1(make: (id: number) => Stmt1): Stmt1 {
    const id = this.nextStmt++;
    const s = make(id);
    this.stmt1s.set(id, s);
    return s;
  }

  /** Client address as SHOW CONNECTIONS prints it (set by the HTTP server at upgrade). */
  peer = "";

  dispose(): void {
    this.core.connections.remove(this.connection);
    this.connection = null;
    this.results.clear();
    this.stmts.clear();
    this.stmt1s.clear();
    this.out.close();
  }

  /** Common JSON reply: code, message, action, req_id (echoed exactly, u64), timing, extra fields. */
  replyJson(action: string, reqId: bigint, started: bigint, extra: Record<string, unknown> = {}, code = 0, message = ""): void {
    this.out.send(jsonReplyText(action, reqId, Number(process.hrtime.bigint() - started), extra, code, message));
  }

  replyError(action: string, reqId: bigint, started: bigint, err: unknown, extra: Record<string, unknown> = {}): void {
    const code = err instanceof TdError ? err.code & 0xffff : 0xffff;
    const message = err instanceof Error ? err.message : String(err);
    this.replyJson(action, reqId, started, extra, code, message);
  }

  /** Pre-conn rule and injected failures; returns false when the request was answered with an error. */
  admit(action: string, reqId: bigint, started: bigint, stmtId?: number): boolean {
    const extra = STMT_ACTIONS.has(action) && stmtId !== undefined ? { stmt_id: stmtId } : {};
    this.core.actions.set(action, (this.core.actions.get(action) ?? 0) + 1);
    if (!this.connected && !PRE_CONN.has(action)) {
      this.replyJson(action, reqId, started, extra, 0xffff, "server not connected");
      return false;
    }
    if (FAILABLE.has(action)) {
      const f = this.core.faults.takeFailure();
      if (f) {
        this.replyJson(action, reqId, started, extra, f.code, f.message);
        return false;
      }
    }
    return true;
  }

  private onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const started = process.hrtime.bigint();
    this.core.requests++;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    try {
      if (isBinary) handleBinary(this, buf, started);
      else handleJson(this, buf.toString("utf8"), started);
    } catch (err) {
      // Handlers answer their own errors; this is a last resort so one bad frame never kills the socket.
      this.replyError("", 0n, started, err);
    }
  }
}
