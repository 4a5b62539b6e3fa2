// Protocol constants of taosAdapter's /ws endpoint and TDengine's type system (facts, no behaviour). This is the
// only module of the client that the emulator may import; it holds values, never encoders or decoders.

/** Binary request action codes (taosAdapter controller/ws/ws/const.go). */
export const ACTION = {
  BINARY_QUERY: 6,
  FETCH_RAW_BLOCK: 7,
  STMT2_BIND: 9,
} as const;

/** u16 at offset 24 of binary requests 6, 7, 9. */
export const BINARY_PROTOCOL_VERSION = 1;

/** First u64 of a fetch_raw_block reply (tells it apart from legacy fetch_block frames). */
export const FETCH_REPLY_MARKER = 0xffff_ffff_ffff_ffffn;

/** TDengine type codes. */
export const TYPE = {
  NULL: 0,
  BOOL: 1,
  TINYINT: 2,
  SMALLINT: 3,
  INT: 4,
  BIGINT: 5,
  FLOAT: 6,
  DOUBLE: 7,
  VARCHAR: 8,
  BINARY: 8,
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

/** Type names as taosAdapter spells them (driver/common/datatype.go). DECIMAL types get "(p,s)" appended elsewhere. */
export const TYPE_NAME: Readonly<Record<number, string>> = {
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
  17: "DECIMAL",
  18: "BLOB",
  19: "MEDIUMBLOB",
  20: "GEOMETRY",
  21: "DECIMAL",
};

const NAME_TO_CODE: Readonly<Record<string, number>> = {
  NULL: 0,
  BOOL: 1,
  TINYINT: 2,
  SMALLINT: 3,
  INT: 4,
  INTEGER: 4,
  BIGINT: 5,
  FLOAT: 6,
  DOUBLE: 7,
  VARCHAR: 8,
  BINARY: 8,
  TIMESTAMP: 9,
  NCHAR: 10,
  "TINYINT UNSIGNED": 11,
  "SMALLINT UNSIGNED": 12,
  "INT UNSIGNED": 13,
  "INTEGER UNSIGNED": 13,
  "BIGINT UNSIGNED": 14,
  JSON: 15,
  VARBINARY: 16,
  BLOB: 18,
  MEDIUMBLOB: 19,
  GEOMETRY: 20,
};

/**
 * Type code for a type name as TDengine/taosAdapter print it ("INT", "varchar(16)", "BIGINT UNSIGNED",
 * "DECIMAL(10,4)"); undefined when unknown. DECIMAL(p,s) maps to DECIMAL64 (21) for p <= 18, else DECIMAL (17).
 */
export function typeCodeFromName(name: string): number | undefined {
  const norm = name.trim().toUpperCase().replace(/\s+/g, " ");
  const dec = /^DECIMAL\s*(?:\(\s*(\d+)\s*(?:,\s*\d+\s*)?\))?$/.exec(norm);
  if (dec) return dec[1] !== undefined && Number(dec[1]) <= 18 ? TYPE.DECIMAL64 : TYPE.DECIMAL;
  const base = norm.replace(/\s*\(\s*\d+\s*\)$/, "");
  return NAME_TO_CODE[base];
}

/** Byte width of fixed-size types in raw blocks and stmt2 binds; 0 for variable-length or unknown types. */
export function fixedSize(type: number): number {
  switch (type) {
    case TYPE.NULL:
    case TYPE.BOOL:
    case TYPE.TINYINT:
    case TYPE.UTINYINT:
      return 1;
    case TYPE.SMALLINT:
    case TYPE.USMALLINT:
      return 2;
    case TYPE.INT:
    case TYPE.UINT:
    case TYPE.FLOAT:
      return 4;
    case TYPE.BIGINT:
    case TYPE.UBIGINT:
    case TYPE.DOUBLE:
    case TYPE.TIMESTAMP:
    case TYPE.DECIMAL64:
      return 8;
    case TYPE.DECIMAL:
      return 16;
    default:
      return 0;
  }
}

/** Variable-length types: offsets + length-prefixed values in raw blocks. */
export function isVarType(type: number): boolean {
  return (
    type === TYPE.VARCHAR ||
    type === TYPE.NCHAR ||
    type === TYPE.JSON ||
    type === TYPE.VARBINARY ||
    type === TYPE.GEOMETRY ||
    type === TYPE.BLOB
  );
}

/** stmt2 prepare `bind_type` values (TAOS_FIELD_COL/TAG/QUERY/TBNAME). */
export const BIND_TYPE = { COLUMN: 1, TAG: 2, QUERY: 3, TBNAME: 4 } as const;

/** Result/field precision codes: 0 ms, 1 us, 2 ns. */
export const PRECISIONS = ["ms", "us", "ns"] as const;

/** Schemaless protocols of the `insert` action. */
export const SCHEMALESS_PROTOCOL = { influx: 1, telnet: 2, json: 3 } as const;

/** Maximum identifier length TDengine accepts (TSDB_TABLE_NAME_LEN 193 incl. NUL). */
export const MAX_IDENTIFIER_LENGTH = 192;

/** `action` u64 of the binary reply to TMQ's fetch_raw_data (taosAdapter controller/ws/tmq/const.go). */
export const TMQ_FETCH_RAW_DATA_ACTION = 8;

/** TMQ message types of a poll reply (TMQ_RES_*): data, table meta, meta + data, raw. */
export const TMQ_MESSAGE_TYPE = { DATA: 1, TABLE_META: 2, METADATA: 3, RAWDATA: 4 } as const;

/** committed/position value for a vgroup without an offset (taosAdapter controller/ws/tmq/const.go). */
export const TMQ_OFFSET_INVALID = -2147467247;
