// Schemaless `insert`: InfluxDB line protocol (1), OpenTSDB telnet (2) and OpenTSDB JSON (3). Measurement /
// metric -> super table (first column _ts), tags -> NCHAR tags, typed fields -> columns (OpenTSDB: one column
// _value); subtables named t_<md5>; columns and tags are added and widened as needed; `ttl` (in ttlUnits, days by
// default) is the TTL of the subtables it creates, which then expire like any table with a TTL.
import { createHash } from "node:crypto";
import { CODE, TdError } from "./errors.js";
import { resolveDb, type EngineContext } from "./sql/context.js";
import { childTable, writeRows } from "./sql/insert.js";
import { nowIn } from "./sql/time.js";
import type { Database } from "./store/catalog.js";
import type { SuperTable } from "./store/table.js";
import { T, type ColumnDef, type Precision, type Value } from "./types.js";

interface Line {
  measurement: string;
  tags: [string, string][];
  fields: [string, number, Value][];
  ts: bigint | null;
}

function invalid(msg: string): TdError {
  return new TdError(CODE.SML_INVALID_DATA, `Invalid data format: ${msg}`);
}

/** Split on `sep` outside double quotes, honouring backslash escapes. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (c === '"') q = !q;
    if (c === sep && !q) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([,= "\\])/g, "$1");
}

function fieldValue(raw: string, line: string): [number, Value] {
  if (raw.startsWith('"')) {
    if (!raw.endsWith('"') || raw.length < 2) throw invalid(line);
    return [T.VARCHAR, raw.slice(1, -1).replace(/\\(["\\])/g, "$1")];
  }
  if (/^L"/.test(raw)) return [T.NCHAR, raw.slice(2, -1).replace(/\\(["\\])/g, "$1")];
  const low = raw.toLowerCase();
  if (["t", "true"].includes(low)) return [T.BOOL, true];
  if (["f", "false"].includes(low)) return [T.BOOL, false];
  const m = /^([+-]?[0-9.eE+-]+?)(i8|i16|i32|i64|i|u8|u16|u32|u64|u|f32|f64)?$/.exec(raw);
  if (!m) throw invalid(line);
  const num = m[1];
  switch (m[2]) {
    case "i8":
      return [T.TINYINT, Number(num)];
    case "i16":
      return [T.SMALLINT, Number(num)];
    case "i32":
      return [T.INT, Number(num)];
    case "i64":
    case "i":
      return [T.BIGINT, BigInt(num)];
    case "u8":
      return [T.UTINYINT, Number(num)];
    case "u16":
      return [T.USMALLINT, Number(num)];
    case "u32":
      return [T.UINT, Number(num)];
    case "u64":
    case "u":
      return [T.UBIGINT, BigInt(num)];
    case "f32":
      return [T.FLOAT, Math.fround(Number(num))];
    default: {
      const n = Number(num);
      if (Number.isNaN(n)) throw invalid(line);
      return [T.DOUBLE, n];
    }
  }
}

const SML_NS: Record<string, bigint> = { h: 3600000000000n, m: 60000000000n, s: 1000000000n, ms: 1000000n, u: 1000n, "μ": 1000n, ns: 1n, "": 1n };

function parseLine(line: string, precision: string, dbp: Precision): Line {
  const parts = splitTop(line.trim(), " ").filter((p) => p !== "");
  if (parts.length < 2 || parts.length > 3) throw invalid(line);
  const head = splitTop(parts[0], ",");
  const measurement = unescape(head[0]);
  if (!measurement) throw invalid(line);
  const tags = head.slice(1).map((kv): [string, string] => {
    const [k, ...v] = splitTop(kv, "=");
    if (!k || v.length === 0) throw invalid(line);
    return [unescape(k), unescape(v.join("="))];
  });
  const fields = splitTop(parts[1], ",").map((kv): [string, number, Value] => {
    const eq = kv.search(/(?<!\\)=/);
    if (eq <= 0) throw invalid(line);
    const [type, v] = fieldValue(kv.slice(eq + 1), line);
    return [unescape(kv.slice(0, eq)), type, v];
  });
  let ts: bigint | null = null;
  if (parts[2] !== undefined) {
    if (!/^-?\d+$/.test(parts[2])) throw invalid(line);
    const ns = BigInt(parts[2]) * SML_NS[precision];
    ts = ns / (dbp === "ms" ? 1000000n : dbp === "us" ? 1000n : 1n);
  }
  return { measurement, tags, fields, ts };
}

function widthOf(v: Value): number {
  return typeof v === "string" ? Math.max(Buffer.byteLength(v), 1) : 0;
}

function ensureSchema(ctx: EngineContext, db: Database, l: Line): SuperTable {
  let st = db.stables.get(l.measurement);
  if (!st) {
    if (db.tables.has(l.measurement)) throw new TdError(0x3004, `Invalid data format: ${l.measurement} is a normal table`);
    const columns: ColumnDef[] = [{ name: "_ts", type: T.TIMESTAMP, bytes: 8 }];
    const tags: ColumnDef[] = l.tags.length ? [] : [{ name: "_tag_null", type: T.NCHAR, bytes: 1 }];
    st = { name: l.measurement, columns, tags, children: new Map(), createdAt: ctx.catalog.now() };
    db.stables.set(l.measurement, st);
  }
  for (const [name, type, v] of l.fields) {
    const def = st.columns.find((c) => c.name === name);
    if (!def) {
      const nd: ColumnDef = { name, type, bytes: type === T.VARCHAR || type === T.NCHAR ? Math.max(widthOf(v), 16) : fixedBytes(type) };
      st.columns.push(nd);
      for (const t of st.children.values()) t.addColumnStore(nd);
    } else {
      if (def.type !== type) throw new TdError(0x3004, `Data type not match: ${name}`);
      if (widthOf(v) > def.bytes) def.bytes = widthOf(v);
    }
  }
  for (const [name, v] of l.tags) {
    const def = st.tags.find((c) => c.name === name);
    if (!def) {
      st.tags.push({ name, type: T.NCHAR, bytes: Math.max(widthOf(v), 8) });
      for (const t of st.children.values()) t.tags.push(null);
    } else if (widthOf(v) > def.bytes) def.bytes = widthOf(v);
  }
  void ctx;
  return st;
}

function fixedBytes(type: number): number {
  return type === T.BOOL || type === T.TINYINT || type === T.UTINYINT ? 1 : type === T.SMALLINT || type === T.USMALLINT ? 2 : type === T.INT || type === T.UINT || type === T.FLOAT ? 4 : 8;
}

/** OpenTSDB timestamps without a precision: 10 digits are seconds, 13 milliseconds, 16 microseconds, 19 ns. */
function openTsdbTs(raw: string, precision: string, dbp: Precision, line: string): bigint | null {
  if (!/^\d+$/.test(raw)) throw new TdError(CODE.SML_INVALID_DATA, `parse timestamp failed: ${line}`);
  const n = BigInt(raw);
  if (n === 0n) return null;
  const unit = precision || ({ 10: "s", 13: "ms", 16: "u", 19: "ns" } as Record<number, string>)[raw.length];
  if (!unit) throw new TdError(CODE.SML_INVALID_DATA, `parse timestamp failed: ${line}`);
  return (n * SML_NS[unit]) / (dbp === "ms" ? 1000000n : dbp === "us" ? 1000n : 1n);
}

/** `<metric> <timestamp> <value> <tagk=tagv> ...` (an optional leading "put" as OpenTSDB writes it). */
function parseTelnet(line: string, precision: string, dbp: Precision): Line {
  const parts = line.trim().split(/\s+/);
  if (parts[0] === "put") parts.shift();
  if (parts.length < 3) throw invalid(line);
  const ts = openTsdbTs(parts[1], precision, dbp, line);
  const [type, v] = fieldValue(parts[2], line);
  const tags = parts.slice(3).map((kv): [string, string] => {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw invalid(line);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
  return { measurement: parts[0], tags, fields: [["_value", type, v]], ts };
}

/** One OpenTSDB JSON data point: {metric, timestamp, value, tags}; timestamp and value may be {value, type}. */
function parseJsonPoint(p: unknown, precision: string, dbp: Precision): Line {
  const text = JSON.stringify(p);
  if (!p || typeof p !== "object") throw invalid(text);
  const o = p as Record<string, unknown>;
  if (typeof o.metric !== "string" || !o.metric) throw invalid(text);
  let ts: bigint | null;
  const t = o.timestamp;
  if (t && typeof t === "object") {
    const tv = (t as Record<string, unknown>).value;
    const unit = String((t as Record<string, unknown>).type ?? "");
    ts = openTsdbTs(String(tv), unit === "us" ? "u" : unit, dbp, text);
  } else ts = openTsdbTs(String(t), precision, dbp, text);
  let field: [string, number, Value];
  const v = o.value;
  const raw = v && typeof v === "object" ? (v as Record<string, unknown>).value : v;
  if (typeof raw === "number") field = ["_value", T.DOUBLE, raw];
  else if (typeof raw === "boolean") field = ["_value", T.BOOL, raw];
  else if (typeof raw === "string") field = ["_value", T.VARCHAR, raw];
  else throw invalid(text);
  const tags = o.tags && typeof o.tags === "object" ? Object.entries(o.tags as Record<string, unknown>).map(([k, x]): [string, string] => [k, x !== null && typeof x === "object" ? String((x as Record<string, unknown>).value) : String(x)]) : [];
  return { measurement: o.metric, tags, fields: [field], ts };
}

function parseAll(protocol: number, precision: string, data: string, dbp: Precision): Line[] {
  if (protocol === 3) {
    let doc: unknown;
    try {
      doc = JSON.parse(data);
    } catch {
      throw invalid(data.slice(0, 200));
    }
    return (Array.isArray(doc) ? doc : [doc]).map((p) => parseJsonPoint(p, precision, dbp));
  }
  const lines = data.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  return lines.map((l) => (protocol === 2 ? parseTelnet(l, precision, dbp) : parseLine(l, precision, dbp)));
}

export function schemalessInsert(ctx: EngineContext, protocol: number, precision: string, data: string, ttl = 0): { affected: number; total: number } {
  if (!protocol) throw new TdError(CODE.ADAPTER, "schemaless write protocol is null");
  if (protocol < 1 || protocol > 3) throw new TdError(CODE.SML_INVALID_PROTOCOL, "Invalid line protocol type");
  if (!Number.isInteger(ttl) || ttl < 0) throw new TdError(CODE.ADAPTER, `invalid ttl ${ttl}`);
  if (!(precision in SML_NS)) precision = "";
  const db = resolveDb(ctx, undefined, true);
  const parsed = parseAll(protocol, precision, data, db.precision);
  let affected = 0;
  for (const l of parsed) {
    const st = ensureSchema(ctx, db, l);
    const sortedTags = [...l.tags].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const name = "t_" + createHash("md5").update(l.measurement + "," + sortedTags.map(([k, v]) => `${k}=${v}`).join(",")).digest("hex");
    const tagVals: Value[] = st.tags.map((t) => sortedTags.find(([k]) => k === t.name)?.[1] ?? null);
    const table = childTable(ctx, db, st, name, tagVals, ttl);
    const ts = l.ts ?? nowIn(db.precision);
    const batch = table.columns.map((c, i) => ({ kind: "values" as const, values: [i === 0 ? ts : (l.fields.find(([n]) => n === c.name)?.[2] ?? null)] }));
    affected += writeRows(db, table, batch, [ts], 1, ctx.catalog);
  }
  return { affected, total: parsed.length };
}
