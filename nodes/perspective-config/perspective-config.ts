import type { NodeAPI, NodeDef } from "node-red";
import { removeHost } from "../../lib/perspective/host";
import { acquireHosting, normalisePath, parseLimits, parsePort, type Hosting, type PerspectiveConfigNode } from "./hosting";

interface PerspectiveConfigDef extends NodeDef {
  path?: string;
  port?: string | number;
  bind?: string;
  serverViews?: boolean;
  maxPayloadKb?: string | number;
  maxViews?: string | number;
  maxInFlight?: string | number;
  maxConnections?: string | number;
  maxBufferMb?: string | number;
}

// The config node owns one reference on its hosting, so its page and WebSocket are served as long as it is
// deployed; perspective-out nodes take references of their own (they may outlive it during a redeploy).
export = function (RED: NodeAPI): void {
  function PerspectiveConfig(this: PerspectiveConfigNode, config: PerspectiveConfigDef): void {
    RED.nodes.createNode(this, config);
    let hosting: Hosting | undefined;
    try {
      this.hostingSettings = {
        key: this.id,
        path: normalisePath(config.path),
        port: parsePort(config.port),
        bind: (config.bind ?? "").trim() || undefined,
        serverViews: config.serverViews === true,
        limits: parseLimits(config),
      };
      hosting = acquireHosting(RED, this.hostingSettings, (m) => this.warn(m));
      const where = hosting.pageUrlPath;
      hosting.ready.then(
        () => this.log(`Perspective viewer at ${this.hostingSettings?.port ? `port ${this.hostingSettings.port} ` : ""}${where}`),
        (err: Error) => this.error(err.message),
      );
    } catch (err) {
      this.settingsError = (err as Error).message;
      this.error(this.settingsError);
    }
    this.on("close", (removed: boolean, done: () => void) => {
      const steps: Promise<unknown>[] = [];
      if (hosting) steps.push(hosting.release(removed));
      if (removed) steps.push(removeHost(this.id));
      Promise.all(steps).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType("perspective-config", PerspectiveConfig);
};
