#!/usr/bin/env bash
# Every test, from a fresh clone: installs what the suite needs, builds, lints, type-checks, then runs the
# whole suite twice: Node-RED 4.1.x (the root install) on this machine's Node 20, and Node-RED 5.0.x on Node 22
# (both from npm, in tools/node22).
# A failure in either run fails the command. Optional: TEST_FILTER=<substring> runs only matching test files.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

if [ "${CI:-}" = "true" ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund
fi
NR5=tools/node22/node-red-5
if [ "${CI:-}" = "true" ] || [ ! -x tools/node22/node_modules/.bin/node ] || [ ! -f $NR5/node_modules/node-red/package.json ] ||
    [ tools/node22/package-lock.json -nt tools/node22/node_modules/.package-lock.json ] ||
    [ $NR5/package-lock.json -nt $NR5/node_modules/.package-lock.json ]; then
  log "installing Node 22 (npm package node@22) and Node-RED 5 (tools/node22) for the Node-RED 5 run"
  bash scripts/install-node22.sh
fi
if [ ! -x /usr/bin/chromium ]; then
  log "installing Chromium from Debian for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

log "build (tsc, strict) and type check"
npm run build
log "lint (eslint + typescript-eslint)"
npm run lint

mapfile -t FILES < <(find dist/test -name '*.test.js' | sort | grep -F -- "${TEST_FILTER:-}" || true)
if [ "${#FILES[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi

NODE22="$PWD/tools/node22/node_modules/.bin/node"
RESULTS="$(mktemp -d)"
status=0
run_suite() { # label node-binary NR_RUNTIME
  log "tests: $1"
  if ! NR_RUNTIME="$3" "$2" --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec \
      "${FILES[@]}" 2>&1 | tee "$RESULTS/$1.log"; then
    status=1
  fi
}
run_suite "node-red-4.1-node-20" node node-red-4
run_suite "node-red-5.0-node-22" "$NODE22" node-red-5

count() { grep -hE "^ℹ $1 [0-9]+" "$RESULTS"/*.log | awk '{s+=$3} END {print s+0}'; }
passed=$(count pass); failed=$(count fail); skipped=$(count skipped)
tests=$(count tests)
log "both runs: $tests tests"
if [ "$tests" -eq 0 ]; then echo "no test ran" >&2; status=1; fi
if [ "$skipped" -ne 0 ]; then echo "skipped tests are not allowed" >&2; status=1; fi
echo "$passed passed, $failed failed"
exit $status
