#!/usr/bin/env bash
# The demo: installs what is missing, builds, then runs Node-RED with this package and the example flow
# (scripts/demo.ts: environment variables PORT, HOST, EMULATOR_PORT, TDENGINE_URL, TDENGINE_USER,
# TDENGINE_PASSWORD, DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Quiet when the build is fine; its full output when it is not.
if ! build_log="$(npm run build 2>&1)"; then
  printf '%s\n' "$build_log" >&2
  echo "npm start: the build failed (above)" >&2
  exit 1
fi
exec node dist/scripts/demo.js "$@"
