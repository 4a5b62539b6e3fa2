// The one error type of the client: server errors carry TDengine's 16-bit code; transport errors a client code.
import type { TdengineErrorKind } from "./api";

/** Client-side codes (the official Node connector uses the same numbers where it has an equivalent). */
export const CLIENT_CODE = {
  INVALID: 100,
  REFUSED: 104,
  TIMEOUT: 105,
  UNSUPPORTED: 107,
  CLOSED: 108,
  PROTOCOL: 109,
  VERSION: 112,
  TLS: 113,
} as const;

/** Server codes where retrying on a fresh connection may help (RPC network trouble, adapter over limit). */
const RETRYABLE_SERVER_CODES = new Set([0x000b, 0x0018, 0x0019, 0x0020, 0xfffe]);

const DEFAULT_CODE: Record<TdengineErrorKind, number> = {
  server: 0xffff,
  refused: CLIENT_CODE.REFUSED,
  closed: CLIENT_CODE.CLOSED,
  timeout: CLIENT_CODE.TIMEOUT,
  protocol: CLIENT_CODE.PROTOCOL,
  tls: CLIENT_CODE.TLS,
  version: CLIENT_CODE.VERSION,
  invalid: CLIENT_CODE.INVALID,
};

export class TdengineError extends Error {
  readonly kind: TdengineErrorKind;
  readonly code: number;
  readonly retryable: boolean;
  /** The column, tag or parameter whose value the client could not encode (kind "invalid" from a bind). */
  readonly field?: string;

  constructor(kind: TdengineErrorKind, message: string, code?: number, opts?: { cause?: unknown; retryable?: boolean; field?: string }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "TdengineError";
    this.kind = kind;
    if (opts?.field !== undefined) this.field = opts.field;
    this.code = code ?? DEFAULT_CODE[kind];
    this.retryable =
      opts?.retryable ??
      (kind === "refused" || kind === "closed" || kind === "timeout" || (kind === "server" && RETRYABLE_SERVER_CODES.has(this.code)));
  }

  /** An error reply of taosAdapter: `code` is already masked to 16 bits by the server. */
  static server(code: number, message: string, action?: string): TdengineError {
    const where = action ? ` (${action})` : "";
    return new TdengineError("server", `TDengine error 0x${code.toString(16).padStart(4, "0")}${where}: ${message || "unknown error"}`, code);
  }

  static protocol(message: string): TdengineError {
    return new TdengineError("protocol", `protocol error: ${message}`);
  }

  static invalid(message: string, field?: string): TdengineError {
    return new TdengineError("invalid", message, undefined, field === undefined ? undefined : { field });
  }
}
