// Grouped SELECT: aggregates over one group, GROUP BY keys, PARTITION BY (tbname, tags, expressions) and
// INTERVAL windows with SLIDING and FILL, then HAVING. Output rows come per partition, windows ascending.
import { TdError } from "../errors.js";
import type { ResultColumn } from "../result.js";
import { T, type Value } from "../types.js";
import type { Expr, SelectItem, SelectStmt } from "./ast.js";
import { aggFactory, type Accumulator, type AggFactory } from "./aggregates.js";
import { AGG_FUNCS, compileExpr, type Compiled, type GroupFrame, type Scope } from "./eval.js";
import { coerce } from "./values.js";
import { makeWindows, MAX_WINDOWS, type Windows } from "./windows.js";
import { zoneOf } from "./zone.js";

export interface GroupedInput {
  st: SelectStmt;
  items: SelectItem[];
  sc: Scope;
  src: Uint32Array;
  row: Uint32Array;
  /** WHERE's bounds on the primary timestamp, [lo, hi): the range FILL covers. */
  range: { lo: bigint | null; hi: bigint | null };
}

export interface GroupedOutput {
  columns: ResultColumn[];
  rows: Value[][];
}

/** Replace aggregate calls by aggref slots, collecting their factories in order of appearance. */
function rewrite(e: Expr, sc: Scope, tsOf: (s: number, p: number) => bigint, aggs: AggFactory[]): Expr {
  switch (e.k) {
    case "func":
      if (AGG_FUNCS.has(e.name)) {
        aggs.push(aggFactory(e.name, e.args, e.star, sc, tsOf));
        return { k: "aggref", i: aggs.length - 1 };
      }
      return { ...e, args: e.args.map((a) => rewrite(a, sc, tsOf, aggs)) };
    case "bin":
      return { ...e, l: rewrite(e.l, sc, tsOf, aggs), r: rewrite(e.r, sc, tsOf, aggs) };
    case "not":
    case "neg":
      return { ...e, e: rewrite(e.e, sc, tsOf, aggs) };
    case "isnull":
      return { ...e, e: rewrite(e.e, sc, tsOf, aggs) };
    case "between":
      return { ...e, e: rewrite(e.e, sc, tsOf, aggs), lo: rewrite(e.lo, sc, tsOf, aggs), hi: rewrite(e.hi, sc, tsOf, aggs) };
    case "in":
      return { ...e, e: rewrite(e.e, sc, tsOf, aggs), list: e.list.map((x) => rewrite(x, sc, tsOf, aggs)) };
    case "like":
      return { ...e, e: rewrite(e.e, sc, tsOf, aggs), pattern: rewrite(e.pattern, sc, tsOf, aggs) };
    default:
      return e;
  }
}

interface Partition {
  /** A representative row (source, physical row): keys, tbname and tags are read from it. */
  s: number;
  p: number;
  /** Accumulators per window start (or the single group when there is no INTERVAL). */
  windows: Map<bigint, Accumulator[]>;
}

const NO_WINDOW = -1n;

export function groupedSelect(inp: GroupedInput): GroupedOutput {
  const { st, sc, src, row } = inp;
  const tsCol = sc.columns[0]?.type === T.TIMESTAMP ? sc.sources.map((t) => t.cols[0].i64) : null;
  const tsOf = (s: number, p: number): bigint => (tsCol && tsCol[s] ? (tsCol[s] as BigInt64Array)[p] : BigInt(p));
  const aggs: AggFactory[] = [];
  const frame: GroupFrame = { values: [], types: [], window: null };
  const gsc: Scope = { ...sc, group: frame };
  const rewritten = inp.items.map((it) => rewrite(it.expr, sc, tsOf, aggs));
  const havingExpr = st.having ? rewrite(st.having, sc, tsOf, aggs) : null;
  frame.types = aggs.map((a) => a.meta);
  const outputs: Compiled[] = rewritten.map((e) => compileExpr(e, gsc));
  const having = havingExpr ? compileExpr(havingExpr, gsc).fn : null;

  // Partition keys: PARTITION BY, else GROUP BY. Keys made only of tbname/tags are computed once per source.
  const keySource = st.partitionBy.length ? st.partitionBy : st.groupBy;
  const keyExprs = keySource.map((e) => compileExpr(e, sc));
  checkGrouping([...rewritten, ...(havingExpr ? [havingExpr] : [])], keySource, keyExprs, aggs, inp.items, sc.tags.map((t) => t.name));
  const perSource = keyExprs.every((k) => k.isTbname || k.tagIdx !== undefined);
  const sourceKey = new Map<number, string>();
  const keyOf = (s: number, p: number): string => {
    if (keyExprs.length === 0) return "";
    if (perSource) {
      let k = sourceKey.get(s);
      if (k === undefined) sourceKey.set(s, (k = keyText(keyExprs.map((c) => c.fn(s, p)))));
      return k;
    }
    return keyText(keyExprs.map((c) => c.fn(s, p)));
  };

  let windows: Windows | null = null;
  if (st.interval) {
    if (!tsCol) throw new TdError(0x2600, "syntax error near \"interval\" (the query has no primary timestamp column)");
    windows = makeWindows(st.interval, sc.precision, sc.zone ?? zoneOf(null));
  }
  const partitions = new Map<string, Partition>();
  const fresh = (): Accumulator[] => aggs.map((a) => a.create());
  let minTs: bigint | null = null;
  let maxTs: bigint | null = null;
  for (let i = 0; i < row.length; i++) {
    const s = src[i];
    const p = row[i];
    const key = keyOf(s, p);
    let part = partitions.get(key);
    if (!part) partitions.set(key, (part = { s, p, windows: new Map() }));
    if (!windows) {
      let accs = part.windows.get(NO_WINDOW);
      if (!accs) part.windows.set(NO_WINDOW, (accs = fresh()));
      for (const a of accs) a.step(s, p);
      continue;
    }
    const ts = tsOf(s, p);
    if (minTs === null || ts < minTs) minTs = ts;
    if (maxTs === null || ts > maxTs) maxTs = ts;
    for (const w of windows.startsFor(ts)) {
      let accs = part.windows.get(w);
      if (!accs) {
        if (part.windows.size >= MAX_WINDOWS) throw tooManyWindows();
        part.windows.set(w, (accs = fresh()));
      }
      for (const a of accs) a.step(s, p);
    }
  }
  // An aggregate over no rows at all still answers one row when it counts (COUNT(*) = 0), as TDengine does.
  if (partitions.size === 0 && !windows && keyExprs.length === 0 && inp.items.some((it) => it.expr.k === "func" && it.expr.name === "count")) {
    partitions.set("", { s: 0, p: 0, windows: new Map([[NO_WINDOW, fresh()]]) });
  }

  const rows: Value[][] = [];
  const emit = (part: Partition, values: Value[], window: { start: bigint; end: bigint } | null): void => {
    frame.values = values;
    frame.window = window;
    if (having) {
      const h = having(part.s, part.p);
      if (h === null || h === false || h === 0 || h === 0n) return;
    }
    rows.push(outputs.map((o) => o.fn(part.s, part.p)));
  };
  const fill = st.fill && st.fill.mode !== "none" ? st.fill : null;
  const fillValues = fill?.mode === "value" ? fillConstants(fill.values, aggs, sc) : null;
  // Filled windows of all partitions together: many partitions times a long range must not exhaust memory.
  let filled = 0;
  const fillLo = inp.range.lo ?? minTs;
  const fillHi = inp.range.hi ?? (maxTs === null ? null : maxTs + 1n);
  if (fill && windows && fillLo !== null && fillHi !== null && fillLo < fillHi && partitions.size * windows.approxCount(fillLo, fillHi) > MAX_WINDOWS) throw tooManyWindows();
  for (const part of partitions.values()) {
    if (!windows) {
      const accs = part.windows.get(NO_WINDOW) as Accumulator[];
      emit(part, accs.map((a) => a.result()), null);
      continue;
    }
    const w = windows;
    const real = [...part.windows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([start, accs]) => ({ start, values: accs.map((a) => a.result()) }));
    if (!fill) {
      for (const r of real) emit(part, r.values, { start: r.start, end: w.endOf(r.start) });
      continue;
    }
    const lo = fillLo;
    const hi = fillHi;
    if (lo === null || hi === null || lo >= hi) continue;
    const byStart = new Map(real.map((r, i) => [r.start, i]));
    let prev: Value[] | null = null;
    for (let start = w.startsFor(lo)[0]; start < hi; start = w.next(start)) {
      if (++filled > MAX_WINDOWS) throw tooManyWindows();
      const window = { start, end: w.endOf(start) };
      const k = byStart.get(start);
      if (k !== undefined) {
        prev = real[k].values;
        emit(part, prev, window);
        continue;
      }
      let values: Value[];
      switch (fill.mode) {
        case "null":
          values = aggs.map(() => null);
          break;
        case "value":
          values = fillValues as Value[];
          break;
        case "prev":
          values = prev ?? aggs.map(() => null);
          break;
        case "next": {
          const nx = real.find((r) => r.start > start);
          values = nx ? nx.values : aggs.map(() => null);
          break;
        }
        default:
          values = linear(real, start, aggs);
      }
      if (fill.mode === "prev") prev = values;
      emit(part, values, window);
    }
  }
  const columns: ResultColumn[] = outputs.map((o, i) => ({ name: inp.items[i].label, type: o.type, length: o.length, decPrecision: o.decPrecision, decScale: o.decScale }));
  return { columns, rows };
}

const SELECTION = new Set(["min", "max", "first", "last", "last_row"]);

/**
 * Outside aggregates, a grouped query may only show window pseudo columns, its PARTITION BY / GROUP BY keys and,
 * when partitioned by tbname, tbname and tags (TDengine: "Not a single-group group function"); a lone selection
 * function (max, last, ...) lets other columns through, as TDengine does.
 */
function checkGrouping(exprs: Expr[], keys: Expr[], keyExprs: Compiled[], aggs: AggFactory[], items: SelectItem[], tagNames: string[]): void {
  const allowed = new Set(["_wstart", "_wend", "_wduration"]);
  for (const k of keys) if (k.k === "col") allowed.add(k.name);
  // Partitioned by tbname: one subtable per group, so its name and tags are single-valued.
  if (keyExprs.some((k) => k.isTbname)) for (const n of ["tbname", ...tagNames]) allowed.add(n);
  const lone = aggs.length === 1 && items.some((it) => it.expr.k === "func" && SELECTION.has(it.expr.name));
  const visit = (e: Expr): void => {
    switch (e.k) {
      case "col":
        if (!allowed.has(e.name) && !lone) throw new TdError(0x260c, "Not a single-group group function");
        return;
      case "func":
        return e.args.forEach(visit);
      case "bin":
        visit(e.l);
        return visit(e.r);
      case "not":
      case "neg":
      case "isnull":
        return visit(e.e);
      case "between":
        return [e.e, e.lo, e.hi].forEach(visit);
      case "in":
        return [e.e, ...e.list].forEach(visit);
      case "like":
        visit(e.e);
        return visit(e.pattern);
      default:
        return;
    }
  };
  exprs.forEach(visit);
}

function tooManyWindows(): TdError {
  return new TdError(0x2600, `syntax error near "interval" (more than ${MAX_WINDOWS} windows: narrow the time range)`);
}

function keyText(vals: Value[]): string {
  return vals.map((v) => (v === null ? "\u0000" : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : typeof v + ":" + String(v))).join("\u0001");
}

/** FILL(VALUE, v1, v2, ...): one constant per aggregate, converted to its result type. */
function fillConstants(exprs: Expr[], aggs: AggFactory[], sc: Scope): Value[] {
  return aggs.map((a, i) => {
    const e = exprs[Math.min(i, exprs.length - 1)];
    const v = compileExpr(e, sc).fn(0, 0);
    return coerce(v, { name: "fill", type: a.meta.type, bytes: a.meta.length, decPrecision: a.meta.decPrecision, decScale: a.meta.decScale }, sc.precision, sc.zone);
  });
}

/** FILL(LINEAR): each aggregate interpolated between the nearest real windows before and after, by window start. */
function linear(real: { start: bigint; values: Value[] }[], start: bigint, aggs: AggFactory[]): Value[] {
  let before: { start: bigint; values: Value[] } | null = null;
  let after: { start: bigint; values: Value[] } | null = null;
  for (const r of real) {
    if (r.start < start) before = r;
    else if (r.start > start) {
      after = r;
      break;
    }
  }
  return aggs.map((a, i) => {
    if (!before || !after) return null;
    const y0 = before.values[i];
    const y1 = after.values[i];
    if (y0 === null || y1 === null || typeof y0 === "string" || typeof y0 === "boolean" || y0 instanceof Uint8Array) return null;
    const x = Number(start - before.start) / Number(after.start - before.start);
    const y = Number(y0) + (Number(y1) - Number(y0)) * x;
    const t = a.meta.type;
    if (t === T.BIGINT || t === T.UBIGINT || t === T.TIMESTAMP) return BigInt(Math.trunc(y));
    if (t === T.TINYINT || t === T.SMALLINT || t === T.INT || t === T.UTINYINT || t === T.USMALLINT || t === T.UINT) return Math.trunc(y);
    if (t === T.FLOAT) return Math.fround(y);
    return y;
  });
}
