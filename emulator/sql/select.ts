// SELECT: projection of columns/tags/tbname/expressions, WHERE, ORDER BY, LIMIT/OFFSET, and aggregates without
// windows. Rows are collected as (source, physical row) index pairs so large scans never box whole rows.
import { CODE, notSupported, TdError } from "../errors.js";
import { groupedSelect } from "./grouped.js";
import { systemTable } from "./system-tables.js";
import { ValuesResult, type FixedSource, type ResultColumn, type ResultSet } from "../result.js";
import type { TableData } from "../store/table.js";
import { TableData as TableDataClass } from "../store/table.js";
import { T, type ColumnDef, type Precision, type Value } from "../types.js";
import type { Expr, SelectItem, SelectStmt } from "./ast.js";
import { resolveDb, sessionZone, type EngineContext } from "./context.js";
import { cmp, compileExpr, containsAgg, type Compiled, type Scope } from "./eval.js";
import { nowIn, parseTimestampString } from "./time.js";

class U32Builder {
  a = new Uint32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  take(): Uint32Array {
    return this.a.subarray(0, this.n);
  }
}

/** Output rows as references (source, physical row) into tables; fixed-width plain columns copy as bytes. */
export class RefResult implements ResultSet {
  constructor(
    readonly columns: ResultColumn[],
    readonly precision: Precision,
    private readonly outputs: Compiled[],
    private readonly sources: TableData[],
    private readonly src: Uint32Array | null,
    private readonly row: Uint32Array,
  ) {}
  get rowCount(): number {
    return this.row.length;
  }
  value(c: number, r: number): Value {
    return this.outputs[c].fn(this.src ? this.src[r] : 0, this.row[r]);
  }
  fixed(c: number): FixedSource | null {
    const o = this.outputs[c];
    if (o.colIdx === undefined) return null;
    const ci = o.colIdx;
    if (this.sources.length === 0 || !this.sources[0].cols[ci].size) return null;
    return { stores: this.sources.map((t) => t.cols[ci]), src: this.src, row: this.row };
  }
}

function virtualTable(name: string, columns: ColumnDef[], rows: Value[][]): TableData {
  const t = new TableDataClass(name, columns, null, [], 0, 0);
  t.unordered = true;
  for (const r of rows) t.appendRaw(r);
  return t;
}

/** Rows of a result set as a virtual table, so an outer query can read a subquery in FROM. */
function materialize(rs: ResultSet): TableData {
  const columns: ColumnDef[] = rs.columns.map((c) => ({ name: c.name, type: c.type, bytes: c.length, decPrecision: c.decPrecision, decScale: c.decScale }));
  const rows: Value[][] = [];
  for (let r = 0; r < rs.rowCount; r++) rows.push(columns.map((_, c) => rs.value(c, r)));
  const t = virtualTable("subquery", columns, rows);
  // A subquery whose first column is a timestamp in ascending order is time-ordered: INTERVAL may run over it.
  if (columns[0]?.type === T.TIMESTAMP) {
    let sorted = true;
    for (let i = 1; sorted && i < rows.length; i++) if ((rows[i][0] as bigint) < (rows[i - 1][0] as bigint) || rows[i][0] === null) sorted = false;
    t.unordered = !sorted;
  }
  return t;
}

interface From {
  sources: TableData[];
  columns: ColumnDef[];
  tags: ColumnDef[];
  precision: Precision;
  isStable: boolean;
}

function resolveFrom(st: SelectStmt, ctx: EngineContext, params: Value[] | null): From {
  if (st.fromSub) {
    const inner = execSelect(st.fromSub, ctx, params);
    const t = materialize(inner);
    return { sources: [t], columns: t.columns, tags: [], precision: inner.precision, isStable: false };
  }
  const from = st.from as NonNullable<SelectStmt["from"]>;
  const dbName = from.db ?? ctx.session.db ?? undefined;
  if (dbName === "information_schema" || dbName === "performance_schema") {
    const sys = systemTable(ctx, from.name);
    return { sources: [virtualTable(from.name, sys.columns, sys.rows)], columns: sys.columns, tags: [], precision: "ms", isStable: false };
  }
  const db = resolveDb(ctx, from.db);
  const stable = db.stables.get(from.name);
  if (stable) return { sources: [...stable.children.values()], columns: stable.columns, tags: stable.tags, precision: db.precision, isStable: true };
  const t = db.tables.get(from.name);
  if (!t) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${from.name}`);
  return { sources: [t], columns: t.columns, tags: t.stable ? t.stable.tags : [], precision: db.precision, isStable: false };
}

export function execSelect(st: SelectStmt, ctx: EngineContext, params: Value[] | null): ResultSet {
  if (!st.from && !st.fromSub) return selectNoFrom(st, ctx, params);
  const { sources, columns, tags, precision, isStable } = resolveFrom(st, ctx, params);
  const sc: Scope = { precision, columns, tags, sources, params, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(precision), zone: sessionZone(ctx) };

  // expand * (super table: columns then tags; child/normal table: columns only); first(*)/last(*)/last_row(*)
  // give one output per column
  const items: SelectItem[] = [];
  for (const it of st.items) {
    const e = it.expr;
    if (e.k === "star") {
      for (const c of columns) items.push({ expr: { k: "col", name: c.name }, label: c.name, hasAlias: false });
      if (isStable) for (const c of tags) items.push({ expr: { k: "col", name: c.name }, label: c.name, hasAlias: false });
    } else if (e.k === "func" && e.star && e.name !== "count") {
      for (const c of columns) items.push({ expr: { k: "func", name: e.name, args: [{ k: "col", name: c.name }], star: false }, label: `${e.name}(${c.name})`, hasAlias: false });
    } else items.push(it);
  }

  const where = st.where ? compileExpr(st.where, sc) : null;
  if (where && where.isConst && st.where && containsAgg(st.where)) throw new TdError(0x2608, "There mustn't be aggregation");
  const range = st.where ? tsRange(st.where, sc) : { lo: null, hi: null, exact: true };
  const grouped = items.some((it) => containsAgg(it.expr)) || st.orderBy.some((o) => containsAgg(o.expr)) || !!st.having || !!st.interval || st.groupBy.length > 0;
  // A WHERE made only of bounds on the primary timestamp is answered by the sorted runs' bounds alone: no
  // per-row predicate (unordered sources are scanned whole, so they still need it).
  const pred = where && !(range.exact && sources.every((t) => !t.unordered)) ? where.fn : null;
  if (grouped && !pred && isCountOnly(st, items)) {
    // COUNT(*) over a time range (tdengine-poll's lookback check, dashboards' counters): the sum of each source's
    // bounds, as TDengine answers it from block statistics, instead of visiting every row.
    const out = groupedSelect({ st, items, sc, src: new Uint32Array(0), row: new Uint32Array(0), range });
    let n = 0;
    for (const t of sources) {
      const [from, to] = bounds(t, range);
      n += Math.max(0, to - from);
    }
    out.rows[0][0] = typeof out.rows[0][0] === "bigint" ? BigInt(n) : n;
    return finish(st, out.columns, out.rows, resolveOrder(st, items), precision);
  }

  // Time-ordered reads (ORDER BY ts [LIMIT n]) merge the subtables' sorted runs and stop at the limit.
  const tsOrder = !grouped && !st.distinct && st.partitionBy.length === 0 ? timeOrder(st, items, sc) : null;
  let src: Uint32Array;
  let row: Uint32Array;
  if (tsOrder) {
    const need = st.limit === undefined ? Infinity : (st.offset ?? 0) + st.limit;
    ({ src, row } = mergeScan(sources, range, pred, tsOrder.desc, need));
  } else ({ src, row } = scan(sources, range, pred));

  if (grouped) {
    const order = resolveOrder(st, items);
    const out = groupedSelect({ st, items: order.items, sc, src, row, range });
    return finish(st, out.columns, out.rows, order, precision);
  }
  const outputs = items.map((it) => compileExpr(it.expr, sc));
  const meta: ResultColumn[] = outputs.map((o, i) => ({ name: items[i].label, type: o.type, length: o.length, decPrecision: o.decPrecision, decScale: o.decScale }));
  if (st.partitionBy.length) ({ src, row } = byPartition(st, sc, src, row));
  if (st.distinct) {
    const rows: Value[][] = [];
    for (let i = 0; i < row.length; i++) rows.push(outputs.map((o) => o.fn(src[i], row[i])));
    const order = resolveOrder(st, items);
    if (order.items.length > items.length) throw notSupported("ORDER BY an expression not in a DISTINCT select list");
    return finish(st, meta, rows, order, precision);
  }
  if (st.orderBy.length && !tsOrder) {
    const perm = orderPermutation(st, items, sc, src, row);
    if (perm) {
      src = perm.map((i) => src[i]);
      row = perm.map((i) => row[i]);
    }
  }
  const off = st.offset ?? 0;
  const lim = st.limit ?? Infinity;
  if (off > 0 || lim < row.length) {
    const end = Math.min(row.length, off + lim);
    src = src.subarray(Math.min(off, row.length), end);
    row = row.subarray(Math.min(off, row.length), end);
  }
  return new RefResult(meta, precision, outputs, sources, sources.length > 1 ? src : null, row);
}

type RowPred = ((s: number, p: number) => Value) | null;

function passes(pred: RowPred, s: number, p: number): boolean {
  if (!pred) return true;
  const v = pred(s, p);
  return !(v === null || v === false || v === 0);
}

/** Every matching row, source by source (each source's rows in timestamp order). */
function scan(sources: TableData[], range: { lo: bigint | null; hi: bigint | null }, pred: RowPred): { src: Uint32Array; row: Uint32Array } {
  const srcB = new U32Builder();
  const rowB = new U32Builder();
  for (let s = 0; s < sources.length; s++) {
    const t = sources[s];
    const [from, to] = bounds(t, range);
    for (let i = from; i < to; i++) {
      const p = t.head + i;
      if (!passes(pred, s, p)) continue;
      srcB.push(s);
      rowB.push(p);
    }
  }
  return { src: srcB.take(), row: rowB.take() };
}

function bounds(t: TableData, range: { lo: bigint | null; hi: bigint | null }): [number, number] {
  if (t.unordered) return [0, t.rowCount];
  return [range.lo !== null ? t.lowerBound(range.lo) : 0, range.hi !== null ? t.lowerBound(range.hi) : t.rowCount];
}

/** ORDER BY <primary timestamp> [ASC|DESC] alone, on time-ordered sources: the order a k-way merge gives. */
function timeOrder(st: SelectStmt, items: SelectItem[], sc: Scope): { desc: boolean } | null {
  if (st.orderBy.length !== 1 || sc.columns[0]?.type !== T.TIMESTAMP || sc.sources.some((t) => t.unordered)) return null;
  let e = st.orderBy[0].expr;
  if (e.k === "num" && /^\d+$/.test(e.v)) e = items[Number(e.v) - 1]?.expr ?? e;
  else if (e.k === "col") {
    const name = e.name;
    const alias = items.find((it) => it.hasAlias && it.label === name);
    if (alias) e = alias.expr;
  }
  if (e.k !== "col" || e.name !== sc.columns[0].name) return null;
  return { desc: st.orderBy[0].desc };
}

/**
 * Rows of all sources in timestamp order (ties: source order), stopping once `need` rows matched: a k-way merge
 * over each source's sorted timestamps, so `WHERE ts > ? ORDER BY ts LIMIT n` costs O(n log k), not a sort of every
 * remaining row.
 */
function mergeScan(sources: TableData[], range: { lo: bigint | null; hi: bigint | null }, pred: RowPred, desc: boolean, need: number): { src: Uint32Array; row: Uint32Array } {
  const srcB = new U32Builder();
  const rowB = new U32Builder();
  if (need <= 0) return { src: srcB.take(), row: rowB.take() };
  const pos: number[] = [];
  const end: number[] = [];
  const heap: number[] = [];
  const ts = sources.map((t) => t.cols[0].i64 as BigInt64Array);
  for (let s = 0; s < sources.length; s++) {
    const t = sources[s];
    const [from, to] = bounds(t, range);
    pos.push(desc ? t.head + to - 1 : t.head + from);
    end.push(desc ? t.head + from - 1 : t.head + to);
    if (from < to) heap.push(s);
  }
  const before = (a: number, b: number): boolean => {
    const x = ts[a][pos[a]];
    const y = ts[b][pos[b]];
    return x === y ? a < b : desc ? x > y : x < y;
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const step = desc ? -1 : 1;
  while (heap.length && rowB.n < need) {
    const s = heap[0];
    const p = pos[s];
    if (passes(pred, s, p)) {
      srcB.push(s);
      rowB.push(p);
    }
    pos[s] = p + step;
    if (pos[s] === end[s]) {
      const last = heap.pop() as number;
      if (heap.length) heap[0] = last;
    }
    if (heap.length) down(0);
  }
  return { src: srcB.take(), row: rowB.take() };
}

/** PARTITION BY without aggregates: the rows, grouped by partition in order of first appearance. */
function byPartition(st: SelectStmt, sc: Scope, src: Uint32Array, row: Uint32Array): { src: Uint32Array; row: Uint32Array } {
  const keys = st.partitionBy.map((e) => compileExpr(e, sc).fn);
  const ids = new Map<string, number>();
  const part = new Uint32Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const k = keys.map((f) => String(f(src[i], row[i]))).join("\u0001");
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    part[i] = id;
  }
  const perm = Uint32Array.from(row.keys()).sort((a, b) => part[a] - part[b] || a - b);
  return { src: perm.map((i) => src[i]), row: perm.map((i) => row[i]) };
}

interface OrderPlan {
  /** The select items plus hidden ones for ORDER BY expressions that are not selected. */
  items: SelectItem[];
  keys: { col: number; desc: boolean }[];
  visible: number;
}

/** ORDER BY of a grouped or DISTINCT result: by position, alias/label, the same expression, or a hidden column. */
function resolveOrder(st: SelectStmt, items: SelectItem[]): OrderPlan {
  const all = items.slice();
  const same = (a: Expr, b: Expr): boolean => JSON.stringify(a, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) === JSON.stringify(b, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  const keys = st.orderBy.map((o) => {
    const e = o.expr;
    let col = -1;
    if (e.k === "num" && /^\d+$/.test(e.v)) {
      col = Number(e.v) - 1;
      if (col < 0 || col >= items.length) throw new TdError(0x2609, "ORDER BY item must be the number of a SELECT-list expression");
    } else {
      if (e.k === "col") col = items.findIndex((it) => it.label === e.name);
      if (col < 0) col = items.findIndex((it) => same(it.expr, e));
      if (col < 0) {
        all.push({ expr: e, label: `_order_${all.length}`, hasAlias: true });
        col = all.length - 1;
      }
    }
    return { col, desc: o.desc };
  });
  return { items: all, keys, visible: items.length };
}

/** DISTINCT, ORDER BY, LIMIT/OFFSET over materialized rows; hidden ORDER BY columns are dropped at the end. */
function finish(st: SelectStmt, columns: ResultColumn[], rows: Value[][], order: OrderPlan, precision: Precision): ResultSet {
  if (st.distinct) {
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const k = r.slice(0, order.visible).map((v) => (v === null ? "\u0000" : typeof v + String(v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v))).join("\u0001");
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (order.keys.length) {
    const idx = rows.map((_, i) => i);
    idx.sort((a, b) => {
      for (const k of order.keys) {
        const x = rows[a][k.col];
        const y = rows[b][k.col];
        let c: number;
        if (x === null || y === null) c = x === y ? 0 : x === null ? -1 : 1;
        else {
          c = cmp(x, y);
          if (c !== c) c = 0;
        }
        if (c !== 0) return k.desc ? -c : c;
      }
      return a - b;
    });
    rows = idx.map((i) => rows[i]);
  }
  const off = st.offset ?? 0;
  rows = rows.slice(off, st.limit === undefined ? undefined : off + st.limit);
  if (order.visible < columns.length) {
    columns = columns.slice(0, order.visible);
    rows = rows.map((r) => r.slice(0, order.visible));
  }
  return new ValuesResult(columns, rows, precision);
}

/**
 * Extract a [lo, hi) ts range from top-level AND conjuncts on the primary timestamp column; `exact` when every
 * conjunct was such a bound, so the range alone decides which rows match.
 */
function tsRange(e: Expr, sc: Scope): { lo: bigint | null; hi: bigint | null; exact: boolean } {
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  let exact = true;
  const tsName = sc.columns[0]?.type === T.TIMESTAMP ? sc.columns[0].name : null;
  const visit = (x: Expr): void => {
    if (x.k === "bin" && x.op === "and") {
      visit(x.l);
      visit(x.r);
      return;
    }
    if (!tsName) {
      exact = false;
      return;
    }
    const bound = (colSide: Expr, other: Expr): bigint | null => {
      if (colSide.k !== "col" || colSide.name !== tsName) return null;
      try {
        const o = compileExpr(other, sc);
        if (!o.isConst) return null;
        let v = o.fn(0, 0);
        if (typeof v === "string") v = /^[+-]?\d+$/.test(v.trim()) ? BigInt(v.trim()) : parseTimestampString(v, sc.precision, sc.zone);
        // A fractional bound narrows nothing (rounding differs per operator); the row predicate decides.
        if (typeof v === "number") v = Number.isInteger(v) ? BigInt(v) : null;
        return typeof v === "bigint" ? v : null;
      } catch {
        return null;
      }
    };
    const setLo = (v: bigint): void => {
      if (lo === null || v > lo) lo = v;
    };
    const setHi = (v: bigint): void => {
      if (hi === null || v < hi) hi = v;
    };
    if (x.k === "bin" && [">", ">=", "<", "<=", "="].includes(x.op)) {
      let op = x.op;
      let v = bound(x.l, x.r);
      if (v === null) {
        v = bound(x.r, x.l);
        if (v === null) {
          exact = false;
          return;
        }
        op = op === ">" ? "<" : op === "<" ? ">" : op === ">=" ? "<=" : op === "<=" ? ">=" : op;
      }
      if (op === ">") setLo(v + 1n);
      else if (op === ">=") setLo(v);
      else if (op === "<") setHi(v);
      else if (op === "<=") setHi(v + 1n);
      else {
        setLo(v);
        setHi(v + 1n);
      }
    } else if (x.k === "between" && !x.not) {
      const a = bound(x.e, x.lo);
      const b = bound(x.e, x.hi);
      if (a !== null && b !== null) {
        setLo(a);
        setHi(b + 1n);
      } else exact = false;
    } else exact = false;
  };
  visit(e);
  return { lo, hi, exact };
}

/** `SELECT COUNT(*)` (or COUNT(1)) alone: no grouping, windows, HAVING, ordering or paging to apply. */
function isCountOnly(st: SelectStmt, items: SelectItem[]): boolean {
  if (items.length !== 1 || st.groupBy.length || st.partitionBy.length || st.interval || st.having || st.distinct || st.orderBy.length) return false;
  if (st.limit !== undefined || st.offset !== undefined || st.fill) return false;
  const e = items[0].expr;
  return e.k === "func" && e.name === "count" && (e.star || (e.args.length === 1 && e.args[0].k === "num"));
}

function orderPermutation(st: SelectStmt, items: SelectItem[], sc: Scope, src: Uint32Array, row: Uint32Array): Uint32Array | null {
  const n = row.length;
  const keys = st.orderBy.map((o) => {
    let e = o.expr;
    if (e.k === "num" && /^\d+$/.test(e.v)) {
      const k = Number(e.v) - 1;
      if (k < 0 || k >= items.length) throw new TdError(0x2609, "ORDER BY item must be the number of a SELECT-list expression");
      e = items[k].expr;
    } else if (e.k === "col") {
      const name = e.name;
      const alias = items.find((it) => it.hasAlias && it.label === name);
      if (alias) e = alias.expr;
    }
    return { c: compileExpr(e, sc), desc: o.desc };
  });
  // Fast path: ORDER BY ts on a single table is the storage order.
  if (keys.length === 1 && keys[0].c.colIdx === 0 && sc.sources.length <= 1 && sc.columns[0].type === T.TIMESTAMP) {
    if (!keys[0].desc) return null;
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = n - 1 - i;
    return perm;
  }
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (keys.length === 1 && keys[0].c.colIdx === 0 && sc.columns[0].type === T.TIMESTAMP) {
    const k = new BigInt64Array(n);
    const stores = sc.sources.map((t) => t.cols[0].i64 as BigInt64Array);
    for (let i = 0; i < n; i++) k[i] = stores[src[i]][row[i]];
    const d = keys[0].desc;
    perm.sort((a, b) => {
      const x = k[a];
      const y = k[b];
      return x < y ? (d ? 1 : -1) : x > y ? (d ? -1 : 1) : 0;
    });
    return perm;
  }
  const vals = keys.map((k) => {
    const arr: Value[] = new Array(n);
    for (let i = 0; i < n; i++) arr[i] = k.c.fn(src[i], row[i]);
    return arr;
  });
  perm.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const x = vals[j][a];
      const y = vals[j][b];
      let c: number;
      // NULLs first in ascending order, last in descending (TDengine default)
      if (x === null || y === null) c = x === y ? 0 : x === null ? -1 : 1;
      else {
        c = cmp(x, y);
        if (c !== c) c = 0;
      }
      if (c !== 0) return keys[j].desc ? -c : c;
    }
    return 0;
  });
  return perm;
}

function selectNoFrom(st: SelectStmt, ctx: EngineContext, params: Value[] | null): ResultSet {
  const precision: Precision = "ms";
  const sc: Scope = { precision, columns: [], tags: [], sources: [], params, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(precision), zone: sessionZone(ctx) };
  const outs = st.items.map((it) => {
    if (it.expr.k === "star") throw new TdError(0x2600, 'syntax error near "*"');
    if (containsAgg(it.expr)) throw new TdError(0x260c, "Not a single-group group function");
    return compileExpr(it.expr, sc);
  });
  const meta = outs.map((o, i) => ({ name: st.items[i].label, type: o.type, length: o.length }));
  let rows: Value[][] = [outs.map((o) => o.fn(0, 0))];
  if (st.where) {
    const w = compileExpr(st.where, sc).fn(0, 0);
    if (!w) rows = [];
  }
  if ((st.offset ?? 0) > 0 || st.limit === 0) rows = rows.slice(st.offset ?? 0, (st.offset ?? 0) + (st.limit ?? 1));
  return new ValuesResult(meta, rows, precision);
}
