// AST of the SQL subset the emulator understands.
import type { ColumnDef } from "../types.js";

export interface Name {
  db?: string;
  name: string;
}

export type Expr =
  | { k: "num"; v: string }
  | { k: "str"; v: string }
  | { k: "bool"; v: boolean }
  | { k: "null" }
  | { k: "dur"; v: string }
  | { k: "param"; idx: number }
  | { k: "col"; name: string; table?: string }
  | { k: "star" }
  | { k: "func"; name: string; args: Expr[]; star: boolean }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "neg"; e: Expr }
  | { k: "between"; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: "in"; e: Expr; list: Expr[]; not: boolean }
  | { k: "isnull"; e: Expr; not: boolean }
  /** The i-th aggregate of the current group (aggregate calls are rewritten to these before compiling). */
  | { k: "aggref"; i: number }
  | { k: "like"; e: Expr; pattern: Expr; not: boolean };

export interface SelectItem {
  expr: Expr;
  /** Output column name: alias, or the expression as written. */
  label: string;
  hasAlias: boolean;
}

export interface IntervalClause {
  /** Duration literals as written ("10s", "1d", "1n"). */
  every: string;
  offset?: string;
  sliding?: string;
}

export type FillMode = "none" | "null" | "value" | "prev" | "next" | "linear";

export interface SelectStmt {
  t: "select";
  distinct: boolean;
  items: SelectItem[];
  from?: Name;
  /** FROM (subquery). */
  fromSub?: SelectStmt;
  where?: Expr;
  partitionBy: Expr[];
  groupBy: Expr[];
  interval?: IntervalClause;
  fill?: { mode: FillMode; values: Expr[] };
  having?: Expr;
  orderBy: { expr: Expr; desc: boolean }[];
  limit?: number;
  offset?: number;
}

export type AlterAction =
  | { op: "add"; kind: "column" | "tag"; def: ColumnDef }
  | { op: "drop"; kind: "column" | "tag"; name: string }
  | { op: "modify"; kind: "column" | "tag"; def: ColumnDef }
  | { op: "rename"; kind: "column" | "tag"; name: string; to: string }
  | { op: "settag"; name: string; value: Expr }
  /** ALTER TABLE t TTL n (normal and child tables). */
  | { op: "ttl"; ttl: number };

export interface InsertItem {
  table: Name | { param: true; db?: string };
  /** ttl: TTL of a table this statement creates (INSERT … USING … TAGS (…) TTL n VALUES …). */
  using?: { stable: Name; tagNames?: string[]; tags: Expr[]; ttl?: number };
  columns?: string[];
  rows: Expr[][];
}

export type TopicSourceAst = { kind: "select"; select: SelectStmt } | { kind: "stable"; name: Name; where?: Expr } | { kind: "database"; name: string };

export type Stmt =
  | { t: "createDb"; ifNotExists: boolean; name: string; precision?: string; vgroups?: number }
  | { t: "createTopic"; ifNotExists: boolean; name: string; withMeta: boolean; source: TopicSourceAst }
  | { t: "dropTopic"; ifExists: boolean; name: string }
  | { t: "showTmq"; what: "topics" | "consumers" | "subscriptions" }
  | { t: "createUser"; ifNotExists: boolean; name: string; pass: string }
  | { t: "alterUser"; name: string; pass?: string }
  | { t: "dropUser"; ifExists: boolean; name: string }
  | { t: "showConnections" }
  | { t: "dropDb"; ifExists: boolean; name: string }
  | { t: "use"; name: string }
  | { t: "createStable"; ifNotExists: boolean; name: Name; columns: ColumnDef[]; tags: ColumnDef[] }
  | { t: "createTable"; ifNotExists: boolean; name: Name; columns: ColumnDef[]; ttl?: number }
  | { t: "createChild"; items: { ifNotExists: boolean; name: Name; stable: Name; tagNames?: string[]; tags: Expr[]; ttl?: number }[] }
  | { t: "dropTable"; ifExists: boolean; names: Name[]; stable: boolean }
  | { t: "show"; what: "databases" | "stables" | "tables"; db?: string; like?: string }
  | { t: "showTags"; table: Name }
  | { t: "showCreate"; what: "table" | "stable" | "database"; name: Name }
  | { t: "alter"; stable: boolean; name: Name; action: AlterAction }
  | { t: "describe"; name: Name }
  | { t: "insert"; items: InsertItem[] }
  | SelectStmt;
