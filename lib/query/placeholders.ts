// Statement text and parameters of a tdengine-query message -> SQL with `?` placeholders and the values in
// placeholder order, for stmt2 binding. Values never enter the SQL text.
//  - positional: `?` in the SQL, msg.params an array with one value per `?`;
//  - named: `:name` or `$name` in the SQL (letters, digits, _; starting with a letter or _), msg.params a plain
//    object with an own property per name; a name may appear several times. Every name is replaced by `?`.
// Placeholders inside '...' / "..." strings, `...` identifiers and -- / /* */ comments are text, not placeholders.
// A second statement after a `;` is refused: one message runs one statement.

export interface BoundStatement {
  sql: string;
  params: unknown[];
}

interface Token {
  kind: "positional" | "named";
  start: number;
  end: number;
  name?: string;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

function endOfQuoted(sql: string, i: number, quote: string): number {
  for (let j = i + 1; j < sql.length; j++) {
    const c = sql[j];
    if (c === "\\") j++;
    else if (c === quote) {
      if (sql[j + 1] === quote) j++; // doubled quote inside the string
      else return j + 1;
    }
  }
  throw new Error(`unterminated ${quote === "`" ? "quoted identifier" : "string"} in the SQL`);
}

/** The placeholders of `sql`, in order; throws on a second statement or an unterminated string. */
export function scanPlaceholders(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`") i = endOfQuoted(sql, i, c);
    else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      if (close < 0) throw new Error("unterminated comment in the SQL");
      i = close + 2;
    } else if (c === ";") {
      if (sql.slice(i + 1).trim() !== "") throw new Error("only one SQL statement per message: remove the text after ';'");
      i = sql.length;
    } else if (c === "?") {
      out.push({ kind: "positional", start: i, end: i + 1 });
      i++;
    } else if ((c === ":" || c === "$") && NAME_START.test(sql[i + 1] ?? "") && !NAME_PART.test(sql[i - 1] ?? "")) {
      let j = i + 2;
      while (j < sql.length && NAME_PART.test(sql[j])) j++;
      out.push({ kind: "named", start: i, end: j, name: sql.slice(i + 1, j) });
      i = j;
    } else i++;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Resolves the placeholders of `sql` against `params` (undefined, an array or a plain object). */
export function bindStatement(sql: string, params: unknown): BoundStatement {
  const tokens = scanPlaceholders(sql);
  const text = sql.replace(/;\s*$/, "").trim();
  const named = tokens.filter((t) => t.kind === "named");
  const positional = tokens.length - named.length;
  if (params === undefined || params === null) {
    if (tokens.length > 0) throw new Error(`the SQL has ${tokens.length} placeholder(s) but msg.params is not set`);
    return { sql: text, params: [] };
  }
  if (Array.isArray(params)) {
    if (named.length > 0) throw new Error(`the SQL uses named placeholders (${named[0].name}): msg.params must be an object`);
    if (params.length !== positional) throw new Error(`the SQL has ${positional} '?' placeholder(s) but msg.params has ${params.length} value(s)`);
    return { sql: text, params: [...params] };
  }
  if (!isPlainObject(params)) throw new Error("msg.params must be an array (for '?') or an object (for :name or $name)");
  if (positional > 0) throw new Error("the SQL uses '?' placeholders: msg.params must be an array");
  const values: unknown[] = [];
  let out = "";
  let from = 0;
  for (const t of named) {
    const name = t.name as string;
    if (!Object.prototype.hasOwnProperty.call(params, name)) throw new Error(`msg.params has no value for the placeholder ${sql.slice(t.start, t.end)}`);
    values.push(params[name]);
    out += sql.slice(from, t.start) + "?";
    from = t.end;
  }
  out += sql.slice(from);
  return { sql: out.replace(/;\s*$/, "").trim(), params: values };
}
