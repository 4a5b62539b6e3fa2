// Maps the rows of one message (msg.payload: a row object or an array of them) onto a super table: subtable
// name, tag values and column values in schema order, the timestamp read into an instant. Every rejected row
// gets a reason naming its index and field; the other rows of the message are unaffected.
//
// The hot path (mapBlock) writes the good rows column-major into one RowBlock per message: no object or array
// per row, tag arrays shared by the rows of a subtable, per-column checks chosen once per schema. At 10^6
// rows/s per-row garbage was the largest cost of the node.
import { hasOwnKey, isPrototypeName, ownValue } from "../own-property";
import { subtableNameProblem } from "./identifiers";
import type { FieldDef, TableSchema } from "./schema";
import { compileTemplate, fillTemplate, type TemplatePart } from "./template";
import { readInstant, type Instant, type NumberUnit } from "./timestamps";
import { TYPE } from "../tdengine/constants";
import { checkValue, Problem } from "./values";
import { compileFastRow, type FastRow } from "./fast-row";

export type SubtableRule = { mode: "field"; field: string } | { mode: "template"; template: string };

export interface MapOptions {
  /** Row field holding the timestamp (bound to the first, TIMESTAMP column). */
  tsField: string;
  /** How plain numbers are read: epoch in the database precision ("db") or in milliseconds ("ms"). */
  tsUnit: NumberUnit;
  subtable: SubtableRule;
  /** Reject rows with fields that are neither a column, a tag, the timestamp nor the subtable-name field. */
  strict: boolean;
}

export interface RowError {
  /** Index of the row in msg.payload (0 for a single-object payload). */
  index: number;
  /** The offending field, when one is to blame. */
  field?: string;
  reason: string;
}

export interface MappedRow {
  index: number;
  table: string;
  tags: unknown[];
  /** A plain number is an integer epoch in ms (the common case, kept allocation-free); else an Instant. */
  ts: Instant | number;
  /** Values of columns[1..] in schema order. */
  values: unknown[];
}

/**
 * One column of a block: numeric columns (integers up to 32 bits, FLOAT, DOUBLE) are Float64Arrays, which hold
 * each such value exactly and unboxed (NULLs in RowBlock.nulls); other types plain arrays holding null for NULL.
 * One typed kind for all keeps the writer's copying loops monomorphic; the encoder narrows them to the wire type.
 */
export type BlockColumn = unknown[] | Float64Array;

/**
 * The good rows of one message, column-major. Row i: index[i], tables[table[i]], tags[i], its timestamp
 * (exact?.[i] ?? ts[i]), and per column c: NULL when nulls[c]?.[i] === 1, else cols[c][i].
 */
export interface RowBlock {
  length: number;
  /** Index of each row in msg.payload. */
  index: Int32Array;
  /** The subtables of the block, each once. */
  tables: string[];
  /** Each row's subtable, as a position in `tables` (grouping rows by subtable then needs no lookup per row). */
  table: Int32Array;
  /** Tag values in schema order; rows of one subtable with equal tags share one array (never mutate it). */
  tags: unknown[][];
  /** Epoch ms (an integer) of each row, unless exact[i] holds its timestamp. */
  ts: Float64Array;
  /** Timestamps that are not a whole number of ms in ms (sub-ms, raw in the database precision); undefined when none. */
  exact: (Instant | undefined)[] | undefined;
  /** cols[c]: the values of columns[c + 1]. */
  cols: BlockColumn[];
  /** NULL marks of the typed columns; undefined for a column without NULL in this block. */
  nulls: (Uint8Array | undefined)[];
}

/** The column kind of a block for a field: true for a Float64Array, false for a plain array. */
function isNumeric(f: FieldDef): boolean {
  switch (f.type) {
    case TYPE.TINYINT:
    case TYPE.SMALLINT:
    case TYPE.INT:
    case TYPE.UTINYINT:
    case TYPE.USMALLINT:
    case TYPE.UINT:
    case TYPE.FLOAT:
    case TYPE.DOUBLE:
      return true;
    default:
      return false;
  }
}

/** Per-message overrides, as Node-RED users expect: msg.table names the subtable, msg.tags set tag values. */
export interface Overrides {
  table?: string;
  tags?: Record<string, unknown>;
}

/** Fast checks chosen once per field; anything they do not accept as-is goes through checkValue. */
const enum Quick {
  None,
  Finite,
  Float,
  Int32,
  Uint32,
  ShortVarchar,
}

const FLOAT_MAX = 3.4028234663852886e38;

function quickKind(f: FieldDef): Quick {
  switch (f.type) {
    case TYPE.DOUBLE:
      return Quick.Finite;
    case TYPE.FLOAT:
      return Quick.Float;
    case TYPE.INT:
      return Quick.Int32;
    case TYPE.UINT:
      return Quick.Uint32;
    case TYPE.VARCHAR:
      return Quick.ShortVarchar;
    default:
      return Quick.None;
  }
}

/** True when checkValue would return v itself (so the value can be bound without calling it). */
function quickOk(kind: Quick, v: unknown, length: number): boolean {
  switch (kind) {
    case Quick.Finite:
      return typeof v === "number" && v - v === 0;
    case Quick.Float:
      return typeof v === "number" && v - v === 0 && v <= FLOAT_MAX && v >= -FLOAT_MAX;
    case Quick.Int32:
      return typeof v === "number" && (v | 0) === v;
    case Quick.Uint32:
      return typeof v === "number" && v >>> 0 === v;
    case Quick.ShortVarchar:
      return typeof v === "string" && v.length * 3 <= length;
    default:
      return false;
  }
}

/** What the mapper remembers of a subtable: its (checked) name and the last tag array used for it. */
interface TableEntry {
  name: string;
  tags: unknown[] | undefined;
  /** The block (by number) that last used the entry, and the entry's position in that block's `tables`. */
  block: number;
  local: number;
}

const CACHE_MAX = 10000;

export class RowMapper {
  private readonly template: TemplatePart[] | undefined;
  private readonly known: Set<string>;
  private readonly columns: FieldDef[];
  private readonly tagDefs: FieldDef[];
  private readonly colQuick: Quick[];
  private readonly tagQuick: Quick[];
  /** Fields named like Object.prototype members ("constructor", "__proto__"...): read as own properties only. */
  private readonly colOwn: boolean[];
  private readonly tagOwn: boolean[];
  private readonly tsOwn: boolean;
  private readonly msNumbers: boolean;
  private readonly fieldMode: string | undefined;
  /** For each template field: the tag index to read it from, or -1 for a row field. */
  private readonly templateTags: Map<string, number>;
  /** Set when the template has one field (plus fixed text): names are then cached by that field's value. */
  private readonly singleField: string | undefined;
  private readonly singleTag: number;
  /** Subtables by name (field mode, msg.table and multi-field templates) and by template value. */
  private readonly byName = new Map<string, TableEntry>();
  private readonly byValue = new Map<unknown, TableEntry>();
  /** Tag values of the row being mapped (reused; copied only when a subtable's tags change). */
  private readonly scratch: unknown[];
  /** Reads and stores a row whose values all pass their checks and none is NULL. */
  private readonly fast: FastRow;
  private blocks = 0;
  /** How many columns[1..] a block holds in Float64Arrays. */
  private readonly numericCols: number;

  constructor(
    readonly schema: TableSchema,
    readonly opts: MapOptions,
  ) {
    this.template = opts.subtable.mode === "template" ? compileTemplate(opts.subtable.template) : undefined;
    this.columns = schema.columns.slice(1);
    this.tagDefs = schema.tags;
    this.colQuick = this.columns.map(quickKind);
    this.tagQuick = this.tagDefs.map(quickKind);
    this.colOwn = this.columns.map((c) => isPrototypeName(c.name));
    this.tagOwn = this.tagDefs.map((t) => isPrototypeName(t.name));
    this.tsOwn = isPrototypeName(opts.tsField);
    this.scratch = new Array<unknown>(this.tagDefs.length).fill(null);
    this.fast = compileFastRow(this.columns, this.tagDefs);
    this.numericCols = this.columns.filter(isNumeric).length;
    this.known = new Set([opts.tsField, ...this.columns.map((c) => c.name), ...schema.tags.map((t) => t.name)]);
    if (opts.subtable.mode === "field") this.known.add(opts.subtable.field);
    this.fieldMode = opts.subtable.mode === "field" ? opts.subtable.field : undefined;
    this.msNumbers = opts.tsUnit === "ms";
    this.templateTags = new Map();
    let single: string | undefined;
    let fields = 0;
    for (const p of this.template ?? []) {
      if (!("field" in p)) continue;
      fields++;
      single = p.field;
      this.templateTags.set(p.field, schema.tags.findIndex((t) => t.name === p.field));
    }
    this.singleField = fields === 1 ? single : undefined;
    this.singleTag = single === undefined ? -1 : (this.templateTags.get(single) ?? -1);
  }

  /** Row-per-object form of mapBlock (for callers that want one object per row). */
  map(payload: unknown, overrides: Overrides = {}): { rows: MappedRow[]; errors: RowError[] } {
    const { block, errors } = this.mapBlock(payload, overrides);
    const rows: MappedRow[] = [];
    for (let i = 0; i < block.length; i++) {
      const values = block.cols.map((col, c) => (block.nulls[c]?.[i] === 1 ? null : col[i]));
      rows.push({ index: block.index[i], table: block.tables[block.table[i]], tags: block.tags[i], ts: block.exact?.[i] ?? block.ts[i], values });
    }
    return { rows, errors };
  }

  /** Maps and checks every row of a message; good rows go column-major into the block, bad ones into errors. */
  mapBlock(payload: unknown, o: Overrides = {}): { block: RowBlock; errors: RowError[] } {
    const list: unknown[] = Array.isArray(payload) ? payload : [payload];
    const count = list.length;
    const ncols = this.columns.length;
    const ntags = this.tagDefs.length;
    // Sized for the whole message up front (no regrowth); rows past `length` (left by rejected rows) are never read.
    // The typed arrays share one buffer: one allocation per message instead of one per array.
    const numeric = this.numericCols;
    const buf = new ArrayBuffer(count * (8 * (1 + numeric) + 8));
    const f64 = (k: number): Float64Array => new Float64Array(buf, 8 * count * k, count);
    const i32 = (k: number): Int32Array => new Int32Array(buf, 8 * count * (1 + numeric) + 4 * count * k, count);
    let nextF64 = 1;
    const block: RowBlock = {
      length: 0,
      index: i32(0),
      tables: [],
      table: i32(1),
      tags: new Array<unknown[]>(count),
      ts: f64(0),
      exact: undefined,
      cols: this.columns.map((f) => (isNumeric(f) ? f64(nextF64++) : new Array<unknown>(count))),
      nulls: new Array<Uint8Array | undefined>(ncols).fill(undefined),
    };
    const blockNo = ++this.blocks;
    const nulls = block.nulls;
    const errors: RowError[] = [];
    // msg.tags, looked up once per message rather than per row.
    const overTags: boolean[] = new Array<boolean>(ntags).fill(false);
    const overVals: unknown[] = new Array<unknown>(ntags).fill(undefined);
    if (o.tags) {
      for (let t = 0; t < ntags; t++) {
        if (hasOwnKey(o.tags, this.tagDefs[t].name)) {
          overTags[t] = true;
          overVals[t] = o.tags[this.tagDefs[t].name];
        }
      }
    }
    const { tsField, tsUnit, strict } = this.opts;
    const cols = block.cols;
    const scratch = this.scratch;
    // msg.tags replace row values: such messages take the general path.
    const fast = o.tags ? undefined : this.fast;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const row = list[i];
      if (typeof row !== "object" || row === null || Array.isArray(row) || row instanceof Date) {
        errors.push({ index: i, reason: `row is not an object (got ${Array.isArray(row) ? "array" : row === null ? "null" : typeof row})` });
        continue;
      }
      const rec = row as Record<string, unknown>;
      if (strict) {
        const k = this.unknownField(rec);
        if (k !== undefined) {
          errors.push({ index: i, field: k, reason: `unknown field ${k} (strict mode)` });
          continue;
        }
      }
      const rawTs = this.tsOwn ? ownValue(rec, tsField) : rec[tsField];
      let ts: number;
      let exact: Instant | undefined;
      if (this.msNumbers && typeof rawTs === "number" && Number.isSafeInteger(rawTs)) ts = rawTs;
      else {
        const t = readInstant(rawTs, tsUnit);
        if (typeof t === "string") {
          errors.push({ index: i, field: tsField, reason: `timestamp: ${t}` });
          continue;
        }
        if (t.raw === undefined && t.ns === 0) ts = t.ms;
        else {
          ts = 0;
          exact = t;
        }
      }

      if (fast !== undefined && fast(rec, n, cols as unknown[][], scratch)) {
        // Every value stored as it was: nothing to check or convert.
      } else {
        const bad = this.mapValues(rec, i, n, overTags, overVals, block);
        if (bad) {
          errors.push(bad);
          clearNulls(nulls, n);
          continue;
        }
      }

      const entry = this.subtable(rec, o, i, errors);
      if (entry === undefined) {
        clearNulls(nulls, n);
        continue;
      }
      // Rows of one subtable usually carry the same tags: share one array instead of one per row.
      let tags = entry.tags;
      if (tags === undefined || !sameValues(tags, scratch)) {
        tags = scratch.slice();
        entry.tags = tags;
      }
      if (entry.block !== blockNo) {
        entry.block = blockNo;
        entry.local = block.tables.push(entry.name) - 1;
      }
      block.index[n] = i;
      block.table[n] = entry.local;
      block.tags[n] = tags;
      block.ts[n] = ts;
      if (exact !== undefined) (block.exact ??= [])[n] = exact;
      else if (block.exact !== undefined) block.exact[n] = undefined;
      n++;
    }
    // Rows past n (rejected ones' leftovers) are never read: `length` bounds every column.
    block.length = n;
    return { block, errors };
  }

  /**
   * The general path of a row's tags (into the scratch array) and column values (at position n of the block):
   * every value checked and converted, NULLs marked; returns the row's first problem, if any.
   */
  private mapValues(rec: Record<string, unknown>, i: number, n: number, overTags: boolean[], overVals: unknown[], block: RowBlock): RowError | undefined {
    const scratch = this.scratch;
    const { cols, nulls } = block;
    for (let t = 0; t < this.tagDefs.length; t++) {
      const f = this.tagDefs[t];
      const raw = overTags[t] ? overVals[t] : this.tagOwn[t] ? ownValue(rec, f.name) : rec[f.name];
      if (quickOk(this.tagQuick[t], raw, f.length)) {
        scratch[t] = raw;
        continue;
      }
      const v = checkValue(f, raw);
      if (v instanceof Problem) return { index: i, field: f.name, reason: `tag ${f.name}: ${v.reason}` };
      scratch[t] = v;
    }
    // Values go straight to position n; a row rejected later leaves them to be overwritten.
    for (let c = 0; c < this.columns.length; c++) {
      const f = this.columns[c];
      const raw = this.colOwn[c] ? ownValue(rec, f.name) : rec[f.name];
      if (quickOk(this.colQuick[c], raw, f.length)) {
        (cols[c] as unknown[])[n] = raw;
        continue;
      }
      const v = checkValue(f, raw);
      if (v instanceof Problem) return { index: i, field: f.name, reason: `column ${f.name}: ${v.reason}` };
      if (v === null && !Array.isArray(cols[c])) (nulls[c] ??= new Uint8Array(block.index.length))[n] = 1;
      else (cols[c] as unknown[])[n] = v;
    }
    return undefined;
  }

  /** The first field of rec that the schema does not know, if any (own enumerable keys, like Object.keys). */
  private unknownField(rec: Record<string, unknown>): string | undefined {
    for (const k in rec) {
      if (!this.known.has(k) && Object.prototype.hasOwnProperty.call(rec, k)) return k;
    }
    return undefined;
  }

  /** The row's subtable (name checked), or undefined after recording why it has none. */
  private subtable(rec: Record<string, unknown>, o: Overrides, index: number, errors: RowError[]): TableEntry | undefined {
    if (o.table !== undefined) return this.named(o.table, index, errors);
    if (this.fieldMode !== undefined) {
      const f = this.fieldMode;
      const v = ownValue(rec, f);
      if (typeof v !== "string" || v === "") {
        errors.push({ index, field: f, reason: `subtable name field ${f} is missing or not a string` });
        return undefined;
      }
      return this.named(v, index, errors);
    }
    const scratch = this.scratch;
    let key: unknown;
    if (this.singleField !== undefined) {
      // The name is a function of this one value: skip building and checking it again.
      const t = this.singleTag;
      key = t >= 0 && scratch[t] !== null ? scratch[t] : ownValue(rec, this.singleField);
      const hit = this.byValue.get(key);
      if (hit !== undefined) return hit;
    }
    const lookup = (name: string): unknown => {
      const t = this.templateTags.get(name) ?? -1;
      return t >= 0 && scratch[t] !== null ? scratch[t] : ownValue(rec, name);
    };
    const filled = fillTemplate(this.template!, lookup);
    if ("problem" in filled) {
      errors.push({ index, field: filled.field, reason: filled.problem });
      return undefined;
    }
    const entry = this.named(filled.name, index, errors);
    if (entry !== undefined && this.singleField !== undefined) {
      if (this.byValue.size >= CACHE_MAX) this.byValue.clear();
      this.byValue.set(key, entry);
    }
    return entry;
  }

  private named(name: string, index: number, errors: RowError[]): TableEntry | undefined {
    let entry = this.byName.get(name);
    if (entry !== undefined) return entry;
    const bad = subtableNameProblem(name);
    if (bad) {
      errors.push({ index, reason: bad });
      return undefined;
    }
    if (this.byName.size >= CACHE_MAX) this.byName.clear();
    entry = { name, tags: undefined, block: 0, local: 0 };
    this.byName.set(name, entry);
    return entry;
  }
}

/** Unmarks row n's NULLs (set by a row that was then rejected; the next good row takes its place). */
function clearNulls(nulls: (Uint8Array | undefined)[], n: number): void {
  for (const m of nulls) if (m !== undefined) m[n] = 0;
}

function sameValues(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
