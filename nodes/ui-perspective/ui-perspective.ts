// ui-perspective: a live Perspective viewer as a FlowFuse Dashboard 2.0 widget. The node registers with its
// dashboard group (Dashboard 2.0's third-party widget contract) and tells the browser where the Perspective
// host's page is; the widget's component (resources/ui-perspective.umd.js) replicates the table from that
// host exactly like the bundled page does. A message sets the viewer's layout at run time.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { acquireHosting, DEFAULT_PATH, type Hosting, type HostGuard, type HostingSettings, type PerspectiveConfigNode } from "../perspective-config/hosting";
import { dashboardGuard } from "./dashboard-auth";
import { ownPortGuard, ownPortRefusal } from "./own-port";
import { dashboardGroup, dashboardInstalled, ensureWidgetSource, watchForDashboard, MISSING_DASHBOARD, type DashboardBase } from "./dashboard";
import { layoutFromMessage, parseLayout, type Layout } from "./layout";

interface UIPerspectiveDef extends NodeDef {
  group?: string;
  order?: number;
  width?: string | number;
  height?: string | number;
  server?: string;
  table?: string;
  layout?: string;
  followTheme?: boolean;
}


/** Layouts set by messages are kept by Dashboard 2.0 under this widget property (not "layout", the configured one). */
const RUNTIME_LAYOUT = "runtimeLayout";
/** Configured layout of each widget when it last started: a change of it drops a layout set by a message. */
const configuredLayouts = new Map<string, string>();

export = function (RED: NodeAPI): void {
  let reportedMissing = false;
  watchForDashboard(RED);
  /** One guard per dashboard (its shared state outlives redeploys), so its middleware runs once per request. */
  const guards = new WeakMap<object, HostGuard>();
  const sharedDashboardGuard = (base: DashboardBase | undefined): HostGuard => {
    const key = base?.uiShared ?? RED.settings;
    let g = guards.get(key);
    if (!g) {
      g = dashboardGuard(base?.uiShared, RED.settings as unknown as Record<string, unknown>, (m) => RED.log.warn(`[ui-perspective] ${m}`));
      guards.set(key, g);
    }
    return g;
  };

  function UIPerspective(this: Node, config: UIPerspectiveDef): void {
    RED.nodes.createNode(this, config);
    /** A node that cannot show anything: its status says why, and so does every message it is sent. */
    const fail = (text: string, full = text): void => {
      this.status({ fill: "red", shape: "ring", text: text.length > 60 ? text.slice(0, 57) + "..." : text });
      this.on("input", (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(new Error(full)));
    };

    const group = dashboardGroup(RED, config.group);
    if (!group && !dashboardInstalled()) {
      fail("Dashboard 2.0 is not installed", MISSING_DASHBOARD);
      // Once per Node-RED process: every widget node says it on its status.
      if (!reportedMissing) {
        reportedMissing = true;
        this.warn(MISSING_DASHBOARD);
      }
      return;
    }
    if (!group) {
      fail("no Dashboard 2.0 group chosen");
      this.error("choose the Dashboard 2.0 group the viewer is shown in");
      return;
    }

    const base: DashboardBase | undefined = group.getBase();
    let layout: Layout | undefined;
    let hosting: Hosting | undefined;
    let unguard: (() => void) | undefined;
    let shortText: string | undefined;
    let pagePort: number | undefined;
    try {
      const table = (config.table ?? "").trim();
      if (!table) throw new Error("no table chosen");
      layout = parseLayout(config.layout);
      let settings: HostingSettings;
      if (config.server) {
        const cfg = RED.nodes.getNode(config.server) as PerspectiveConfigNode | null;
        if (!cfg) throw new Error("the Perspective host configuration node is missing");
        if (!cfg.hostingSettings) throw new Error(cfg.settingsError ?? "the Perspective host is not configured");
        settings = cfg.hostingSettings;
      } else {
        settings = { key: "default", path: DEFAULT_PATH };
      }
      // The widget loads Perspective from the host's page and opens its WebSocket from the dashboard's page: on
      // a port of its own, that is another origin (see own-port.ts).
      const redSettings = RED.settings as unknown as Record<string, unknown>;
      const refusal = settings.port ? ownPortRefusal(RED, base?.uiShared, redSettings) : undefined;
      if (refusal) {
        shortText = refusal.short;
        throw new Error(refusal.text);
      }
      if (!RED.server) throw new Error("Node-RED has no HTTP server to serve Perspective on");
      hosting = acquireHosting(RED, settings, (m) => this.warn(m));
      // A browser the dashboard refuses is refused by the host too, while this widget shows its table.
      unguard = hosting.guard(settings.port ? ownPortGuard(RED) : sharedDashboardGuard(base));
      pagePort = settings.port;
      hosting.ready.catch((err: Error) => {
        this.error(err.message);
        this.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      });
    } catch (err) {
      const text = (err as Error).message;
      void hosting?.release(false);
      fail(shortText ?? text, text);
      this.error(text);
      return;
    }

    if (!ensureWidgetSource(base)) this.warn("this Dashboard 2.0 version gives no list of third-party widgets: the viewer may not show");
    const state = base?.stores?.state;
    const configured = JSON.stringify(layout ?? null);
    if (configuredLayouts.has(this.id) && configuredLayouts.get(this.id) !== configured) {
      // Edited and deployed: the layout set in the editor wins over one an earlier message set.
      state?.set(base, this, null, RUNTIME_LAYOUT, null);
    }
    configuredLayouts.set(this.id, configured);

    const widgetConfig = {
      ...config,
      layout: layout ?? null,
      followTheme: config.followTheme !== false,
      // Absolute URL path of the Perspective host's page (assets, config.json, ws) on this server.
      pagePath: hosting.pageUrlPath,
      // A host on a port of its own: the browser reaches it on the dashboard's host name at this port.
      pagePort: pagePort ?? null,
    };
    group.register(this, widgetConfig, {
      onInput: (msg) => {
        const asked = layoutFromMessage(msg as { payload?: unknown; ui_update?: unknown });
        if (!asked) return;
        // Kept for browsers that open the dashboard later; the dashboard sends the message to those open now.
        state?.set(base, this, msg, RUNTIME_LAYOUT, asked.layout);
      },
    });
    this.status({ fill: "green", shape: "dot", text: config.table ?? "" });

    this.on("close", (removed: boolean, done: () => void) => {
      if (removed) {
        configuredLayouts.delete(this.id);
        state?.set(base, this, null, RUNTIME_LAYOUT, null);
      }
      unguard?.();
      hosting?.release(removed).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType("ui-perspective", UIPerspective);
};
