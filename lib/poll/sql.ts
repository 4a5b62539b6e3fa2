// The SQL a poller sends. Identifiers are validated and quoted by the client's helpers; the watermark is
// always a `?` placeholder bound through stmt2 (queryWithParams), never text in the statement.
import { qualifiedName, quoteIdentifier, validateIdentifier } from "../tdengine";

/** How the lower bound of a page compares with the timestamp column. */
export type BoundOp = ">=" | ">" | "=";

export interface TableSource {
  database: string;
  /** A table, subtable or super table. */
  table: string;
  /** The timestamp column that drives the watermark (usually the first column, `ts`). */
  tsColumn: string;
  /** Columns to read; empty = every column (`*`, which on a super table also returns the tags). */
  columns: string[];
  /** Tag columns to read (super tables). */
  tags: string[];
}

/** Column name under which the poller reads the subtable name (TDengine's pseudo-column, never quoted). */
export const TBNAME = "tbname";

/** Validates a table-mode source up front so a bad identifier fails at deploy, not at the first poll. */
export function validateTableSource(src: TableSource): void {
  validateIdentifier(src.database, "database");
  validateIdentifier(src.table, "table");
  validateIdentifier(src.tsColumn, "timestamp column");
  for (const c of src.columns) validateIdentifier(c, "column");
  for (const t of src.tags) validateIdentifier(t, "tag");
}

/**
 * SELECT <ts>, <cols>, <tags>, tbname FROM `db`.`table` WHERE `ts` <op> ? [AND `ts` <= ?] ORDER BY `ts` [LIMIT n].
 * tbname is always read: it is half of the de-duplication key (a super table's subtables share timestamps).
 * `upperBound` adds the second placeholder (a late-row range of the lookback window).
 */
export function buildTableQuery(src: TableSource, op: BoundOp, limit?: number, upperBound = false): string {
  const ts = quoteIdentifier(src.tsColumn);
  const list: string[] = [];
  // tbname is a pseudo-column, added once below (quoted it would name a real column).
  const notTbname = (c: string): boolean => c.toLowerCase() !== TBNAME;
  const columns = src.columns.filter(notTbname);
  if (columns.length === 0) {
    list.push("*");
  } else {
    const wanted = columns.some((c) => c.toLowerCase() === src.tsColumn.toLowerCase()) ? columns : [src.tsColumn, ...columns];
    for (const c of wanted) list.push(quoteIdentifier(c));
  }
  for (const t of src.tags.filter(notTbname)) list.push(quoteIdentifier(t));
  list.push(TBNAME);
  let sql = `SELECT ${list.join(", ")} FROM ${qualifiedName(src.database, src.table)} WHERE ${ts} ${op} ?${upperBound ? ` AND ${ts} <= ?` : ""} ORDER BY ${ts}`;
  if (limit !== undefined) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`page size must be a positive integer, got ${limit}`);
    sql += ` LIMIT ${limit}`;
  }
  return sql;
}

/**
 * SELECT COUNT(*) FROM `db`.`table` WHERE `ts` >= ? AND `ts` <= ?: how many rows the lookback window holds, which
 * the poller compares with the rows it emitted there to learn whether any arrived late.
 */
export function buildWindowCountQuery(src: TableSource): string {
  const ts = quoteIdentifier(src.tsColumn);
  return `SELECT COUNT(*) FROM ${qualifiedName(src.database, src.table)} WHERE ${ts} >= ? AND ${ts} <= ?`;
}

/** Placeholder for the watermark in SQL mode. A bare `?` works too. */
export const WATERMARK_PLACEHOLDER = "$watermark";

export interface PreparedUserSql {
  /** The statement with every placeholder turned into `?`. */
  sql: string;
  /** How many `?` the statement has; each is bound to the same watermark value. */
  params: number;
}

/**
 * Turns the user's SELECT into a statement with `?` placeholders. `$watermark` (case-insensitive) and bare
 * `?` outside string literals and quoted identifiers are placeholders; each is bound to the watermark.
 */
export function prepareUserSql(input: string): PreparedUserSql {
  const text = input.trim().replace(/;\s*$/, "");
  if (!/^select\b/i.test(text)) throw new Error("the SQL must be a single SELECT statement");
  let out = "";
  let params = 0;
  let i = 0;
  const lowerName = WATERMARK_PLACEHOLDER.toLowerCase();
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'" || ch === '"' || ch === "`") {
      // Copy a quoted section verbatim; a doubled quote or a backslash escape stays inside it.
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new Error(`unterminated ${ch} quote in the SQL`);
        if (text[j] === "\\" && ch !== "`") {
          j += 2;
          continue;
        }
        if (text[j] === ch) {
          if (text[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ";") throw new Error("the SQL must be a single statement (no ';' inside)");
    if (ch === "?") {
      out += "?";
      params++;
      i++;
      continue;
    }
    if (ch === "$" && text.slice(i, i + lowerName.length).toLowerCase() === lowerName && !/\w/.test(text[i + lowerName.length] ?? "")) {
      out += "?";
      params++;
      i += lowerName.length;
      continue;
    }
    out += ch;
    i++;
  }
  if (params === 0) {
    throw new Error(`the SQL has no watermark placeholder: write ${WATERMARK_PLACEHOLDER} (or ?) where the last timestamp goes, e.g. WHERE ts >= ${WATERMARK_PLACEHOLDER}`);
  }
  return { sql: out, params };
}
