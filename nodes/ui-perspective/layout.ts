// The layout of a ui-perspective viewer: one <perspective-viewer> configuration (what the viewer's save()
// returns, so a layout can be copied from the dashboard page), from the editor's JSON or from a message.
// Checked on the server, where a bad one can be reported to the flow with its message; the browser applies
// what passed.

/** Keys a Perspective 3.8 viewer configuration may have (ViewerConfigUpdate). */
export const LAYOUT_KEYS = [
  "version", "plugin", "title", "theme", "settings", "plugin_config", "columns_config", "group_by", "split_by",
  "columns", "filter", "sort", "expressions", "aggregates", "group_by_depth", "filter_op",
] as const;

/** A layout is small: a larger one is a mistake (a table's rows sent as a layout), not a configuration. */
export const MAX_LAYOUT_BYTES = 64 * 1024;

export type Layout = Record<string, unknown>;

const ARRAYS = ["group_by", "split_by", "columns", "filter", "sort"];
const OBJECTS = ["plugin_config", "columns_config", "expressions", "aggregates"];
const STRINGS = ["version", "plugin", "title", "theme", "filter_op"];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A layout from a JSON text or an object. Empty text, undefined and null mean "no layout" (undefined).
 * Throws an Error that says what is wrong.
 */
export function parseLayout(value: unknown, what = "the layout"): Layout | undefined {
  if (value === undefined || value === null) return undefined;
  let v = value;
  if (typeof v === "string") {
    if (!v.trim()) return undefined;
    if (v.length > MAX_LAYOUT_BYTES) throw new Error(`${what} is larger than ${MAX_LAYOUT_BYTES / 1024} KiB`);
    try {
      v = JSON.parse(v);
    } catch (err) {
      throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
    }
  }
  // One viewer's configuration; the dashboard page's "Save layout" keeps a list of four, so take a
  // one-element list too.
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (!isPlainObject(v)) throw new Error(`${what} must be one viewer configuration object, like {"plugin": "Datagrid", "columns": [...]}`);
  let size: number;
  try {
    size = JSON.stringify(v).length;
  } catch (err) {
    throw new Error(`${what} cannot be serialised: ${(err as Error).message}`);
  }
  if (size > MAX_LAYOUT_BYTES) throw new Error(`${what} is larger than ${MAX_LAYOUT_BYTES / 1024} KiB`);
  const unknown = Object.keys(v).filter((k) => !(LAYOUT_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`${what} has unknown keys: ${unknown.join(", ")} (allowed: ${LAYOUT_KEYS.join(", ")})`);
  for (const k of ARRAYS) if (k in v && !Array.isArray(v[k])) throw new Error(`${what}: "${k}" must be an array`);
  for (const k of OBJECTS) if (k in v && v[k] !== null && !isPlainObject(v[k])) throw new Error(`${what}: "${k}" must be an object`);
  for (const k of STRINGS) if (k in v && v[k] !== null && typeof v[k] !== "string") throw new Error(`${what}: "${k}" must be a string`);
  if ("settings" in v && typeof v.settings !== "boolean") throw new Error(`${what}: "settings" must be true or false`);
  if ("group_by_depth" in v && !Number.isInteger(v.group_by_depth)) throw new Error(`${what}: "group_by_depth" must be a whole number`);
  return v;
}

/**
 * What a message asks for: msg.ui_update.layout when present (null or "" resets to the configured layout),
 * else msg.payload. `undefined` when the message carries no layout but other ui_update properties (class,
 * ...), which Dashboard 2.0 handles itself.
 */
export function layoutFromMessage(msg: { payload?: unknown; ui_update?: unknown }): { layout: Layout | null } | undefined {
  const upd = msg.ui_update;
  if (isPlainObject(upd) && "layout" in upd) return { layout: parseLayout(upd.layout, "msg.ui_update.layout") ?? null };
  const empty = msg.payload === undefined || msg.payload === null || msg.payload === "";
  if (empty && isPlainObject(upd)) return undefined;
  if (empty) throw new Error("msg.payload must be a viewer layout object (or set msg.ui_update.layout; null resets to the configured layout)");
  return { layout: parseLayout(msg.payload, "msg.payload") ?? null };
}
