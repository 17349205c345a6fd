#!/usr/bin/env bash
# Idle cost per connection (issue 18), on a FRESHLY started server process: holds N connections idle for D seconds,
# then sends one message on each and checks every reply. Prints RSS and managed heap before/after, per connection,
# the server's CPU over the idle window (% of one core, /proc/<pid>/stat) and its timer count. About D + 20 s.
#
#   N=10000 D=15 bash benchmarks/idle.sh                 # the sample, the load tool (ClientWebSocket), sid cookie
#   N=10000 D=15 bash benchmarks/idle.sh --server raw    # RawEcho (raw Kestrel + UseWebSockets), no auth
#   GCDUMP=1 bash benchmarks/idle.sh                     # also the gcdump's top 25 types by bytes during the hold
#   CLIENT=node bash benchmarks/idle.sh                  # the client of another stack: node + ws (benchmarks/node-client)
#
# Knobs: N (10000), CLIENT (dotnet | node; or --client), D (15 s idle, >= 15 for the issue's figure), SERVER (sample | raw; or --server), SETTLE (3 s after
# the last connect before the idle window starts), KEEPALIVE (15 s) and KEEPALIVE_TIMEOUT (30 s) for both servers,
# PORT (5290; it must be free), GCDUMP (0), OWNERS (0; 1 with GCDUMP=1: the heap per connection by owner, benchmarks/gcdump-owners.sh), BUILD (1; 0 uses the existing Release builds), SERVER_ARGS (more server arguments), SAMPLE_DLL (another build of the sample, e.g. an
# older commit's, to compare before and after).
# The sample runs with --SessionSockets:RateLimit:MessagesPerSecond 0 --SessionSockets:RateLimit:HandshakesPerSecond 0
# --Logging:LogLevel:Default Warning; its sessions come from POST /login (N sessions, 100 users), as the suite's do.
# Heap figures are live bytes after the full GC that dotnet-gcdump runs (tools installed into benchmarks/.tools).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
N=${N:-10000} D=${D:-15} SERVER=${SERVER:-sample} SETTLE=${SETTLE:-3} PORT=${PORT:-5290} GCDUMP=${GCDUMP:-0}
CLIENT=${CLIENT:-dotnet} KEEPALIVE=${KEEPALIVE:-15} KEEPALIVE_TIMEOUT=${KEEPALIVE_TIMEOUT:-30} BUILD=${BUILD:-1}
while [ $# -gt 0 ]; do
  case $1 in
    --server) SERVER=$2; shift 2 ;;
    --client) CLIENT=$2; shift 2 ;;
    *) echo "unknown argument $1 (use --server sample|raw, --client dotnet|node)" >&2; exit 2 ;;
  esac
done
case $SERVER in sample|raw) ;; *) echo "SERVER is sample or raw" >&2; exit 2 ;; esac
case $CLIENT in dotnet|node) ;; *) echo "CLIENT is dotnet or node" >&2; exit 2 ;; esac

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
limit=$(ulimit -n)
if [ "$limit" != unlimited ] && [ "$N" -gt $((limit - 1000)) ]; then
  echo "N=$N is above the open-file limit ($limit) - 1000: use N <= $((limit - 1000))" >&2
  exit 2
fi

export TOOLS="$root/benchmarks/.tools"
for tool in dotnet-counters dotnet-gcdump; do
  if [ ! -x "$TOOLS/$tool" ]; then
    dotnet tool install "$tool" --version 10.0.750501 --tool-path "$TOOLS" >/dev/null
  fi
done
if [ "$BUILD" = 1 ]; then
  for project in samples/Chat/Chat.csproj benchmarks/baselines/RawEcho/RawEcho.csproj benchmarks/SessionSockets.LoadTest/SessionSockets.LoadTest.csproj; do
    dotnet build "$project" -c Release -nologo -v quiet >/dev/null
  done
fi

if [ "$CLIENT" = node ] && [ ! -d benchmarks/node-client/node_modules/ws ]; then
  (cd benchmarks/node-client && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sessionsockets-idle.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export IDLE_OUT="$work" N GCDUMP
ts=$(printf '%02d:%02d:%02d' $((KEEPALIVE / 3600)) $((KEEPALIVE % 3600 / 60)) $((KEEPALIVE % 60)))
tt=$(printf '%02d:%02d:%02d' $((KEEPALIVE_TIMEOUT / 3600)) $((KEEPALIVE_TIMEOUT % 3600 / 60)) $((KEEPALIVE_TIMEOUT % 60)))
if [ "$SERVER" = sample ]; then
  dll=${SAMPLE_DLL:-samples/Chat/bin/Release/net10.0/Chat.dll} auth=cookie
  args=(--ConnectionStrings:Sessions "Data Source=$work/sessions.db" --SessionSockets:RateLimit:MessagesPerSecond 0
        --SessionSockets:RateLimit:HandshakesPerSecond 0 --SessionSockets:KeepAliveInterval "$ts" --SessionSockets:KeepAliveTimeout "$tt")
else
  dll=benchmarks/baselines/RawEcho/bin/Release/net10.0/RawEcho.dll auth=none
  args=(--RawEcho:KeepAliveInterval "$ts" --RawEcho:KeepAliveTimeout "$tt")
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is in use: another server would be measured (set PORT)" >&2
  exit 2
fi
(cd "$work" && exec dotnet "$(cd "$root" && realpath "$dll")" --urls "http://127.0.0.1:$PORT" --Logging:LogLevel:Default Warning "${args[@]}" ${SERVER_ARGS:-} >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; echo "the server exited at start" >&2; exit 1; fi
  sleep 0.1
done
sleep 1
if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; echo "the server exited at start" >&2; exit 1; fi
echo "== $SERVER (pid $server_pid, fresh) on 127.0.0.1:$PORT, keep-alive ${KEEPALIVE} s / ${KEEPALIVE_TIMEOUT} s; load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
probe="bash '$root/benchmarks/idle-probe.sh' \"\$1\" \"\$2\""
if [ "$CLIENT" = dotnet ]; then
  dotnet benchmarks/SessionSockets.LoadTest/bin/Release/net10.0/SessionSockets.LoadTest.dll run --url "http://127.0.0.1:$PORT" \
    --mode hold --auth "$auth" --connections "$N" --sessions "$N" --connect-concurrency 64 --settle "$SETTLE" \
    --duration $((D + SETTLE)) --server-pid "$server_pid" --probe "$probe" || status=$?
else
  node benchmarks/node-client/client.mjs --url "http://127.0.0.1:$PORT" --mode hold --auth "$auth" --connections "$N" \
    --sessions "$N" --concurrency 64 --settle "$SETTLE" --duration "$D" --server-pid "$server_pid" --probe "$probe" || status=$?
fi
echo "server=$SERVER client=$CLIENT connections=$N idle_s=$D load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${OWNERS:-0}" = 1 ]; then
  for dump in "$work"/after-*.gcdump; do
    [ -f "$dump" ] && bash benchmarks/gcdump-owners.sh "$dump" "$N"
  done
fi
exit $status
