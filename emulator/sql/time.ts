// Time helpers: NOW in a precision, duration literals, timestamp strings.
import { CODE, TdError } from "../errors.js";
import type { Precision } from "../types.js";
import { offsetText, wallToUtc, type Zone } from "./zone.js";

const PER_MS: Record<Precision, bigint> = { ms: 1n, us: 1000n, ns: 1000000n };
const UNIT_NS: Record<string, bigint> = {
  b: 1n,
  u: 1000n,
  a: 1000000n,
  s: 1000000000n,
  m: 60000000000n,
  h: 3600000000000n,
  d: 86400000000000n,
  w: 604800000000000n,
};
const PREC_NS: Record<Precision, bigint> = { ms: 1000000n, us: 1000n, ns: 1n };

const hrBase = process.hrtime.bigint();
const wallBaseNs = BigInt(Date.now()) * 1000000n;

/** Current time in the given precision (sub-millisecond digits from the monotonic clock). */
export function nowIn(p: Precision): bigint {
  const ns = wallBaseNs + (process.hrtime.bigint() - hrBase);
  return ns / PREC_NS[p];
}

export function msToPrecision(ms: number, p: Precision): bigint {
  return BigInt(Math.trunc(ms)) * PER_MS[p];
}

/** Duration literal like "10m" in units of precision p. */
export function durationIn(text: string, p: Precision): bigint {
  const unit = text[text.length - 1];
  if (unit === "n" || unit === "y") throw new TdError(CODE.SYNTAX, `syntax error near "${text}" (calendar duration not allowed here)`);
  const n = BigInt(text.slice(0, -1));
  const ns = n * UNIT_NS[unit];
  return ns / PREC_NS[p];
}

const TS_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Timestamp string -> epoch in precision p. Strings without an offset are wall-clock time in the connection's zone
 * (the emulator process's zone when the connection set none, as taosAdapter uses its host's).
 */
export function parseTimestampString(s: string, p: Precision, zone?: Zone): bigint {
  const m = TS_RE.exec(s.trim());
  if (!m) throw new TdError(CODE.SYNTAX, `syntax error near "${s}" (invalid timestamp format)`);
  const [y, mo, d, h = "0", mi = "0", se = "0"] = [m[1], m[2], m[3], m[4], m[5], m[6]];
  let ms: number;
  // Set through setFullYear: Date.UTC and new Date(y, ...) read years 0-99 as 1900-1999.
  const at = new Date(0);
  if (m[8]) {
    at.setUTCFullYear(+y, +mo - 1, +d);
    at.setUTCHours(+h, +mi, +se, 0);
    ms = at.getTime();
    if (m[8].toUpperCase() !== "Z") {
      const sign = m[8][0] === "-" ? -1 : 1;
      const digits = m[8].slice(1).replace(":", "");
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
    }
  } else if (zone) {
    ms = wallToUtc(zone, +y, +mo - 1, +d, +h, +mi, +se);
  } else {
    at.setFullYear(+y, +mo - 1, +d);
    at.setHours(+h, +mi, +se, 0);
    ms = at.getTime();
  }
  if (Number.isNaN(ms)) throw new TdError(CODE.SYNTAX, `syntax error near "${s}" (invalid timestamp format)`);
  const frac = (m[7] ?? "").padEnd(9, "0");
  const fracNs = BigInt(frac);
  return (BigInt(ms) * 1000000n + fracNs) / PREC_NS[p];
}

/** RFC3339 rendering used by REST: fixed fraction width by precision, UTC "Z" or the zone's offset. */
export function formatRfc3339(v: bigint, p: Precision, zone?: Zone): string {
  const unit = PER_MS[p];
  let ms = v / unit;
  let sub = v % unit;
  if (sub < 0n) {
    sub += unit;
    ms -= 1n;
  }
  const off = zone ? zone.offsetMs(Number(ms)) : 0;
  const iso = new Date(Number(ms) + off).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  const suffix = off !== 0 ? offsetText(off) : "Z"; // Go's Z07:00 layout writes Z for a zero offset
  if (p === "ms") return iso.slice(0, 23) + suffix;
  const width = p === "us" ? 3 : 6;
  return iso.slice(0, 23) + sub.toString().padStart(width, "0") + suffix;
}
