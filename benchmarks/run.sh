#!/usr/bin/env bash
# The performance budget run (issue 6): builds Release, runs the BenchmarkDotNet suite (allocations per echo,
# session cache hit/miss, fan-out to 1,000), then RawEcho and the sample alternately under the same load
# (order flipped each round, >= 3 rounds), and writes the medians, their ratios and the machine to docs/benchmarks.md.
#
#   bash benchmarks/run.sh                 # full run, about 10-15 minutes on 2 cores
#   ROUNDS=7 DURATION=10 bash benchmarks/run.sh
#   QUICK=1 bash benchmarks/run.sh         # 1 round, short runs, no BenchmarkDotNet: checks the script only
#
# Knobs: ROUNDS (5; a server on this 2-core VM runs in one of two speed modes, see docs/benchmarks.md),
# DURATION (8 s measured per load), WARMUP (2 s), HOLD (10000 idle connections),
# MAX_HOLD (50000, capped by the open-file limit), SESSION_TOKENS (10000), BDN (1: run BenchmarkDotNet).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
HOLD=${HOLD:-10000}
MAX_HOLD=${MAX_HOLD:-50000}
SESSION_TOKENS=${SESSION_TOKENS:-10000}
BDN=${BDN:-1}
if [ -n "${QUICK:-}" ]; then
  ROUNDS=1 DURATION=2 WARMUP=1 HOLD=500 MAX_HOLD=1000 SESSION_TOKENS=200 BDN=0
fi

# Every connection is a file descriptor in the server and one in the load tool (both need HOLD and MAX_HOLD + slack).
ulimit -n 1048576 2>/dev/null || ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
limit=$(ulimit -n)
if [ "$limit" != unlimited ] && [ "$MAX_HOLD" -gt $((limit - 1000)) ]; then
  echo "open-file limit is $limit (hard $(ulimit -Hn); raising it needs CAP_SYS_RESOURCE): max hold capped at $((limit - 1000))" >&2
  MAX_HOLD_NOTE="capped from $MAX_HOLD by the open-file limit ($limit, hard limit $(ulimit -Hn))"
  MAX_HOLD=$((limit - 1000))
fi
if [ "$HOLD" -gt $((limit - 1000)) ]; then HOLD=$((limit - 1000)); fi

echo "== build (Release)"
dotnet build SessionSockets.slnx -c Release -nologo -v quiet

artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
extra="$artifacts/extra.md"
: >"$extra"
if [ -n "${MAX_HOLD_NOTE:-}" ]; then
  printf '\n**Connections held:** %s.\n' "$MAX_HOLD_NOTE" >>"$extra"
fi

if [ "$BDN" = 1 ]; then
  echo "== BenchmarkDotNet (MemoryDiagnoser)"
  # BenchmarkDotNet finds the project to rebuild from the working directory.
  (cd benchmarks/SessionSockets.Benchmarks && dotnet bin/Release/net10.0/SessionSockets.Benchmarks.dll \
    --filter '*' --job short --exporters github --artifacts "$artifacts/bdn")
  {
    printf '\n### BenchmarkDotNet (in-memory connections, ShortRun, MemoryDiagnoser)\n\n'
    printf 'Allocated counts every thread (the client side allocates nothing: see RawEcho). `Error`/`StdDev` are wide on a shared 2-core machine; compare `Allocated`, which does not drift.\n\n'
    for report in "$artifacts"/bdn/results/*-report-github.md; do
      sed -n '/^|/p' "$report"
      echo
    done
  } >>"$extra"
fi

echo "== load: RawEcho vs sample, $ROUNDS rounds"
dotnet benchmarks/SessionSockets.LoadTest/bin/Release/net10.0/SessionSockets.LoadTest.dll suite \
  --raw-echo benchmarks/baselines/RawEcho/bin/Release/net10.0/RawEcho.dll \
  --sample samples/Chat/bin/Release/net10.0/Chat.dll \
  --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" --hold "$HOLD" --max-hold "$MAX_HOLD" \
  --session-tokens "$SESSION_TOKENS" --out "${OUT:-docs/benchmarks.md}" --extra "$extra"
