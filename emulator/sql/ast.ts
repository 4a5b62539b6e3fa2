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
  | { k: "isnull"; e: Expr; not: boolean };

export interface SelectItem {
  expr: Expr;
  /** Output column name: alias, or the expression as written. */
  label: string;
  hasAlias: boolean;
}

export interface SelectStmt {
  t: "select";
  items: SelectItem[];
  from?: Name;
  where?: Expr;
  orderBy: { expr: Expr; desc: boolean }[];
  limit?: number;
  offset?: number;
}

export interface InsertItem {
  table: Name | { param: true; db?: string };
  using?: { stable: Name; tagNames?: string[]; tags: Expr[] };
  columns?: string[];
  rows: Expr[][];
}

export type Stmt =
  | { t: "createDb"; ifNotExists: boolean; name: string; precision?: string }
  | { t: "dropDb"; ifExists: boolean; name: string }
  | { t: "use"; name: string }
  | { t: "createStable"; ifNotExists: boolean; name: Name; columns: ColumnDef[]; tags: ColumnDef[] }
  | { t: "createTable"; ifNotExists: boolean; name: Name; columns: ColumnDef[] }
  | { t: "createChild"; items: { ifNotExists: boolean; name: Name; stable: Name; tagNames?: string[]; tags: Expr[] }[] }
  | { t: "dropTable"; ifExists: boolean; names: Name[]; stable: boolean }
  | { t: "show"; what: "databases" | "stables" | "tables"; db?: string }
  | { t: "describe"; name: Name }
  | { t: "insert"; items: InsertItem[] }
  | SelectStmt;
