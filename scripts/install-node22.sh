#!/usr/bin/env bash
# Installs tools/node22: Node 22 (npm package node@22) and Node-RED 5, for the suite's Node-RED 5 run.
# Two steps, so that no install warns EBADENGINE: Node-RED 5 declares engines.node >=22.9 and npm checks
# engines against the Node it runs on. 1) the binary alone (dependencies) with this machine's npm; 2) Node-RED 5
# (devDependencies) by the same npm running on the Node 22 from step 1, exactly as the lockfile says.
set -euo pipefail
cd "$(dirname "$0")/../tools/node22"
npm ci --omit=dev --no-audit --no-fund
# npm's own script when run by npm (npm test), else the one of the npm on PATH.
npm_cli="${npm_execpath:-}"
if [[ "$npm_cli" != *npm-cli.js ]]; then npm_cli="$(npm root -g)/npm/bin/npm-cli.js"; fi
node_modules/.bin/node "$npm_cli" install --no-audit --no-fund
