// Time zones of a connection (`tz` in `conn`, `options_connection` option 1, REST `conn_tz`/`tz`): IANA names,
// TDengine's POSIX-style "UTC-8" (= +08:00, POSIX signs are inverted) and "+08:00"-style fixed offsets.
// Without a zone the emulator process's own zone applies, as taosAdapter uses its host's zone.
import { TdError } from "../errors.js";

export interface Zone {
  /** As the client spelled it (shown by timezone()). */
  readonly name: string;
  /** Offset from UTC in ms at the UTC instant `utcMs` (positive east of Greenwich). */
  offsetMs(utcMs: number): number;
}

const LOCAL: Zone = {
  name: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  offsetMs: (utcMs) => -new Date(utcMs).getTimezoneOffset() * 60000,
};

function fixed(name: string, ms: number): Zone {
  return { name, offsetMs: () => ms };
}

const cache = new Map<string, Zone>();

function iana(name: string): Zone {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: name,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return {
    name,
    offsetMs(utcMs) {
      const whole = Math.floor(utcMs / 1000) * 1000;
      const p: Record<string, number> = {};
      for (const part of fmt.formatToParts(new Date(whole))) if (part.type !== "literal") p[part.type] = Number(part.value);
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
    },
  };
}

/** The zone for a client-supplied name; a clear error for names that are no zone. */
export function parseZone(spec: string): Zone {
  const s = spec.trim();
  const hit = cache.get(s);
  if (hit) return hit;
  let z: Zone;
  const posix = /^(?:UTC|GMT)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$/i.exec(s);
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(s);
  if (posix) {
    const mins = posix[1] ? (Number(posix[2]) * 60 + Number(posix[3] ?? 0)) * (posix[1] === "-" ? 1 : -1) : 0;
    z = fixed(s, mins * 60000);
  } else if (offset) {
    z = fixed(s, (Number(offset[2]) * 60 + Number(offset[3])) * 60000 * (offset[1] === "-" ? -1 : 1));
  } else {
    try {
      z = iana(s);
    } catch {
      throw new TdError(0xffff, `invalid timezone: ${spec}`);
    }
  }
  if (cache.size > 256) cache.clear();
  cache.set(s, z);
  return z;
}

/** The zone a statement runs in: the session's, else the emulator process's. */
export function zoneOf(tz: string | null | undefined): Zone {
  return tz ? parseZone(tz) : LOCAL;
}

/** Epoch ms of a wall-clock time in zone z. */
export function wallToUtc(z: Zone, y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const wall = Date.UTC(y, mo, d, h, mi, s);
  let u = wall - z.offsetMs(wall);
  u = wall - z.offsetMs(u);
  return u;
}

/** "+08:00" / "-05:30" for an offset in ms. */
export function offsetText(ms: number, colon = true): string {
  const sign = ms < 0 ? "-" : "+";
  const m = Math.abs(Math.round(ms / 60000));
  const hh = String(Math.floor(m / 60)).padStart(2, "0");
  const mm = String(m % 60).padStart(2, "0");
  return `${sign}${hh}${colon ? ":" : ""}${mm}`;
}

/** What TDengine's timezone() shows: "Asia/Shanghai (UTC, +0800)"-style name and current offset. */
export function describeZone(z: Zone): string {
  const off = z.offsetMs(Date.now());
  return `${z.name} (${off === 0 ? "UTC" : "UTC" + offsetText(off, false).replace(/00$/, "").replace(/^([+-])0/, "$1")}, ${offsetText(off, false)})`;
}
