// The SQL entry point: parse a statement and run it against the catalog for one session.
import { CODE, TdError } from "../errors.js";
import type { ExecResult } from "../result.js";
import type { Catalog } from "../store/catalog.js";
import type { Value } from "../types.js";
import type { Session } from "./context.js";
import { execDdl } from "./ddl.js";
import { execInsert } from "./insert.js";
import { parseSql } from "./parser.js";
import { execSelect } from "./select.js";
import { execTmqStmt } from "../tmq/sql.js";
import type { TmqState } from "../tmq/state.js";
import type { Connections } from "../connections.js";

export class Engine {
  /** Set by the emulator core once its TMQ state exists (topics are SQL objects). */
  tmq: TmqState | undefined;
  /** Set by the emulator core: open connections for SHOW CONNECTIONS. */
  connections: Connections | undefined;

  constructor(
    readonly catalog: Catalog,
    readonly serverVersion: string,
  ) {}

  execute(sql: string, session: Session, params: Value[] | null = null): ExecResult {
    const text = sql.trim();
    if (!text) throw new TdError(CODE.SYNTAX, 'syntax error near ""');
    const { stmt } = parseSql(text);
    const ctx = { catalog: this.catalog, serverVersion: this.serverVersion, session, tmq: this.tmq, connections: this.connections };
    switch (stmt.t) {
      case "createTopic":
      case "dropTopic":
      case "showTmq":
        if (!this.tmq) throw new TdError(CODE.NOT_SUPPORTED, "Operation not supported: TMQ");
        return execTmqStmt(stmt, ctx, this.tmq, text);
      case "select":
        return { kind: "rows", result: execSelect(stmt, ctx, params) };
      case "insert":
        return { kind: "update", affectedRows: execInsert(stmt.items, ctx) };
      default:
        return execDdl(stmt, ctx);
    }
  }
}
