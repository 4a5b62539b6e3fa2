// ALTER STABLE / ALTER TABLE: ADD / DROP / MODIFY / RENAME COLUMN or TAG, SET TAG on a child table, TTL n.
// As in TDengine: the first (timestamp) column cannot be dropped or changed, MODIFY only widens VARCHAR / NCHAR /
// VARBINARY / GEOMETRY, the last tag cannot be dropped, and a child table's schema follows its super table.
import { CODE, TdError } from "../errors.js";
import type { ExecResult } from "../result.js";
import type { SuperTable, TableData } from "../store/table.js";
import { T, type ColumnDef } from "../types.js";
import type { AlterAction, Name } from "./ast.js";
import { resolveTarget, sessionZone, type EngineContext } from "./context.js";
import { compileExpr } from "./eval.js";
import { nowIn } from "./time.js";
import { coerce } from "./values.js";

const done: ExecResult = { kind: "update", affectedRows: 0 };
const WIDENABLE = new Set<number>([T.VARCHAR, T.NCHAR, T.VARBINARY, T.GEOMETRY]);

function find(defs: ColumnDef[], name: string, what: string): number {
  const i = defs.findIndex((d) => d.name === name);
  if (i < 0) throw new TdError(what === "tag" ? 0x2624 : CODE.INVALID_COLUMN, what === "tag" ? `Invalid tag name: ${name}` : `Invalid column name: ${name}`);
  return i;
}

function checkNew(all: ColumnDef[], name: string): void {
  if (all.some((d) => d.name === name)) throw new TdError(0x263c, "Duplicated column names");
}

function widen(def: ColumnDef, next: ColumnDef): void {
  if (def.type !== next.type || !WIDENABLE.has(def.type)) throw new TdError(0x2600, `syntax error near "${def.name}" (only the length of VARCHAR/NCHAR/VARBINARY/GEOMETRY can be modified)`);
  if (next.bytes <= def.bytes) throw new TdError(0x2600, `syntax error near "${def.name}" (the new length must be larger)`);
  def.bytes = next.bytes;
}

export function alterTable(ctx: EngineContext, stableOnly: boolean, n: Name, a: AlterAction): ExecResult {
  const tg = resolveTarget(ctx, n);
  if (stableOnly && tg.kind !== "stable") throw new TdError(CODE.STB_NOT_EXIST, "STable not exist");
  if (a.op === "ttl") {
    // TDengine's ALTER STABLE takes COMMENT only; TTL belongs to normal and child tables.
    if (tg.kind === "stable") throw new TdError(0x2600, `syntax error near "ttl" (TTL applies to normal and child tables, not super table ${tg.stable.name})`);
    // The new TTL counts from the table's creation, as TDengine keys it (ttlChangeOnWrite off, its default).
    ctx.catalog.ttl.set(tg.db, tg.table, a.ttl);
    return done;
  }
  if (tg.kind === "stable") return alterStable(tg.stable, a);
  const t = tg.table;
  if (a.op === "settag") {
    if (!t.stable) throw new TdError(0x2600, `syntax error near "${t.name}" (only child tables have tags)`);
    const ti = find(t.stable.tags, a.name, "tag");
    const sc = { precision: tg.db.precision, columns: [], tags: [], sources: [], params: null, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(tg.db.precision), zone: sessionZone(ctx) };
    const c = compileExpr(a.value, sc);
    if (!c.isConst) throw new TdError(0x2600, `syntax error near "${a.name}" (tag value must be a constant)`);
    t.tags[ti] = coerce(c.fn(0, 0), t.stable.tags[ti], tg.db.precision, sc.zone);
    return done;
  }
  if (t.stable) throw new TdError(0x2600, `syntax error near "${t.name}" (alter the super table ${t.stable.name} instead)`);
  if (a.kind === "tag") throw new TdError(0x2600, `syntax error near "${t.name}" (a normal table has no tags)`);
  alterColumns(t.columns, [], [t], a);
  return done;
}

function alterStable(st: SuperTable, a: Exclude<AlterAction, { op: "ttl" }>): ExecResult {
  const children = [...st.children.values()];
  if (a.op === "settag") throw new TdError(0x2600, `syntax error near "${st.name}" (SET TAG applies to child tables)`);
  if (a.kind === "column") {
    alterColumns(st.columns, st.tags, children, a);
    return done;
  }
  switch (a.op) {
    case "add":
      checkNew([...st.columns, ...st.tags], a.def.name);
      st.tags.push(a.def);
      for (const t of children) t.tags.push(null);
      break;
    case "drop": {
      const i = find(st.tags, a.name, "tag");
      if (st.tags.length === 1) throw new TdError(0x2600, `syntax error near "${a.name}" (a super table keeps at least one tag)`);
      st.tags.splice(i, 1);
      for (const t of children) t.tags.splice(i, 1);
      break;
    }
    case "modify":
      widen(st.tags[find(st.tags, a.def.name, "tag")], a.def);
      break;
    case "rename":
      checkNew([...st.columns, ...st.tags], a.to);
      st.tags[find(st.tags, a.name, "tag")].name = a.to;
      break;
  }
  return done;
}

/** Column changes on a column list shared by the tables given (a super table's children, or one normal table). */
function alterColumns(columns: ColumnDef[], tags: ColumnDef[], tables: TableData[], a: Exclude<AlterAction, { op: "settag" | "ttl" }>): void {
  switch (a.op) {
    case "add":
      if (a.def.type === T.JSON) throw new TdError(0x2652, "Only tag can be json type");
      checkNew([...columns, ...tags], a.def.name);
      columns.push(a.def);
      // Child tables share the super table's column list: each gets a store whose existing rows read as NULL.
      for (const t of tables) t.addColumnStore(a.def);
      break;
    case "drop": {
      const i = find(columns, a.name, "column");
      if (i === 0) throw new TdError(0x2600, `syntax error near "${a.name}" (the primary timestamp column cannot be dropped)`);
      columns.splice(i, 1);
      for (const t of tables) t.cols.splice(i, 1);
      break;
    }
    case "modify": {
      const i = find(columns, a.def.name, "column");
      if (i === 0) throw new TdError(0x2600, `syntax error near "${a.def.name}" (the primary timestamp column cannot be modified)`);
      widen(columns[i], a.def);
      break;
    }
    case "rename": {
      const i = find(columns, a.name, "column");
      checkNew([...columns, ...tags], a.to);
      columns[i].name = a.to;
      break;
    }
  }
}
