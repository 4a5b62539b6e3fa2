#!/usr/bin/env bash
# The demo: installs what is missing, builds, then runs Node-RED with this package and the example flow.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
NODE_BIN=node
major=$(node -p 'process.versions.node.split(".").map(Number).reduce((a,v,i)=>i<2?a*1000+v:a,0)')
npm run build >/dev/null
exec "$NODE_BIN" dist/scripts/demo.js "$@"
