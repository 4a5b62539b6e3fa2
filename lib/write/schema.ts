// The shape of a super table as tdengine-write sees it: the timestamp column first, then the other columns,
// then the tags. It comes from the node's declared schema ("ts TIMESTAMP, current FLOAT, ...") or from DESCRIBE.
// DDL and the stmt2 INSERT are built here from validated, quoted identifiers only.
import { checkIdentifier, qualified, quote } from "./identifiers";
import { needsLength, TYPE, typeCode, typeName } from "./types";

export interface FieldDef {
  name: string;
  type: number;
  /** Declared width: bytes for VARCHAR/VARBINARY/GEOMETRY, characters for NCHAR; 0 for fixed types. */
  length: number;
}

export interface TableSchema {
  /** columns[0] is the TIMESTAMP primary key. */
  columns: FieldDef[];
  tags: FieldDef[];
}

export type Precision = "ms" | "us" | "ns";

/** Parses "name TYPE[(len)], ..." (commas inside parentheses are fine). */
export function parseFieldList(text: string, what: "column" | "tag"): FieldDef[] {
  const parts = splitTopLevel(text);
  return parts.map((part) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z][A-Za-z ]*?)\s*(?:\(\s*(\d+)\s*\))?\s*(UNSIGNED)?$/i.exec(part);
    if (!m) throw new Error(`cannot read ${what} definition "${part}": expected "name TYPE" or "name TYPE(length)"`);
    const name = checkIdentifier(m[1], what);
    const tname = m[4] ? `${m[2]} UNSIGNED` : m[2];
    const type = typeCode(tname);
    if (type === undefined) throw new Error(`${what} ${name}: type ${tname.toUpperCase()} is not supported by tdengine-write`);
    const length = m[3] ? Number(m[3]) : 0;
    if (needsLength(type) && !(length > 0)) throw new Error(`${what} ${name}: ${typeName(type)} needs a length, e.g. ${typeName(type)}(16)`);
    if (!needsLength(type) && m[3]) throw new Error(`${what} ${name}: ${typeName(type)} takes no length`);
    return { name, type, length };
  });
}

/** Builds and checks a declared schema: the first column must be a TIMESTAMP, names unique, at least one tag. */
export function declaredSchema(columnsText: string, tagsText: string): TableSchema {
  const columns = parseFieldList(columnsText, "column");
  const tags = parseFieldList(tagsText, "tag");
  return checkSchema({ columns, tags });
}

export function checkSchema(schema: TableSchema): TableSchema {
  if (schema.columns.length < 2) throw new Error("the schema needs a TIMESTAMP column and at least one more column");
  if (schema.columns[0].type !== TYPE.TIMESTAMP) throw new Error(`the first column (${schema.columns[0].name}) must be a TIMESTAMP`);
  if (schema.tags.length < 1) throw new Error("a super table needs at least one tag");
  const seen = new Set<string>();
  for (const f of [...schema.columns, ...schema.tags]) {
    const k = f.name.toLowerCase();
    if (seen.has(k)) throw new Error(`name ${f.name} is used twice in the schema`);
    seen.add(k);
  }
  return schema;
}

/** Schema from the rows of `DESCRIBE db.stb` (field, type, length, note; note "TAG" marks tags). */
export function schemaFromDescribe(rows: unknown[][]): TableSchema {
  const columns: FieldDef[] = [];
  const tags: FieldDef[] = [];
  for (const r of rows) {
    const [name, tname, length, note] = r;
    const type = typeCode(String(tname));
    const field: FieldDef = { name: String(name), type: type ?? -1, length: Number(length) || 0 };
    if (type === undefined) throw new Error(`column ${String(name)} has type ${String(tname)}, which tdengine-write cannot bind`);
    if (String(note ?? "").toUpperCase() === "TAG") tags.push(field);
    else columns.push(field);
  }
  return checkSchema({ columns, tags });
}

function fieldSql(f: FieldDef): string {
  return `${quote(f.name)} ${typeName(f.type)}${needsLength(f.type) ? `(${f.length})` : ""}`;
}

export function createDatabaseSql(db: string, precision: Precision): string {
  return `CREATE DATABASE IF NOT EXISTS ${quote(checkIdentifier(db, "database"))} PRECISION '${precision}'`;
}

export function createStableSql(db: string, stable: string, schema: TableSchema): string {
  const name = qualified(checkIdentifier(db, "database"), checkIdentifier(stable, "super table"));
  return `CREATE STABLE IF NOT EXISTS ${name} (${schema.columns.map(fieldSql).join(", ")}) TAGS (${schema.tags.map(fieldSql).join(", ")})`;
}

export function useSql(db: string): string {
  return `USE ${quote(checkIdentifier(db, "database"))}`;
}

export function describeSql(db: string, stable: string): string {
  return `DESCRIBE ${qualified(checkIdentifier(db, "database"), checkIdentifier(stable, "super table"))}`;
}

/** `INSERT INTO ? USING db.stb TAGS (?,..) VALUES (?,..)`: one placeholder per tag and column, all bound. */
export function insertSql(db: string, stable: string, schema: TableSchema): string {
  const name = qualified(checkIdentifier(db, "database"), checkIdentifier(stable, "super table"));
  const marks = (n: number): string => Array.from({ length: n }, () => "?").join(",");
  return `INSERT INTO ? USING ${name} TAGS (${marks(schema.tags.length)}) VALUES (${marks(schema.columns.length)})`;
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.filter((p) => p.length > 0);
}
