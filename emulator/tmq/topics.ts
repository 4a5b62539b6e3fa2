// Topics: what each of TDengine's three kinds delivers from a vgroup's write log. A query topic (AS SELECT)
// applies its WHERE and select list to the rows of one table or super table; a super table topic (AS STABLE,
// optional tag WHERE) and a database topic (AS DATABASE) deliver the written tables' data columns as they are.
import { CODE, TdError } from "../errors.js";
import { ValuesResult, type ResultColumn } from "../result.js";
import type { Database } from "../store/catalog.js";
import type { SuperTable, TableData } from "../store/table.js";
import type { WalEntry } from "../store/vgroups.js";
import type { Value } from "../types.js";
import type { Expr, SelectStmt } from "../sql/ast.js";
import { compileExpr, containsAgg, type Compiled, type Scope } from "../sql/eval.js";
import { nowIn } from "../sql/time.js";
import { TMQ_CODE, TMQ_MESSAGE } from "./constants.js";

export type TopicSource = { kind: "select"; select: SelectStmt } | { kind: "stable"; stable: string; where?: Expr } | { kind: "database" };

export interface Topic {
  name: string;
  db: Database;
  source: TopicSource;
  withMeta: boolean;
  sql: string;
  createdAt: number;
  /** Output columns of a query topic (fixed at creation, as in TDengine). */
  columns: ResultColumn[] | null;
}

/** One table's rows of one log entry, shaped as the topic delivers them. */
export interface TopicBlock {
  tableName: string;
  result: ValuesResult;
}

interface CompiledQuery {
  where: Compiled | null;
  outputs: Compiled[];
}

export function tmqError(code: number): TdError {
  return new TdError(code, TMQ_MESSAGE[code] ?? "TMQ error");
}

function scopeFor(db: Database, columns: TableData["columns"], tags: SuperTable["tags"], sources: TableData[], serverVersion: string): Scope {
  return { precision: db.precision, columns, tags, sources, params: null, currentDb: db.name, serverVersion, now: nowIn(db.precision) };
}

/** Select list of a query topic with `*` expanded (super table: columns then tags). */
function expandItems(st: SelectStmt, columns: TableData["columns"], tags: SuperTable["tags"]): { expr: Expr; label: string }[] {
  const out: { expr: Expr; label: string }[] = [];
  for (const it of st.items) {
    if (it.expr.k === "star") {
      for (const c of [...columns, ...tags]) out.push({ expr: { k: "col", name: c.name }, label: c.name });
    } else out.push({ expr: it.expr, label: it.label });
  }
  return out;
}

/** Validate a topic's source against the catalog and fix a query topic's output columns. */
export function defineTopic(name: string, db: Database, source: TopicSource, withMeta: boolean, sql: string, serverVersion: string): Topic {
  let columns: ResultColumn[] | null = null;
  if (source.kind === "select") {
    const st = source.select;
    const invalid =
      !st.from || st.fromSub || st.distinct || st.groupBy.length || st.partitionBy.length || st.interval || st.fill || st.having || st.orderBy.length || st.limit !== undefined || st.offset !== undefined || st.items.some((it) => containsAgg(it.expr));
    if (invalid) throw tmqError(TMQ_CODE.INVALID_TOPIC_QUERY);
    const from = st.from as NonNullable<SelectStmt["from"]>;
    const stable = db.stables.get(from.name);
    const table = stable ? null : db.tables.get(from.name);
    if (!stable && !table) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${from.name}`);
    const cols = stable ? stable.columns : (table as TableData).columns;
    const tags = stable ? stable.tags : ((table as TableData).stable?.tags ?? []);
    const sc = scopeFor(db, cols, stable ? tags : [], [], serverVersion);
    if (st.where) compileExpr(st.where, sc);
    columns = expandItems(st, cols, stable ? tags : []).map((it) => {
      const c = compileExpr(it.expr, sc);
      return { name: it.label, type: c.type, length: c.length, decPrecision: c.decPrecision, decScale: c.decScale };
    });
  } else if (source.kind === "stable") {
    const stable = db.stables.get(source.stable);
    if (!stable) throw new TdError(CODE.STB_NOT_EXIST, "STable not exist");
    if (source.where) compileExpr(source.where, scopeFor(db, [], stable.tags, [], serverVersion));
  }
  return { name, db, source, withMeta, sql, createdAt: Date.now(), columns };
}

/** Reads a topic's blocks out of log entries; compiled expressions are cached per table. */
export class TopicReader {
  private readonly compiled = new WeakMap<TableData, CompiledQuery | null>();

  constructor(
    readonly topic: Topic,
    private readonly serverVersion: string,
  ) {}

  /** The table's rows of this entry as the topic delivers them, or null when the topic does not cover them. */
  read(entry: WalEntry): TopicBlock | null {
    const t = entry.table;
    if (this.topic.db.tables.get(t.name) !== t) return null; // dropped since
    const src = this.topic.source;
    if (src.kind === "database") return this.plain(t, entry, null);
    if (src.kind === "stable") {
      if (t.stable?.name !== src.stable || this.topic.db.stables.get(src.stable) !== t.stable) return null;
      return this.plain(t, entry, this.compile(t));
    }
    const q = this.compile(t);
    if (!q) return null;
    const rows: Value[][] = [];
    for (const p of this.rowsOf(t, entry)) {
      if (q.where && !truthy(q.where.fn(0, p))) continue;
      rows.push(q.outputs.map((o) => o.fn(0, p)));
    }
    return rows.length ? { tableName: t.name, result: new ValuesResult(this.topic.columns as ResultColumn[], rows, this.topic.db.precision) } : null;
  }

  private plain(t: TableData, entry: WalEntry, q: CompiledQuery | null): TopicBlock | null {
    if (q?.where && !truthy(q.where.fn(0, 0))) return null; // tag condition: constant per table
    const rows: Value[][] = [];
    for (const p of this.rowsOf(t, entry)) rows.push(t.cols.map((c) => c.get(p)));
    if (!rows.length) return null;
    const meta = t.columns.map((c) => ({ name: c.name, type: c.type, length: c.bytes, decPrecision: c.decPrecision, decScale: c.decScale }));
    return { tableName: t.name, result: new ValuesResult(meta, rows, this.topic.db.precision) };
  }

  /** Physical rows of the entry's timestamps still in the table (rows dropped by the row cap are gone). */
  private *rowsOf(t: TableData, entry: WalEntry): Generator<number> {
    for (const ts of entry.ts) {
      const i = t.lowerBound(ts);
      if (i < t.rowCount && t.ts(i) === ts) yield t.head + i;
    }
  }

  private compile(t: TableData): CompiledQuery | null {
    if (this.compiled.has(t)) return this.compiled.get(t) as CompiledQuery | null;
    const src = this.topic.source;
    const db = this.topic.db;
    let q: CompiledQuery | null = null;
    if (src.kind === "stable") {
      const stable = t.stable as SuperTable;
      q = { where: src.where ? compileExpr(src.where, scopeFor(db, [], stable.tags, [t], this.serverVersion)) : null, outputs: [] };
    } else if (src.kind === "select") {
      const from = src.select.from as NonNullable<SelectStmt["from"]>;
      const stable = db.stables.get(from.name);
      const covered = stable ? t.stable === stable : t.name === from.name;
      if (covered) {
        const tags = stable ? stable.tags : [];
        const sc = scopeFor(db, t.columns, tags, [t], this.serverVersion);
        q = {
          where: src.select.where ? compileExpr(src.select.where, sc) : null,
          outputs: expandItems(src.select, t.columns, tags).map((it) => compileExpr(it.expr, sc)),
        };
      }
    }
    this.compiled.set(t, q);
    return q;
  }
}

function truthy(v: Value): boolean {
  return !(v === null || v === false || v === 0 || v === 0n);
}
