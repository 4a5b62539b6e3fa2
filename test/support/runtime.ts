// Which Node-RED the suite runs against: NR_RUNTIME = node-red-4 (Node-RED 4.1, the root install) or
// node-red-5 (tools/node22, on Node >= 22.9); unset, the one this Node runs (scripts/node-red-runtime.ts).
// scripts/test.sh runs the suite once with each.
import { nodeRedInstall, runtimeFromEnv } from "../../scripts/node-red-runtime";

const install = nodeRedInstall(runtimeFromEnv());
export const runtimeName = install.runtime;
/** The node-red package's folder (red.js; its dependencies resolve from here). */
export const runtimeDir = install.dir;
export const runtimeVersion = install.version;
/** Path given to node-red-node-test-helper's init(): the runtime's main module (lib/red.js). */
export const runtimeMain = require.resolve(runtimeDir);
