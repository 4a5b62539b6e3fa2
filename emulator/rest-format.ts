// JSON body of REST /rest/sql replies: column_meta triples, values per taosAdapter's rules (RFC3339 timestamps
// with fixed fraction width, hex for binary types, JSON tags embedded raw, DECIMAL as strings).
import type { ResultSet } from "./result.js";
import { formatRfc3339 } from "./sql/time.js";
import { formatDecimal } from "./sql/values.js";
import type { Zone } from "./sql/zone.js";
import { isDecimal, T, typeName, type Value } from "./types.js";

/** Shortest decimal text that reads back as the same float32 (Go's FormatFloat(v, 'f', -1, 32) style). */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return "null";
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return JSON.stringify(s);
  }
  return JSON.stringify(v);
}

export function restValue(type: number, v: Value, rs: ResultSet, scale = 0, zone?: Zone): string {
  if (v === null) return "null";
  switch (type) {
    case T.BOOL:
      return v ? "true" : "false";
    case T.TIMESTAMP:
      return JSON.stringify(formatRfc3339(BigInt(v as bigint), rs.precision, zone));
    case T.FLOAT:
      return float32Text(v as number);
    case T.DOUBLE:
      return Number.isFinite(v as number) ? JSON.stringify(v) : "null";
    case T.JSON:
      return (v as string).trim() === "" ? "null" : (v as string);
    case T.VARBINARY:
    case T.GEOMETRY:
    case T.BLOB:
      return JSON.stringify(Buffer.from(v as Uint8Array).toString("hex"));
    default:
      if (isDecimal(type)) return JSON.stringify(formatDecimal(v as bigint, scale));
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "string") return JSON.stringify(v);
      return JSON.stringify(v);
  }
}

/** zone: the `tz`/`conn_tz` of the request; timestamps then carry its offset instead of "Z". */
export function restRowsBody(rs: ResultSet, withTiming: number | null, zone?: Zone): string {
  const meta = rs.columns.map((c) => JSON.stringify([c.name, typeName(c.type, c.decPrecision, c.decScale), c.length])).join(",");
  const rows: string[] = [];
  for (let r = 0; r < rs.rowCount; r++) {
    const cells: string[] = [];
    for (let c = 0; c < rs.columns.length; c++) cells.push(restValue(rs.columns[c].type, rs.value(c, r), rs, rs.columns[c].decScale ?? 0, zone));
    rows.push(`[${cells.join(",")}]`);
  }
  const timing = withTiming === null ? "" : `,"timing":${withTiming}`;
  return `{"code":0,"column_meta":[${meta}],"data":[${rows.join(",")}],"rows":${rs.rowCount}${timing}}`;
}

export function restAffectedBody(n: number, withTiming: number | null): string {
  const timing = withTiming === null ? "" : `,"timing":${withTiming}`;
  return `{"code":0,"column_meta":[["affected_rows","INT",4]],"data":[[${n}]],"rows":1${timing}}`;
}
