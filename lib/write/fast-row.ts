// The fast path of RowMapper for one row: reads every column and tag of a row object, and when each value passes
// its type's quick check (as checkValue would accept it unchanged; types without one go through checkValue) stores
// them and says so; otherwise it stores nothing and the mapper takes its general path for that row (NULLs,
// rejections with reasons).
//
// Why generated code: a loop over the fields reads `row[name]` at one site for every name, a megamorphic keyed
// load that boxes each number read (at 10^6 rows/s the largest cost of the node, and its garbage). The function
// built here has one site per field, each seeing a single name. Only the code's shape comes from the schema (one
// statement per field, chosen by type); names and widths are passed in as values, never written into the source.
import { isPrototypeName } from "../own-property";
import { TYPE } from "../tdengine/constants";
import type { FieldDef } from "./schema";
import { checkValue, Problem } from "./values";

/** Stores row values at position n of the columns (cols[c][n]) and into tags[t]; false when any needs checkValue. */
export type FastRow = (rec: Record<string, unknown>, n: number, cols: unknown[][], tags: unknown[]) => boolean;

const FLOAT_MAX = 3.4028234663852886e38;

/** A JS expression true exactly when checkValue(f, v) returns v itself (not NULL, not a Problem, no conversion). */
function quickTest(f: FieldDef, v: string, width: string): string | undefined {
  const int = (lo: number, hi: number): string => `typeof ${v} === "number" && (${v} | 0) === ${v} && ${v} >= ${lo} && ${v} <= ${hi}`;
  switch (f.type) {
    case TYPE.BOOL:
      return `typeof ${v} === "boolean"`;
    case TYPE.TINYINT:
      return int(-128, 127);
    case TYPE.SMALLINT:
      return int(-32768, 32767);
    case TYPE.INT:
      return `typeof ${v} === "number" && (${v} | 0) === ${v}`;
    case TYPE.UTINYINT:
      return int(0, 255);
    case TYPE.USMALLINT:
      return int(0, 65535);
    case TYPE.UINT:
      return `typeof ${v} === "number" && ${v} >>> 0 === ${v}`;
    case TYPE.BIGINT:
      return `typeof ${v} === "number" && Number.isSafeInteger(${v})`;
    case TYPE.UBIGINT:
      return `typeof ${v} === "number" && Number.isSafeInteger(${v}) && ${v} >= 0`;
    case TYPE.DOUBLE:
      return `typeof ${v} === "number" && ${v} - ${v} === 0`;
    case TYPE.FLOAT:
      return `typeof ${v} === "number" && ${v} - ${v} === 0 && ${v} <= ${FLOAT_MAX} && ${v} >= -${FLOAT_MAX}`;
    case TYPE.VARCHAR:
      // UTF-8 needs at most 3 bytes per UTF-16 unit: short strings need no byte count.
      return `typeof ${v} === "string" && (${v}.length * 3 <= ${width} || Buffer.byteLength(${v}, "utf8") <= ${width})`;
    default:
      return undefined;
  }
}

/** The fast path for these columns (columns[1..] of the schema) and tags. */
export function compileFastRow(columns: readonly FieldDef[], tags: readonly FieldDef[]): FastRow {
  const params: string[] = [];
  const args: unknown[] = [];
  const reads: string[] = [];
  const stores: string[] = [];
  const add = (f: FieldDef, v: string, store: string): void => {
    const key = `k_${v}`;
    const width = `w_${v}`;
    const field = `f_${v}`;
    params.push(key, width, field);
    args.push(f.name, f.length, f);
    // Names of Object.prototype members are read as own properties only (a missing "constructor" is no value).
    const read = isPrototypeName(f.name) ? `hasOwn.call(rec, ${key}) ? rec[${key}] : undefined` : `rec[${key}]`;
    const test = quickTest(f, v, width);
    if (test !== undefined) reads.push(`const ${v} = ${read};`, `if (!(${test})) return false;`);
    else reads.push(`const ${v} = check(${field}, ${read});`, `if (${v} === null || ${v} instanceof Problem) return false;`);
    stores.push(store);
  };
  for (let c = 0; c < columns.length; c++) add(columns[c], `c${c}`, `cols[${c}][n] = c${c};`);
  for (let t = 0; t < tags.length; t++) add(tags[t], `t${t}`, `tags[${t}] = t${t};`);
  const body = `"use strict";\nreturn function fastRow(rec, n, cols, tags) {\n${[...reads, ...stores].join("\n")}\nreturn true;\n};`;
  const make = new Function("hasOwn", "check", "Problem", ...params, body) as (...a: unknown[]) => FastRow;
  return make(Object.prototype.hasOwnProperty, checkValue, Problem, ...args);
}
