// Which Node-RED runs, for the demo and the test suite. The root install holds Node-RED 4.1 (Node 20 or newer);
// tools/node22 holds Node 22, and tools/node22/node-red-5 Node-RED 5 (engines node >=22.9), both installed by
// scripts/install-node22.sh, so that the root `npm ci` never installs a package this machine's Node cannot run.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export type NodeRedRuntime = "node-red-4" | "node-red-5";

const root = resolve(__dirname, "..", "..");
const nodeRed5Manifest = join(root, "tools", "node22", "node-red-5", "node_modules", "node-red", "package.json");

/** Node-RED 5 needs Node >= 22.9. */
export function canRunNodeRed5(version = process.versions.node): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 9);
}

/** Whether tools/node22/node-red-5 holds Node-RED 5 (npm test installs it; npm ci alone does not). */
export const nodeRed5Installed = (): boolean => existsSync(nodeRed5Manifest);

/**
 * NR_RUNTIME: "node-red-4" (Node-RED 4.1, the root install) or "node-red-5" (tools/node22); "node-red" or unset
 * means the one this Node runs: 5 on Node >= 22.9, else 4.1.
 */
export function runtimeFromEnv(value = process.env.NR_RUNTIME): NodeRedRuntime {
  if (value === "node-red-4" || value === "node-red-5") return value;
  if (value === undefined || value === "" || value === "node-red") return canRunNodeRed5() ? "node-red-5" : "node-red-4";
  throw new Error(`NR_RUNTIME=${value}: expected node-red-4, node-red-5 or node-red (the one this Node runs)`);
}

export interface NodeRedInstall {
  runtime: NodeRedRuntime;
  /** The folder of the node-red package (red.js, lib/red.js). */
  dir: string;
  version: string;
}

/** Finds the node-red package of a runtime, or says how to install it. */
export function nodeRedInstall(runtime: NodeRedRuntime): NodeRedInstall {
  let manifest: string;
  if (runtime === "node-red-4") {
    manifest = require.resolve("node-red/package.json", { paths: [root] });
  } else {
    if (!nodeRed5Installed()) throw new Error("Node-RED 5 is not installed in tools/node22/node-red-5: run scripts/install-node22.sh (npm test does)");
    if (!canRunNodeRed5()) throw new Error(`Node-RED 5 needs Node >= 22.9, this is ${process.versions.node}: run it with tools/node22/node_modules/.bin/node`);
    manifest = nodeRed5Manifest;
  }
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  return { runtime, dir: dirname(manifest), version };
}
