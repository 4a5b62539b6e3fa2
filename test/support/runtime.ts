// Which Node-RED the suite runs against: NR_RUNTIME names the npm package ("node-red" = 5.0.x,
// "node-red-4" = the 4.1.x alias). scripts/test.sh runs the suite once with each.
import { dirname } from "node:path";

export const runtimeName = process.env.NR_RUNTIME ?? "node-red";
export const runtimeDir = dirname(require.resolve(`${runtimeName}/package.json`));
export const runtimeVersion: string = (require(`${runtimeName}/package.json`) as { version: string }).version;
/** Path given to node-red-node-test-helper's init(): the runtime's main module (lib/red.js). */
export const runtimeMain = require.resolve(runtimeName);
