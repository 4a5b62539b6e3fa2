// Maps the rows of one message (msg.payload: a row object or an array of them) onto a super table: subtable
// name, tag values and column values in schema order, the timestamp read into an instant. Every rejected row
// gets a reason naming its index and field; the other rows of the message are unaffected.
import { subtableNameProblem } from "./identifiers";
import type { FieldDef, TableSchema } from "./schema";
import { compileTemplate, fillTemplate, type TemplatePart } from "./template";
import { readInstant, type Instant, type NumberUnit } from "./timestamps";
import { checkValue, Problem } from "./values";

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
  /**
   * Bookkeeping slots the writer fills (the message the row belongs to, whether it has been resolved). They
   * live on the row itself so that buffering adds no second object per row (less garbage at 10^6 rows/s).
   */
  ticket: unknown;
  done: boolean;
}

/** Per-message overrides, as Node-RED users expect: msg.table names the subtable, msg.tags set tag values. */
export interface Overrides {
  table?: string;
  tags?: Record<string, unknown>;
}

export class RowMapper {
  private readonly template: TemplatePart[] | undefined;
  private readonly known: Set<string>;
  private readonly columns: FieldDef[];
  private readonly msNumbers: boolean;
  /** For each template field: the tag index to read it from, or -1 for a row field. */
  private readonly templateTags: Map<string, number>;
  /** Subtable names already checked (names repeat across rows); cleared when large. */
  private readonly goodNames = new Set<string>();

  constructor(
    readonly schema: TableSchema,
    readonly opts: MapOptions,
  ) {
    this.template = opts.subtable.mode === "template" ? compileTemplate(opts.subtable.template) : undefined;
    this.columns = schema.columns.slice(1);
    this.known = new Set([opts.tsField, ...this.columns.map((c) => c.name), ...schema.tags.map((t) => t.name)]);
    if (opts.subtable.mode === "field") this.known.add(opts.subtable.field);
    this.msNumbers = opts.tsUnit === "ms";
    this.templateTags = new Map();
    for (const p of this.template ?? []) if ("field" in p) this.templateTags.set(p.field, schema.tags.findIndex((t) => t.name === p.field));
  }

  map(payload: unknown, overrides: Overrides = {}): { rows: MappedRow[]; errors: RowError[] } {
    const list = Array.isArray(payload) ? payload : [payload];
    const rows: MappedRow[] = [];
    const errors: RowError[] = [];
    for (let i = 0; i < list.length; i++) {
      const r = this.mapRow(list[i], i, overrides);
      if ("reason" in r) errors.push(r);
      else rows.push(r);
    }
    return { rows, errors };
  }

  private mapRow(row: unknown, index: number, o: Overrides): MappedRow | RowError {
    if (typeof row !== "object" || row === null || Array.isArray(row) || row instanceof Date) {
      return { index, reason: `row is not an object (got ${Array.isArray(row) ? "array" : row === null ? "null" : typeof row})` };
    }
    const rec = row as Record<string, unknown>;
    if (this.opts.strict) {
      for (const k of Object.keys(rec)) {
        if (!this.known.has(k)) return { index, field: k, reason: `unknown field ${k} (strict mode)` };
      }
    }
    const rawTs = rec[this.opts.tsField];
    let ts: Instant | number;
    if (this.msNumbers && typeof rawTs === "number" && Number.isSafeInteger(rawTs)) ts = rawTs;
    else {
      const t = readInstant(rawTs, this.opts.tsUnit);
      if (typeof t === "string") return { index, field: this.opts.tsField, reason: `timestamp: ${t}` };
      ts = t.raw === undefined && t.ns === 0 ? t.ms : t;
    }

    const tags: unknown[] = new Array(this.schema.tags.length);
    for (let t = 0; t < this.schema.tags.length; t++) {
      const f = this.schema.tags[t];
      const raw = o.tags && f.name in o.tags ? o.tags[f.name] : rec[f.name];
      const v = checkValue(f, raw);
      if (v instanceof Problem) return { index, field: f.name, reason: `tag ${f.name}: ${v.reason}` };
      tags[t] = v;
    }
    const values: unknown[] = new Array(this.columns.length);
    for (let c = 0; c < this.columns.length; c++) {
      const f = this.columns[c];
      const v = checkValue(f, rec[f.name]);
      if (v instanceof Problem) return { index, field: f.name, reason: `column ${f.name}: ${v.reason}` };
      values[c] = v;
    }

    let table: string;
    if (o.table !== undefined) table = o.table;
    else if (this.opts.subtable.mode === "field") {
      const f = this.opts.subtable.field;
      const v = rec[f];
      if (typeof v !== "string" || v === "") return { index, field: f, reason: `subtable name field ${f} is missing or not a string` };
      table = v;
    } else {
      const filled = fillTemplate(this.template!, (name) => {
        const t = this.templateTags.get(name) ?? -1;
        return t >= 0 && tags[t] !== null ? tags[t] : rec[name];
      });
      if ("problem" in filled) return { index, field: filled.field, reason: filled.problem };
      table = filled.name;
    }
    if (!this.goodNames.has(table)) {
      const bad = subtableNameProblem(table);
      if (bad) return { index, reason: bad };
      if (this.goodNames.size > 10000) this.goodNames.clear();
      this.goodNames.add(table);
    }
    return { index, table, tags, ts, values, ticket: undefined, done: false };
  }
}
