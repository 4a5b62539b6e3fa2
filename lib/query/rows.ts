// Decoded result rows (arrays in column order, lib/tdengine value conventions) -> the row objects tdengine-query
// sends. NULL stays null. Big integers follow the node's option: "string" keeps safe integers as numbers and gives
// exact decimal strings beyond 2^53 (JSON-safe), "bigint" gives every BIGINT / BIGINT UNSIGNED as a BigInt.
import type { ColumnMeta, Precision } from "../tdengine/api";
import { TYPE } from "../tdengine/constants";
import { epochToMs, toEpoch } from "../poll/timestamps";

export type BigValues = "string" | "bigint";
/** "date": Date (ms resolution); "ms": epoch ms number; "epoch": integer in the column's own precision. */
export type TimestampValues = "date" | "ms" | "epoch";

export interface ValueOptions {
  bigint: BigValues;
  timestamps: TimestampValues;
}

type Convert = (v: unknown) => unknown;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function bigintConverter(mode: BigValues): Convert {
  if (mode === "bigint") return (v) => (typeof v === "bigint" ? v : typeof v === "number" || typeof v === "string" ? BigInt(v) : v);
  return (v) => (typeof v === "bigint" ? (v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v.toString()) : v);
}

const MS_DIVISOR: Record<Precision, number> = { ms: 1, us: 1000, ns: 1_000_000 };

function timestampConverter(precision: Precision, opts: ValueOptions): Convert {
  const div = MS_DIVISOR[precision];
  // The decoder gives a number whenever the epoch is a safe integer (always for ms and us): the fast path
  // stays in doubles; bigint epochs (ns) go through exact bigint arithmetic.
  const toMs = (v: unknown): number | undefined => {
    if (typeof v === "number") return div === 1 ? v : Math.floor(v / div);
    const epoch = toEpoch(v, precision);
    return epoch === undefined ? undefined : epochToMs(epoch, precision);
  };
  if (opts.timestamps === "date") {
    return (v) => {
      const ms = toMs(v);
      return ms === undefined ? v : new Date(ms);
    };
  }
  if (opts.timestamps === "ms") {
    return (v) => {
      const ms = toMs(v);
      return ms === undefined ? v : ms;
    };
  }
  // ns epochs of any realistic date are beyond 2^53: always BigInt or string, so one column has one type.
  if (precision === "ns") {
    return (v) => {
      const epoch = toEpoch(v, precision);
      return epoch === undefined ? v : opts.bigint === "bigint" ? epoch : epoch.toString();
    };
  }
  return (v) => v;
}

/** Object keys for the columns: a repeated name gets a suffix (_2, _3, ...) instead of overwriting a value. */
export function uniqueNames(columns: ColumnMeta[]): string[] {
  const seen = new Set<string>();
  return columns.map((c) => {
    let name = c.name;
    for (let n = 2; seen.has(name); n++) name = `${c.name}_${n}`;
    seen.add(name);
    return name;
  });
}

export interface QueryRowConverter {
  names: string[];
  convert(row: unknown[]): Record<string, unknown>;
}

export function queryRowConverter(columns: ColumnMeta[], precision: Precision, opts: ValueOptions): QueryRowConverter {
  const names = uniqueNames(columns);
  const conv: Array<Convert | undefined> = columns.map((c) => {
    if (c.type === TYPE.TIMESTAMP) return timestampConverter(c.precision ?? precision, opts);
    if (c.type === TYPE.BIGINT || c.type === TYPE.UBIGINT) return bigintConverter(opts.bigint);
    return undefined;
  });
  return {
    names,
    convert(row) {
      const o: Record<string, unknown> = {};
      for (let k = 0; k < names.length; k++) {
        const v = row[k];
        const f = conv[k];
        o[names[k]] = v === undefined || v === null ? null : f ? f(v) : v;
      }
      return o;
    },
  };
}
