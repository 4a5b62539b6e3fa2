import type { Node, NodeAPI, NodeDef } from "node-red";

// Placeholder runtime: registers the type so the palette, help and loading are testable.
// The real behaviour lands with its own issue.
export = function (RED: NodeAPI): void {
  function TdengineWriteNode(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
  }
  RED.nodes.registerType("tdengine-write", TdengineWriteNode);
};
