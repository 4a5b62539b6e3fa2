#!/usr/bin/env bash
# The demo: installs what is missing, builds, then runs Node-RED with this package and the example flow.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build >/dev/null
exec node dist/scripts/demo.js "$@"
