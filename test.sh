#!/usr/bin/env bash
# Runs every test of the repository: the .NET suites (NUnit) and the JS client's suites (node --test),
# provisioning what they need (PostgreSQL, Chromium, npm packages) when the machine lacks it.
# The last line is the total: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results=$(mktemp -d)
passed=0 failed=0 skipped=0 broken=0

cleanup() {
  if [ -n "${started_pg:-}" ]; then bash tests/postgres.sh stop >/dev/null 2>&1 || true; fi
  rm -rf "$results"
}
trap cleanup EXIT

# PostgreSQL: a throwaway local cluster unless SESSIONSOCKETS_PG points at a server.
if [ -z "${SESSIONSOCKETS_PG:-}" ] && [ -f tests/postgres.sh ]; then
  if pg_env=$(bash tests/postgres.sh start); then
    eval "$pg_env"
    started_pg=1
  else
    echo "PostgreSQL could not be provisioned" >&2
    broken=1
  fi
fi

echo "== build"
if ! dotnet build SessionSockets.slnx -c Release -nologo -v quiet; then
  echo "build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
export SESSIONSOCKETS_SAMPLE_DLL="$root/samples/Chat/bin/Release/net10.0/Chat.dll"

# The sample as a Native AOT binary: Chat.ProcessTests run their cases against it too (a failed publish fails the run).
echo "== Native AOT publish of the sample"
if aot_env=$(bash tests/aot.sh); then
  eval "$aot_env"
else
  echo "the Native AOT publish of the sample failed" >&2
  broken=1
fi

echo "== dotnet test"
dotnet test SessionSockets.slnx -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" || true

for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${total:-0} - ${p:-0} - ${f:-0} - ${e:-0}))
done
trx_count=$(ls "$results"/*.trx 2>/dev/null | wc -l)
projects=$(grep -c 'tests/.*Tests.csproj' SessionSockets.slnx)
if [ "$trx_count" -lt "$projects" ]; then
  echo "only $trx_count of $projects test projects reported results" >&2
  broken=1
fi

if [ -f clients/js/run-tests.sh ]; then
  echo "== JS client"
  bash clients/js/run-tests.sh 2>&1 | tee "$results/js.log"
  js_status=${PIPESTATUS[0]}
  jp=$(grep -E '^# pass [0-9]+' "$results/js.log" | awk '{s+=$3} END {print s+0}')
  jf=$(grep -E '^# fail [0-9]+' "$results/js.log" | awk '{s+=$3} END {print s+0}')
  js=$(grep -E '^# (skipped|todo) [0-9]+' "$results/js.log" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + jp)); failed=$((failed + jf)); skipped=$((skipped + js))
  if [ "$js_status" -ne 0 ] && [ "$jf" -eq 0 ]; then
    echo "the JS test run failed before reporting a failure" >&2
    broken=1
  fi
fi

failed=$((failed + broken))
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
