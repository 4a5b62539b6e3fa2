// The TDengine types tdengine-write can bind, on top of the client's type constants.
import { TYPE, TYPE_NAME, typeCodeFromName } from "../tdengine/constants";

export { TYPE };

const SUPPORTED: ReadonlySet<number> = new Set([
  TYPE.BOOL,
  TYPE.TINYINT,
  TYPE.SMALLINT,
  TYPE.INT,
  TYPE.BIGINT,
  TYPE.FLOAT,
  TYPE.DOUBLE,
  TYPE.VARCHAR,
  TYPE.TIMESTAMP,
  TYPE.NCHAR,
  TYPE.UTINYINT,
  TYPE.USMALLINT,
  TYPE.UINT,
  TYPE.UBIGINT,
  TYPE.JSON,
  TYPE.VARBINARY,
  TYPE.GEOMETRY,
]);

/** Type code for a type name ("INT", "varchar", "BIGINT UNSIGNED"); undefined when tdengine-write cannot bind it. */
export function typeCode(name: string): number | undefined {
  const code = typeCodeFromName(name);
  return code !== undefined && SUPPORTED.has(code) ? code : undefined;
}

export function typeName(code: number): string {
  return TYPE_NAME[code] ?? `type ${code}`;
}

/** Types declared with a width, e.g. VARCHAR(16). */
export function needsLength(code: number): boolean {
  return code === TYPE.VARCHAR || code === TYPE.NCHAR || code === TYPE.VARBINARY || code === TYPE.GEOMETRY;
}
