import type { Node, NodeAPI, NodeDef } from "node-red";

// Placeholder runtime: registers the type so the palette, help and loading are testable.
// The real behaviour lands with its own issue.
export = function (RED: NodeAPI): void {
  function PerspectiveConfigNode(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
  }
  RED.nodes.registerType("perspective-config", PerspectiveConfigNode, { credentials: {} });
};
