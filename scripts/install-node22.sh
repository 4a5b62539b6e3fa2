#!/usr/bin/env bash
# Installs tools/node22: Node 22 (npm package node@22), then Node-RED 5 into tools/node22/node-red-5, for the
# suite's Node-RED 5 run. Node-RED 5 declares engines.node >=22.9 and npm checks engines against the Node it runs
# on, so its install is done by npm running on that Node 22: no EBADENGINE warning, whatever Node runs this.
set -euo pipefail
cd "$(dirname "$0")/../tools/node22"
npm ci --no-audit --no-fund
# npm's own script when run by npm (npm test), else the one of the npm on PATH.
npm_cli="${npm_execpath:-}"
if [[ "$npm_cli" != *npm-cli.js ]]; then npm_cli="$(npm root -g)/npm/bin/npm-cli.js"; fi
cd node-red-5
../node_modules/.bin/node "$npm_cli" ci --no-audit --no-fund
