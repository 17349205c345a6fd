#!/usr/bin/env bash
# The sample under the JIT vs as a Native AOT binary (issue 17): start time to the first /healthz 200, RSS at idle,
# RSS with HOLD idle connections, and echo msgs/s at 64 connections. Every figure is taken on a freshly started
# process, the two builds alternating (order flipped each round); the medians and their AOT/JIT ratios are printed
# as a Markdown table for docs/benchmarks.md.
#
#   bash benchmarks/aot.sh                      # ROUNDS=3 HOLD=10000 DURATION=8
#   SESSIONSOCKETS_SAMPLE_NATIVE=/path/Chat ROUNDS=1 HOLD=200 DURATION=2 bash benchmarks/aot.sh   # check the script
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ROUNDS=${ROUNDS:-3} HOLD=${HOLD:-10000} DURATION=${DURATION:-8}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

dotnet build SessionSockets.slnx -c Release -nologo -v quiet >&2
if [ ! -x "${SESSIONSOCKETS_SAMPLE_NATIVE:-}" ]; then   # a binary published from this tree may be given
  eval "$(SESSIONSOCKETS_AOT_OUT=${TMPDIR:-/tmp}/sessionsockets-bench-aot bash tests/aot.sh)"
fi
jit=(dotnet "$(pwd)/samples/Chat/bin/Release/net10.0/Chat.dll")
aot=("$SESSIONSOCKETS_SAMPLE_NATIVE")
load=(dotnet "$(pwd)/benchmarks/SessionSockets.LoadTest/bin/Release/net10.0/SessionSockets.LoadTest.dll" run)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=5480
args=(--SessionSockets:RateLimit:HandshakesPerSecond 0 --SessionSockets:RateLimit:MessagesPerSecond 0 --Chat:SendsPerSecond 0 --Logging:LogLevel:Default Warning)

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# start <build>: starts a fresh server on $port in a fresh directory; sets pid and start_ms (time to the first 200).
start() {
  local -n cmd=$1
  rm -rf "$work/db" && mkdir -p "$work/db"
  local t0; t0=$(now_ms)
  (cd "$work/db" && exec "${cmd[@]}" --urls "http://127.0.0.1:$port" "${args[@]}" >"$work/server.log" 2>&1) &
  pid=$!
  until curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q 200; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.005
  done
  start_ms=$(( $(now_ms) - t0 ))
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }

for build in jit aot; do : >"$work/$build.tsv"; done
for round in $(seq 1 "$ROUNDS"); do
  order=(jit aot); [ $((round % 2)) = 0 ] && order=(aot jit)
  for build in "${order[@]}"; do
    start "$build"; s=$start_ms; sleep 2; idle=$(rss_kb "$pid"); stop
    start "$build"
    held=$("${load[@]}" --url "http://127.0.0.1:$port" --mode hold --connections "$HOLD" --sessions "$HOLD" --auth handshake --duration 15 --server-pid "$pid" | field rss_per_connection_bytes)
    stop
    start "$build"
    echo64=$("${load[@]}" --url "http://127.0.0.1:$port" --connections 64 --sessions 64 --duration "$DURATION" --warmup 2 --server-pid "$pid" | field 'msgs/s')
    stop
    printf '%s\t%s\t%s\t%s\n' "$s" "$idle" "$held" "$echo64" >>"$work/$build.tsv"
    echo "round $round $build: start ${s} ms, idle RSS ${idle} kB, ${held} B per held connection, echo ${echo64} msgs/s" >&2
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { cut -f"$2" "$work/$1.tsv" | median; }
echo "| figure | JIT | Native AOT | AOT / JIT |"
echo "|---|---:|---:|---:|"
for spec in "1:start to first /healthz 200 (ms)" "2:RSS at idle (kB)" "3:RSS per idle connection, $HOLD held (bytes)" "4:echo msgs/s, 64 connections"; do
  i=${spec%%:*} name=${spec#*:}
  j=$(col jit "$i") a=$(col aot "$i")
  printf '| %s | %s | %s | %s |\n' "$name" "$j" "$a" "$(awk -v a="$a" -v j="$j" 'BEGIN {printf "%.2f", a / j}')"
done
echo
echo "Medians of $ROUNDS rounds, each figure on a freshly started process, JIT and AOT alternating; \`bash benchmarks/aot.sh\`."
