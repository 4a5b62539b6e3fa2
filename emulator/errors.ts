// TDengine-style errors raised by the emulator: the code is what taosAdapter sends (16-bit masked).
export class TdError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "TdError";
  }
}

export const CODE = {
  ADAPTER: 0xffff,
  INVALID_PARAMS: 0x0118,
  DB_NOT_SELECTED: 0x0217,
  STMT_API: 0x022a,
  STMT_TBNAME: 0x022b,
  AUTH_FAILURE: 0x0357,
  STB_NOT_EXIST: 0x0362,
  STB_EXIST: 0x0360,
  DB_EXIST: 0x0381,
  DB_NOT_EXIST: 0x0388,
  TABLE_EXIST: 0x0603,
  TS_OUT_OF_RANGE: 0x060b,
  SYNTAX: 0x2600,
  INCOMPLETE: 0x2601,
  INVALID_COLUMN: 0x2602,
  TABLE_NOT_EXIST: 0x2603,
  WRONG_VALUE_TYPE: 0x2605,
  DB_NOT_SPECIFIED: 0x2616,
  VALUE_TOO_LONG: 0x2610,
  NOT_SUPPORTED: 0x0100,
  INVALID_COLUMNS_NUM: 0x2634,
  SML_INVALID_PROTOCOL: 0x3000,
  SML_INVALID_DATA: 0x3002,
  AUTH_NO_HEADER: 0x1105,
  EMPTY_BODY: 0x1106,
  NO_SQL: 0x1107,
  BAD_AUTH_TYPE: 0x1122,
  BAD_BASIC: 0x1124,
} as const;

export function syntaxError(near: string, what?: string): TdError {
  const msg = what ? `syntax error near "${near}" (${what})` : `syntax error near "${near}"`;
  return new TdError(CODE.SYNTAX, msg);
}

export function notSupported(what: string): TdError {
  // TDengine: TSDB_CODE_OPS_NOT_SUPPORT "Operation not supported" (0x0100).
  return new TdError(CODE.NOT_SUPPORTED, `Operation not supported: ${what}`);
}
