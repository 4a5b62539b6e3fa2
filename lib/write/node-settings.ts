// The tdengine-write node's editor settings (strings from the form) read into pipeline options, with readable
// errors. Node-RED-free so it can be tested without a runtime.
import type { MapOptions } from "./mapper";
import type { PipelineOptions } from "./pipeline";
import { declaredSchema, type Precision, type TableSchema } from "./schema";

export interface WriteNodeSettings {
  database?: string;
  stable?: string;
  subtableMode?: "template" | "field";
  subtable?: string;
  tsField?: string;
  tsUnit?: "ms" | "db";
  columns?: string;
  tags?: string;
  autoCreate?: boolean;
  precision?: Precision;
  strict?: boolean;
  batchSize?: string | number;
  flushInterval?: string | number;
  maxBuffered?: string | number;
  closeTimeout?: string | number;
  output?: boolean;
}

/** Node-RED stops waiting for a close handler after 15 s; the flush must end before that. */
export const MAX_CLOSE_MS = 12000;

function num(v: unknown, fallback: number, min = 1): number {
  const n = Number(v);
  return v !== "" && v !== undefined && Number.isFinite(n) && n >= min ? n : fallback;
}

/** Reads the node's settings into pipeline options (throws a readable error). */
export function pipelineSettings(config: WriteNodeSettings, defaultDatabase: string): Omit<PipelineOptions, "getClient" | "onEvent"> & { closeTimeoutMs: number; output: boolean } {
  const database = (config.database ?? "").trim() || defaultDatabase;
  if (!database) throw new Error("no database: set one here or in the connection");
  const stable = (config.stable ?? "").trim();
  if (!stable) throw new Error("no super table set");
  const columns = (config.columns ?? "").trim();
  const tags = (config.tags ?? "").trim();
  let schema: TableSchema | undefined;
  if (columns || tags) schema = declaredSchema(columns, tags);
  const precision: Precision = config.precision === "us" || config.precision === "ns" ? config.precision : "ms";
  if (config.autoCreate && !schema) throw new Error("auto-create needs the columns and tags declared");
  const subtable = (config.subtable ?? "").trim();
  if (!subtable) throw new Error("no subtable name template or field set");
  const map: MapOptions = {
    tsField: (config.tsField ?? "").trim() || "ts",
    tsUnit: config.tsUnit === "db" ? "db" : "ms",
    subtable: config.subtableMode === "field" ? { mode: "field", field: subtable } : { mode: "template", template: subtable },
    strict: config.strict === true,
  };
  return {
    database,
    stable,
    schema,
    autoCreate: config.autoCreate ? { precision } : undefined,
    map,
    batchRows: Math.floor(num(config.batchSize, 1000)),
    flushMs: num(config.flushInterval, 100, 0),
    maxBufferedRows: Math.floor(num(config.maxBuffered, 100000)),
    closeTimeoutMs: Math.min(num(config.closeTimeout, 10000, 0), MAX_CLOSE_MS),
    output: config.output === true,
  };
}

