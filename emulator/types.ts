// TDengine type codes and helpers used by the emulator. lib/tdengine/constants.ts did not exist when the emulator
// was written, so the codes are defined here (they are protocol facts, shared by nothing but their values).
export const T = {
  NULL: 0,
  BOOL: 1,
  TINYINT: 2,
  SMALLINT: 3,
  INT: 4,
  BIGINT: 5,
  FLOAT: 6,
  DOUBLE: 7,
  VARCHAR: 8,
  TIMESTAMP: 9,
  NCHAR: 10,
  UTINYINT: 11,
  USMALLINT: 12,
  UINT: 13,
  UBIGINT: 14,
  JSON: 15,
  VARBINARY: 16,
  DECIMAL: 17,
  BLOB: 18,
  MEDIUMBLOB: 19,
  GEOMETRY: 20,
  DECIMAL64: 21,
} as const;

export type Precision = "ms" | "us" | "ns";
export const PRECISION_CODE: Record<Precision, number> = { ms: 0, us: 1, ns: 2 };
export const PRECISION_BY_CODE: Precision[] = ["ms", "us", "ns"];

/** Byte size of fixed-width types (0 = variable length). */
export function fixedSize(type: number): number {
  switch (type) {
    case T.BOOL:
    case T.TINYINT:
    case T.UTINYINT:
      return 1;
    case T.SMALLINT:
    case T.USMALLINT:
      return 2;
    case T.INT:
    case T.UINT:
    case T.FLOAT:
      return 4;
    case T.BIGINT:
    case T.UBIGINT:
    case T.DOUBLE:
    case T.TIMESTAMP:
    case T.DECIMAL64:
      return 8;
    case T.DECIMAL:
      return 16;
    case T.NULL:
      return 1;
    default:
      return 0;
  }
}

export function isVarType(type: number): boolean {
  return (
    type === T.VARCHAR ||
    type === T.NCHAR ||
    type === T.JSON ||
    type === T.VARBINARY ||
    type === T.GEOMETRY ||
    type === T.BLOB
  );
}

export function isDecimal(type: number): boolean {
  return type === T.DECIMAL || type === T.DECIMAL64;
}

/** Whether values of this type are JS strings (else Uint8Array for var types). */
export function isStringType(type: number): boolean {
  return type === T.VARCHAR || type === T.NCHAR || type === T.JSON;
}

const NAMES: Record<number, string> = {
  0: "NULL",
  1: "BOOL",
  2: "TINYINT",
  3: "SMALLINT",
  4: "INT",
  5: "BIGINT",
  6: "FLOAT",
  7: "DOUBLE",
  8: "VARCHAR",
  9: "TIMESTAMP",
  10: "NCHAR",
  11: "TINYINT UNSIGNED",
  12: "SMALLINT UNSIGNED",
  13: "INT UNSIGNED",
  14: "BIGINT UNSIGNED",
  15: "JSON",
  16: "VARBINARY",
  18: "BLOB",
  20: "GEOMETRY",
};

/** Type name as taosAdapter spells it in REST column_meta and TDengine in DESCRIBE. */
export function typeName(type: number, precision = 0, scale = 0): string {
  if (isDecimal(type)) return `DECIMAL(${precision},${scale})`;
  return NAMES[type] ?? `UNKNOWN(${type})`;
}

/** Column definition shared by the store, the SQL engine and the encoders. */
export interface ColumnDef {
  name: string;
  type: number;
  /** Declared width: bytes for numeric/VARCHAR/VARBINARY/GEOMETRY, characters for NCHAR, 4095 for JSON. */
  bytes: number;
  /** DECIMAL precision (digits). */
  decPrecision?: number;
  /** DECIMAL scale. */
  decScale?: number;
}

/**
 * In-memory value conventions inside the emulator: null; boolean (BOOL); number (8/16/32-bit ints, FLOAT, DOUBLE);
 * bigint (BIGINT, BIGINT UNSIGNED, TIMESTAMP, DECIMAL/DECIMAL64 unscaled); string (VARCHAR, NCHAR, JSON);
 * Uint8Array (VARBINARY, GEOMETRY, BLOB).
 */
export type Value = null | boolean | number | bigint | string | Uint8Array;

/** The value of a fixed-width column cell stored little-endian at byte offset o (BIGINT, TIMESTAMP: bigint). */
export function readFixed(dv: DataView, type: number, o: number): Value {
  switch (type) {
    case T.BOOL:
      return dv.getUint8(o) !== 0;
    case T.TINYINT:
      return dv.getInt8(o);
    case T.UTINYINT:
      return dv.getUint8(o);
    case T.SMALLINT:
      return dv.getInt16(o, true);
    case T.USMALLINT:
      return dv.getUint16(o, true);
    case T.INT:
      return dv.getInt32(o, true);
    case T.UINT:
      return dv.getUint32(o, true);
    case T.FLOAT:
      return dv.getFloat32(o, true);
    case T.DOUBLE:
      return dv.getFloat64(o, true);
    case T.UBIGINT:
      return dv.getBigUint64(o, true);
    default:
      return dv.getBigInt64(o, true);
  }
}
