// Perspective table schemas: the TDengine -> Perspective type mapping used when a table is derived from
// tdengine-poll's msg.columns, and validation of schemas declared in the node.
//
// Perspective's "integer" is a 32-bit int (larger values wrap silently), so 64-bit and unsigned 32-bit
// integers become "float". Timestamps become "datetime" (values.ts turns Dates and epoch numbers of any
// precision into epoch ms). Binary types have no Perspective type and are shown as hex strings.

export type PerspectiveType = "boolean" | "integer" | "float" | "string" | "date" | "datetime";
export type Schema = Record<string, PerspectiveType>;

export const PERSPECTIVE_TYPES: readonly PerspectiveType[] = ["boolean", "integer", "float", "string", "date", "datetime"];

/** TDengine type codes (taosAdapter / taos.h). */
export const TD = {
  BOOL: 1, TINYINT: 2, SMALLINT: 3, INT: 4, BIGINT: 5, FLOAT: 6, DOUBLE: 7, VARCHAR: 8, TIMESTAMP: 9, NCHAR: 10,
  UTINYINT: 11, USMALLINT: 12, UINT: 13, UBIGINT: 14, JSON: 15, VARBINARY: 16, DECIMAL: 17, BLOB: 18,
  MEDIUMBLOB: 19, GEOMETRY: 20, DECIMAL64: 21,
} as const;

/** How one column's values are turned into what Perspective accepts. */
export type ValueKind = PerspectiveType | "hex";

export interface ColumnPlan {
  name: string;
  type: PerspectiveType;
  /** "hex" for binary TDengine types: bytes become a lowercase hex string. */
  kind: ValueKind;
}

/** The subset of lib/tdengine's ColumnMeta this module reads. */
export interface ColumnLike {
  name: string;
  type?: number;
  typeName?: string;
}

const BY_CODE: Record<number, { type: PerspectiveType; kind: ValueKind }> = {
  [TD.BOOL]: { type: "boolean", kind: "boolean" },
  [TD.TINYINT]: { type: "integer", kind: "integer" },
  [TD.SMALLINT]: { type: "integer", kind: "integer" },
  [TD.INT]: { type: "integer", kind: "integer" },
  [TD.UTINYINT]: { type: "integer", kind: "integer" },
  [TD.USMALLINT]: { type: "integer", kind: "integer" },
  [TD.UINT]: { type: "float", kind: "float" },
  [TD.BIGINT]: { type: "float", kind: "float" },
  [TD.UBIGINT]: { type: "float", kind: "float" },
  [TD.FLOAT]: { type: "float", kind: "float" },
  [TD.DOUBLE]: { type: "float", kind: "float" },
  [TD.DECIMAL]: { type: "float", kind: "float" },
  [TD.DECIMAL64]: { type: "float", kind: "float" },
  [TD.TIMESTAMP]: { type: "datetime", kind: "datetime" },
  [TD.VARCHAR]: { type: "string", kind: "string" },
  [TD.NCHAR]: { type: "string", kind: "string" },
  [TD.JSON]: { type: "string", kind: "string" },
  [TD.VARBINARY]: { type: "string", kind: "hex" },
  [TD.GEOMETRY]: { type: "string", kind: "hex" },
  [TD.BLOB]: { type: "string", kind: "hex" },
  [TD.MEDIUMBLOB]: { type: "string", kind: "hex" },
};

const BY_NAME: Record<string, number> = {
  BOOL: TD.BOOL, TINYINT: TD.TINYINT, SMALLINT: TD.SMALLINT, INT: TD.INT, BIGINT: TD.BIGINT, FLOAT: TD.FLOAT,
  DOUBLE: TD.DOUBLE, VARCHAR: TD.VARCHAR, BINARY: TD.VARCHAR, TIMESTAMP: TD.TIMESTAMP, NCHAR: TD.NCHAR,
  "TINYINT UNSIGNED": TD.UTINYINT, "SMALLINT UNSIGNED": TD.USMALLINT, "INT UNSIGNED": TD.UINT,
  "BIGINT UNSIGNED": TD.UBIGINT, JSON: TD.JSON, VARBINARY: TD.VARBINARY, DECIMAL: TD.DECIMAL, BLOB: TD.BLOB,
  MEDIUMBLOB: TD.MEDIUMBLOB, GEOMETRY: TD.GEOMETRY,
};

function codeOf(col: ColumnLike): number | undefined {
  if (typeof col.type === "number" && BY_CODE[col.type]) return col.type;
  if (typeof col.typeName === "string") {
    const base = col.typeName.toUpperCase().replace(/\(.*$/, "").trim();
    return BY_NAME[base];
  }
  return undefined;
}

/** Column plans for tdengine-poll's msg.columns. Throws on an unknown type or a duplicate name. */
export function plansFromColumns(columns: unknown): ColumnPlan[] {
  if (!Array.isArray(columns) || columns.length === 0) throw new Error("msg.columns must be a non-empty array of {name, type}");
  const seen = new Set<string>();
  return columns.map((c: unknown, i) => {
    const col = c as ColumnLike;
    if (!col || typeof col !== "object" || typeof col.name !== "string" || col.name === "") {
      throw new Error(`msg.columns[${i}] has no name`);
    }
    if (seen.has(col.name)) throw new Error(`msg.columns has the column "${col.name}" twice`);
    seen.add(col.name);
    const code = codeOf(col);
    if (code === undefined) {
      throw new Error(`msg.columns[${i}] ("${col.name}"): unknown TDengine type ${JSON.stringify(col.typeName ?? col.type)}`);
    }
    const m = BY_CODE[code];
    return { name: col.name, type: m.type, kind: m.kind };
  });
}

/** Plans for a schema declared in the node: an object {column: type}. */
export function plansFromSchema(schema: unknown): ColumnPlan[] {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
    throw new Error('the schema must be an object like {"ts": "datetime", "value": "float"}');
  }
  const entries = Object.entries(schema as Record<string, unknown>);
  if (entries.length === 0) throw new Error("the schema has no columns");
  return entries.map(([name, t]) => {
    if (typeof t !== "string" || !PERSPECTIVE_TYPES.includes(t as PerspectiveType)) {
      throw new Error(`schema column "${name}": type must be one of ${PERSPECTIVE_TYPES.join(", ")}, not ${JSON.stringify(t)}`);
    }
    return { name, type: t as PerspectiveType, kind: t as PerspectiveType };
  });
}

export function schemaOf(plans: readonly ColumnPlan[]): Schema {
  const s: Schema = {};
  for (const p of plans) s[p.name] = p.type;
  return s;
}

/** Stable text identity of a schema (column order matters to the viewer, so it is kept). */
export function schemaKey(schema: Schema): string {
  return JSON.stringify(Object.entries(schema));
}
