// SELECT: projection of columns/tags/tbname/expressions, WHERE, ORDER BY, LIMIT/OFFSET, and aggregates without
// windows. Rows are collected as (source, physical row) index pairs so large scans never box whole rows.
import { CODE, notSupported, TdError } from "../errors.js";
import { ValuesResult, type FixedSource, type ResultColumn, type ResultSet } from "../result.js";
import type { TableData } from "../store/table.js";
import { TableData as TableDataClass } from "../store/table.js";
import { T, type ColumnDef, type Precision, type Value } from "../types.js";
import type { Expr, SelectItem, SelectStmt } from "./ast.js";
import { resolveDb, sessionZone, type EngineContext } from "./context.js";
import { DATABASE_COLUMNS, databaseRows } from "./ddl.js";
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

class RefResult implements ResultSet {
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

function virtualTable(columns: ColumnDef[], rows: Value[][]): TableData {
  const t = new TableDataClass("ins_databases", columns, null, [], 0, 0);
  for (const r of rows) t.appendRaw(r);
  return t;
}

export function execSelect(st: SelectStmt, ctx: EngineContext, params: Value[] | null): ResultSet {
  if (!st.from) return selectNoFrom(st, ctx, params);
  let sources: TableData[];
  let columns: ColumnDef[];
  let tags: ColumnDef[] = [];
  let precision: Precision = "ms";
  let isStable = false;
  const dbName = st.from.db ?? ctx.session.db ?? undefined;
  if (dbName === "information_schema") {
    if (st.from.name !== "ins_databases") throw notSupported(`information_schema.${st.from.name} in the emulator`);
    columns = DATABASE_COLUMNS.map((c) => ({ name: c.name, type: c.type, bytes: c.length }));
    sources = [virtualTable(columns, databaseRows(ctx))];
  } else {
    const db = resolveDb(ctx, st.from.db);
    precision = db.precision;
    const stable = db.stables.get(st.from.name);
    if (stable) {
      isStable = true;
      sources = [...stable.children.values()];
      columns = stable.columns;
      tags = stable.tags;
    } else {
      const t = db.tables.get(st.from.name);
      if (!t) throw new TdError(CODE.TABLE_NOT_EXIST, `Table does not exist: ${st.from.name}`);
      sources = [t];
      columns = t.columns;
      tags = t.stable ? t.stable.tags : [];
    }
  }
  const sc: Scope = { precision, columns, tags, sources, params, currentDb: ctx.session.db, serverVersion: ctx.serverVersion, now: nowIn(precision), zone: sessionZone(ctx) };

  // expand * (super table: columns then tags; child/normal table: columns only)
  const items: SelectItem[] = [];
  for (const it of st.items) {
    if (it.expr.k === "star") {
      for (const c of columns) items.push({ expr: { k: "col", name: c.name }, label: c.name, hasAlias: false });
      if (isStable) for (const c of tags) items.push({ expr: { k: "col", name: c.name }, label: c.name, hasAlias: false });
    } else items.push(it);
  }

  // scan
  const where = st.where ? compileExpr(st.where, sc) : null;
  if (where && where.isConst && st.where && containsAgg(st.where)) throw new TdError(0x2608, "There mustn't be aggregation");
  const range = st.where ? tsRange(st.where, sc) : { lo: null, hi: null };
  const srcB = new U32Builder();
  const rowB = new U32Builder();
  const pred = where?.fn;
  for (let s = 0; s < sources.length; s++) {
    const t = sources[s];
    const isVirtual = t.columns[0]?.type !== T.TIMESTAMP;
    let from = 0;
    let to = t.rowCount;
    if (!isVirtual && range.lo !== null) from = t.lowerBound(range.lo);
    if (!isVirtual && range.hi !== null) to = t.lowerBound(range.hi);
    for (let i = from; i < to; i++) {
      const p = t.head + i;
      if (pred) {
        const v = pred(s, p);
        if (v === null || v === false || v === 0) continue;
      }
      srcB.push(s);
      rowB.push(p);
    }
  }
  let src = srcB.take();
  let row = rowB.take();

  if (items.some((it) => containsAgg(it.expr))) return aggregate(items, sc, src, row, st);

  const outputs = items.map((it) => compileExpr(it.expr, sc));
  const meta: ResultColumn[] = outputs.map((o, i) => ({ name: items[i].label, type: o.type, length: o.length, decPrecision: o.decPrecision, decScale: o.decScale }));

  if (st.orderBy.length) {
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

/** Extract a [lo, hi) ts range from top-level AND conjuncts on the primary timestamp column. */
function tsRange(e: Expr, sc: Scope): { lo: bigint | null; hi: bigint | null } {
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  const tsName = sc.columns[0]?.type === T.TIMESTAMP ? sc.columns[0].name : null;
  const visit = (x: Expr): void => {
    if (x.k === "bin" && x.op === "and") {
      visit(x.l);
      visit(x.r);
      return;
    }
    if (!tsName) return;
    const bound = (colSide: Expr, other: Expr): bigint | null => {
      if (colSide.k !== "col" || colSide.name !== tsName) return null;
      try {
        const o = compileExpr(other, sc);
        if (!o.isConst) return null;
        let v = o.fn(0, 0);
        if (typeof v === "string") v = /^[+-]?\d+$/.test(v.trim()) ? BigInt(v.trim()) : parseTimestampString(v, sc.precision, sc.zone);
        if (typeof v === "number") v = BigInt(Math.ceil(v));
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
        if (v === null) return;
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
      }
    }
  };
  visit(e);
  return { lo, hi };
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

// ---- aggregates without windows

interface Agg {
  label: string;
  meta: ResultColumn;
  step(s: number, p: number): void;
  result(): Value;
}

function aggregate(items: SelectItem[], sc: Scope, src: Uint32Array, row: Uint32Array, st: SelectStmt): ResultSet {
  const aggs: Agg[] = [];
  const tsOf = (s: number, p: number): bigint => (sc.sources[s].cols[0].i64 as BigInt64Array)[p];
  for (const it of items) {
    const e = it.expr;
    if (e.k !== "func" || !["count", "min", "max", "avg", "sum", "first", "last", "last_row"].includes(e.name)) {
      if (!containsAgg(e)) {
        const c = compileExpr(e, sc);
        if (!c.isConst) throw new TdError(0x260c, "Not a single-group group function");
        aggs.push({ label: it.label, meta: { name: it.label, type: c.type, length: c.length }, step() {}, result: () => c.fn(0, 0) });
        continue;
      }
      if (e.k === "func") throw notSupported(`function ${e.name} in the emulator`);
      throw notSupported("expressions over aggregates in the emulator");
    }
    if (e.star && e.name !== "count") {
      // first(*) / last(*) / last_row(*): one output per column
      for (const c of sc.columns) aggs.push(makeAgg(e.name, { k: "col", name: c.name }, `${e.name}(${c.name})`, sc, tsOf));
      continue;
    }
    if (e.name === "count" && (e.star || (e.args.length === 1 && e.args[0].k === "num"))) {
      let n = 0n;
      aggs.push({ label: it.label, meta: { name: it.label, type: T.BIGINT, length: 8 }, step() {
        n++;
      }, result: () => n });
      continue;
    }
    if (e.args.length !== 1) throw new TdError(0x2801, "Invalid function para number");
    aggs.push(makeAgg(e.name, e.args[0], it.label, sc, tsOf));
  }
  const hasCount = aggs.some((a) => a.meta.type === T.BIGINT && /^count\(/i.test(a.label));
  for (let i = 0; i < row.length; i++) {
    const s = src[i];
    const p = row[i];
    for (const a of aggs) a.step(s, p);
  }
  let rows: Value[][] = row.length === 0 && !hasCount ? [] : [aggs.map((a) => a.result())];
  if ((st.offset ?? 0) > 0 || st.limit === 0) rows = rows.slice(st.offset ?? 0, (st.offset ?? 0) + (st.limit ?? 1));
  return new ValuesResult(aggs.map((a) => a.meta), rows, sc.precision);
}

function makeAgg(fn: string, arg: Expr, label: string, sc: Scope, tsOf: (s: number, p: number) => bigint): Agg {
  const c = compileExpr(arg, sc);
  const f = c.fn;
  const same: ResultColumn = { name: label, type: c.type, length: c.length, decPrecision: c.decPrecision, decScale: c.decScale };
  const numeric = c.type !== T.VARCHAR && c.type !== T.NCHAR && c.type !== T.JSON && c.type !== T.VARBINARY && c.type !== T.GEOMETRY;
  switch (fn) {
    case "count": {
      let n = 0n;
      return { label, meta: { name: label, type: T.BIGINT, length: 8 }, step(s, p) {
        if (f(s, p) !== null) n++;
      }, result: () => n };
    }
    case "min":
    case "max": {
      if (!numeric) throw new TdError(0x2802, "Invalid function para type");
      let best: Value = null;
      const wantMax = fn === "max";
      return { label, meta: same, step(s, p) {
        const v = f(s, p);
        if (v === null) return;
        if (best === null || (wantMax ? cmp(v, best) > 0 : cmp(v, best) < 0)) best = v;
      }, result: () => best };
    }
    case "sum":
    case "avg": {
      if (!numeric || c.type === T.TIMESTAMP || c.type === T.BOOL) throw new TdError(0x2802, "Invalid function para type");
      if (c.type === T.DECIMAL || c.type === T.DECIMAL64) throw notSupported(`${fn} of DECIMAL in the emulator`);
      const isInt = c.type !== T.FLOAT && c.type !== T.DOUBLE && c.type !== T.DECIMAL && c.type !== T.DECIMAL64;
      const unsigned = c.type === T.UTINYINT || c.type === T.USMALLINT || c.type === T.UINT || c.type === T.UBIGINT;
      let bsum = 0n;
      let fsum = 0;
      let n = 0;
      const big = c.type === T.BIGINT || c.type === T.UBIGINT;
      const meta: ResultColumn = fn === "avg" ? { name: label, type: T.DOUBLE, length: 8 } : isInt ? { name: label, type: unsigned ? T.UBIGINT : T.BIGINT, length: 8 } : { name: label, type: T.DOUBLE, length: 8 };
      return { label, meta, step(s, p) {
        const v = f(s, p);
        if (v === null) return;
        n++;
        if (isInt && big) bsum += v as bigint;
        else fsum += Number(v);
      }, result: () => {
        if (n === 0) return null;
        if (fn === "avg") return (isInt && big ? Number(bsum) : fsum) / n;
        if (isInt) return big ? bsum : BigInt(fsum);
        return fsum;
      } };
    }
    default: {
      // first / last / last_row: ordered by the row timestamp
      const wantLast = fn !== "first";
      const skipNull = fn !== "last_row";
      let bestTs: bigint | null = null;
      let best: Value = null;
      return { label, meta: same, step(s, p) {
        const v = f(s, p);
        if (skipNull && v === null) return;
        const t = tsOf(s, p);
        if (bestTs === null || (wantLast ? t >= bestTs : t < bestTs)) {
          bestTs = t;
          best = v;
        }
      }, result: () => best };
    }
  }
}
