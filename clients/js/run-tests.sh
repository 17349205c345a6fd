#!/usr/bin/env bash
# Runs every test of the JS client: unit (fake WebSocket, fake clock), package (`npm pack` installed
# into a fresh project and imported; the .d.ts checked by the pinned `tsc`), integration (the real
# sample on 127.0.0.1 through `ws`) and browser (the chat page, and a bundler-free import of the
# module, in headless Chromium via playwright-core).
# Works on a fresh Debian machine with node/npm and the .NET SDK: installs the npm dev dependencies,
# Chromium (apt, as root) when /usr/bin/chromium is missing, and builds the sample unless
# SESSIONSOCKETS_SAMPLE_DLL names a built Chat.dll. Prints node's TAP summary (# pass/# fail/
# # skipped) for each of the four runs and exits non-zero when anything failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
JS_DIR=$(pwd)
REPO_ROOT=$(cd ../.. && pwd)
started=$(date +%s)
status=0

echo "== clients/js: npm ci"
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "npm ci failed" >&2
  exit 1
fi

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "== clients/js: $CHROMIUM is missing: installing Debian's chromium"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; } >"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2
      echo "apt-get install chromium failed" >&2
    fi
    rm -f "$apt_log"
  else
    echo "not root or no apt-get: cannot install chromium" >&2
  fi
  # the browser tests fail (CI=true) or skip (otherwise) when it is still missing
fi

build_dir=""
cleanup() {
  if [ -n "$build_dir" ]; then rm -rf "$build_dir"; fi
}
trap cleanup EXIT
if [ -z "${SESSIONSOCKETS_SAMPLE_DLL:-}" ]; then
  build_dir=$(mktemp -d "${TMPDIR:-/tmp}/sessionsockets-js-sample.XXXXXX")
  echo "== clients/js: dotnet build samples/Chat"
  if dotnet build "$REPO_ROOT/samples/Chat" -c Release -o "$build_dir" -nologo -v q; then
    export SESSIONSOCKETS_SAMPLE_DLL="$build_dir/Chat.dll"
  else
    echo "building samples/Chat failed: the integration and browser tests will fail" >&2
    status=1
  fi
fi

run_suite() {
  local name=$1
  shift
  echo "== clients/js: $name tests"
  # bounded: per test and per run
  if ! timeout --kill-after=10 300 node --test --test-reporter=tap --test-concurrency=1 \
      --test-timeout=120000 "$@"; then
    echo "== clients/js: $name tests FAILED"
    status=1
  fi
}

run_suite unit test/unit/*.test.mjs
run_suite package test/package/*.test.mjs
run_suite integration test/integration/*.test.mjs
run_suite browser test/browser/*.test.mjs

echo "== clients/js: done in $(( $(date +%s) - started )) s, exit $status"
exit $status
