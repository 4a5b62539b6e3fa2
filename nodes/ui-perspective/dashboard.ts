// What ui-perspective needs from FlowFuse Dashboard 2.0 (@flowfuse/node-red-dashboard, an optional peer):
// whether it is installed, the group a widget registers with, and the widget's entry in the dashboard's list
// of third-party widgets. Nothing here requires the dashboard's code: it is reached only through the nodes
// Node-RED created from the user's flows.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import type { DashboardAuthState } from "./dashboard-auth";

/** The server-side events a widget registers with (Dashboard 2.0's register(node, config, evts)). */
export interface WidgetEvents {
  onInput?: (msg: NodeMessageInFlow, send: (m: unknown) => void) => void | Promise<void>;
  onSocket?: Record<string, (...args: unknown[]) => void>;
}

export interface DashboardStateStore {
  set(base: unknown, node: Node, msg: unknown, prop: string, value: unknown): void;
}

export interface DashboardBase {
  stores?: { state?: DashboardStateStore };
  /** Dashboard 2.0's shared state; its `contribs` maps widget types to the third-party widgets it loads. */
  uiShared?: ({ contribs?: Record<string, WidgetSource> } & DashboardAuthState) | null;
}

export interface DashboardGroup {
  register(node: Node, config: object, evts: WidgetEvents): void;
  getBase(): DashboardBase | undefined;
}

/** A third-party widget as Dashboard 2.0 describes one: the browser loads /resources/<package>/<src>. */
export interface WidgetSource {
  package: string;
  name: string;
  src: string;
  path: string;
  component: string;
}

export const WIDGET_TYPE = "ui-perspective";
export const MISSING_DASHBOARD =
  "Dashboard 2.0 is not installed: install @flowfuse/node-red-dashboard (Manage palette) to show Perspective viewers in it";
const packageRoot = resolve(__dirname, "..", "..", "..");

let typeSeen = false;
/** Notes Dashboard 2.0's types as Node-RED registers them (for the modules loaded after this one). */
export function watchForDashboard(RED: NodeAPI): void {
  (RED.events as unknown as { on(e: string, f: (t: string) => void): void }).on("type-registered", (t) => {
    if (t === "ui-base") typeSeen = true;
  });
}

const UI_BASE_FILE = /[\\/]@flowfuse[\\/]node-red-dashboard[\\/]nodes[\\/]config[\\/]ui_base\.js$/;
/**
 * True when Node-RED loaded Dashboard 2.0 (its node types exist). The node API has no type lookup, so this
 * reads what Node-RED did: the dashboard's ui-base file was loaded (a module loaded before this one), or its
 * type was registered after this one was.
 */
export function dashboardInstalled(): boolean {
  return typeSeen || Object.keys(require.cache).some((f) => UI_BASE_FILE.test(f));
}

/** The group node a widget belongs to, or undefined when it is not a Dashboard 2.0 group. */
export function dashboardGroup(RED: NodeAPI, id: string | undefined): DashboardGroup | undefined {
  if (!id) return undefined;
  const g = RED.nodes.getNode(id) as unknown as Partial<DashboardGroup> | null;
  return g && typeof g.register === "function" && typeof g.getBase === "function" ? (g as DashboardGroup) : undefined;
}

let source: WidgetSource | undefined;

/** This package's widget as its package.json declares it (the `node-red-dashboard-2` section). */
export function widgetSource(): WidgetSource {
  if (source) return source;
  const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    name: string;
    "node-red-dashboard-2": { widgets: Record<string, { output: string; component: string }> };
  };
  const w = pkg["node-red-dashboard-2"].widgets[WIDGET_TYPE];
  source = { package: pkg.name, name: WIDGET_TYPE, src: w.output, path: packageRoot, component: w.component };
  return source;
}

/**
 * Makes sure Dashboard 2.0 knows where this widget's component is. Dashboard 2.0 (1.31) finds third-party
 * widgets in the package.json of the user directory, but only among dependencies whose name contains
 * "node-red-dashboard-2-"; this package's name does not, so without this the dashboard would draw an empty
 * template in its place. The entry is the one the dashboard would have made from our package.json. Returns
 * false when the dashboard offers no such list (then the widget cannot be shown).
 */
export function ensureWidgetSource(base: DashboardBase | undefined): boolean {
  const contribs = base?.uiShared?.contribs;
  if (!contribs || typeof contribs !== "object") return false;
  if (!contribs[WIDGET_TYPE]) contribs[WIDGET_TYPE] = widgetSource();
  return true;
}
