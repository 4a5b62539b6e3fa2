// The package's manifest and node list, read the way Node-RED reads them.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const root = resolve(__dirname, "..", "..", "..");
export interface Manifest {
  name: string;
  license?: string;
  keywords?: string[];
  repository?: { url?: string } | string;
  bugs?: { url?: string } | string;
  engines?: { node?: string };
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  "node-red-dashboard-2"?: { version?: string; widgets: Record<string, { output: string; component: string }> };
  "node-red": { version?: string; nodes: Record<string, string> };
}
export const manifest: Manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
export const nodeFiles = manifest["node-red"].nodes;
/** Node types that are not config nodes (the ones an example must use). */
export const flowNodeTypes = ["tdengine-write", "tdengine-poll", "tdengine-query", "tdengine-subscribe", "perspective-out", "ui-perspective"];
export const configNodeTypes = ["tdengine-config", "perspective-config"];
export const allNodeTypes = [...configNodeTypes, ...flowNodeTypes];
export function nodeModule(type: string): unknown {
  return require(join(root, nodeFiles[type]));
}
