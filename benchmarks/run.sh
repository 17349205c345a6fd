#!/usr/bin/env bash
# The performance budget run (issue 6): builds Release, runs the BenchmarkDotNet suite (allocations per echo,
# session cache hit/miss, fan-out to 1,000), then RawEcho and the sample alternately under the same load
# (order flipped each round, >= 3 rounds), and writes the medians, their ratios and the machine to docs/benchmarks.md.
#
#   bash benchmarks/run.sh                 # full run, about 25-30 minutes on 2 cores (issue 18's holds add ~15)
#   ROUNDS=7 DURATION=10 bash benchmarks/run.sh
#   QUICK=1 bash benchmarks/run.sh         # 1 round, short runs, no BenchmarkDotNet: checks the script only
#
# Knobs: ROUNDS (5; a server on this 2-core VM runs in one of two speed modes, see docs/benchmarks.md),
# DURATION (8 s measured per load), WARMUP (2 s), HOLD (10000 idle connections),
# MAX_HOLD (50000, capped by the open-file limit), SESSION_TOKENS (10000), BDN (1: run BenchmarkDotNet).
# Issue 18: every hold runs on a freshly started server, sid cookie at the handshake, IDLE (15 s) idle, with the load
# tool and again with Node ws (NODE_CLIENT=1; 0 skips it), heap from dotnet-gcdump (installed into benchmarks/.tools).
# Each hold costs about IDLE + 25 s per client per server per round (5 rounds x 2 servers x 2 clients: ~7 min).
# IDLE_CPU (60 s; 0 skips): 10,000 (HOLD) bound connections idle, sample and RawEcho at the same keep-alive, ~3 min.
# CAPACITY (2000,5000,10000): the capacity model's sizes, fresh sample each, plus the max hold; least-squares slopes.
# PORT (5180; must be free, the suite refuses a port someone listens on). Shorter: ROUNDS=3 IDLE=15 IDLE_CPU=30 NODE_CLIENT=0 CAPACITY=2000,10000.
# Channels (issues 13 and 14): CHANNELS (1; 0 skips the memory and two-node rows; the fan-out and subscribe rows are
# BenchmarkDotNet's), CHANNEL_CONNECTIONS (10000), CHANNEL_SUBSCRIPTIONS (10), CHANNEL_COUNT (1000 channels),
# TWO_NODES_PUBLISHERS (4), TWO_NODES_DURATION (= DURATION), PG_START (0; 1 starts tests/postgres.sh when
# SESSIONSOCKETS_PG is not set; without a server the two-node row is skipped and says so), REDIS_START (0; 1 starts
# tests/redis.sh when SESSIONSOCKETS_REDIS is not set: the Redis vs PostgreSQL rows, skipped and said so without it),
# REVOCATIONS (200 revocations per engine), PUBLISH_ROUNDS (3 rounds of the five channel-publish
# scenarios: in-process and SQLite with and without history, and SQLite with HistoryWriteBehind), PUBLISH_PUBLISHERS (8), PUBLISH_DURATION (= DURATION), HISTORY_PUBLICATIONS (100000 for history-bytes),
# HISTORY_PUBLICATIONS_PG (5000: one transaction each).
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
CHANNELS=${CHANNELS:-1}
CHANNEL_CONNECTIONS=${CHANNEL_CONNECTIONS:-10000}
CHANNEL_SUBSCRIPTIONS=${CHANNEL_SUBSCRIPTIONS:-10}
CHANNEL_COUNT=${CHANNEL_COUNT:-1000}
TWO_NODES_PUBLISHERS=${TWO_NODES_PUBLISHERS:-4}
PUBLISH_ROUNDS=${PUBLISH_ROUNDS:-3}
PUBLISH_PUBLISHERS=${PUBLISH_PUBLISHERS:-8}
HISTORY_PUBLICATIONS=${HISTORY_PUBLICATIONS:-100000}
HISTORY_PUBLICATIONS_PG=${HISTORY_PUBLICATIONS_PG:-5000}
IDLE=${IDLE:-15}
IDLE_CPU=${IDLE_CPU:-60}
CAPACITY=${CAPACITY:-2000,5000,10000}
NODE_CLIENT=${NODE_CLIENT:-1}
if [ -n "${QUICK:-}" ]; then
  ROUNDS=1 DURATION=2 WARMUP=1 HOLD=500 MAX_HOLD=1000 SESSION_TOKENS=200 BDN=0 CHANNEL_CONNECTIONS=500 PUBLISH_ROUNDS=1 HISTORY_PUBLICATIONS=2000 HISTORY_PUBLICATIONS_PG=500 IDLE=3 IDLE_CPU=3 CAPACITY=200,300
fi
TWO_NODES_DURATION=${TWO_NODES_DURATION:-$DURATION}
PUBLISH_DURATION=${PUBLISH_DURATION:-$DURATION}

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

if [ "$CHANNELS" = 1 ]; then
  bench="dotnet benchmarks/SessionSockets.Benchmarks/bin/Release/net10.0/SessionSockets.Benchmarks.dll"
  field() { grep -o " $1=[^ ]*" | head -n 1 | cut -d= -f2; }
  echo "== channels: memory per subscription ($CHANNEL_CONNECTIONS connections, fresh process each)"
  without=$($bench channel-memory --connections "$CHANNEL_CONNECTIONS" --subscriptions 0 --channels "$CHANNEL_COUNT")
  with=$($bench channel-memory --connections "$CHANNEL_CONNECTIONS" --subscriptions "$CHANNEL_SUBSCRIPTIONS" --channels "$CHANNEL_COUNT")
  echo "$without"; echo "$with"
  heap0=$(echo "$without" | field heap_bytes); heap1=$(echo "$with" | field heap_bytes)
  rss0=$(echo "$without" | field rss_bytes); rss1=$(echo "$with" | field rss_bytes)
  subs=$((CHANNEL_CONNECTIONS * CHANNEL_SUBSCRIPTIONS))
  {
    printf '\n### Channels (issues 13, 14)\n\n'
    printf '| row | result | command |\n|---|---|---|\n'
    awk -v h0="$heap0" -v h1="$heap1" -v r0="$rss0" -v r1="$rss1" -v n="$subs" -v c="$CHANNEL_CONNECTIONS" -v k="$CHANNEL_SUBSCRIPTIONS" -v ch="$CHANNEL_COUNT" \
      'BEGIN { printf "| memory per subscription, %d connections x %d of %d room: channels vs none | %.2f KB managed heap (%.2f KB RSS); %.2f KB heap per connection without | `SessionSockets.Benchmarks channel-memory --connections %d --subscriptions %d\\|0 --channels %d` |\n", c, k, ch, (h1-h0)/n/1024, (r1-r0)/n/1024, h0/c/1024, c, k, ch }'
  } >>"$extra"

  # Issue 14: publications/s with history vs without, one node on Kestrel with real sockets, four scenarios each in a
  # fresh process, interleaved over rounds; the medians and the with/without ratios go in the table.
  # sqlite-wb is SQLite with HistoryWriteBehind: its baseline is the same no-history run as sqlite's.
  echo "== channels: publish with and without history, $PUBLISH_ROUNDS rounds of 5 scenarios, $PUBLISH_PUBLISHERS publishers, ${PUBLISH_DURATION} s"
  for round in $(seq 1 "$PUBLISH_ROUNDS"); do
    for scenario in "inprocess 0 0" "inprocess 1 0" "sqlite 0 0" "sqlite 1 0" "sqlite 1 1"; do
      set -- $scenario
      name=$1; [ "$3" = 1 ] && name=sqlite-wb
      out=$($bench channel-publish --engine "$1" --history "$2" --write-behind "$3" --publishers "$PUBLISH_PUBLISHERS" --subscribers 1 --warmup "$WARMUP" --duration "$PUBLISH_DURATION" || echo " failed=1")
      echo "round $round: $out" | tail -n 1
      if echo "$out" | grep -q ' failed=1'; then echo "$name $2 FAILED" >>"$artifacts/publish.txt"; fi
      echo "$name $2 $(echo "$out" | field 'pubs/s')" >>"$artifacts/publish.txt"
    done
  done
  median() { grep "^$1 $2 [0-9]" "$artifacts/publish.txt" | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END { if (NR == 0) print 0; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
  failures=$(grep -c FAILED "$artifacts/publish.txt" || true)
  for engine in inprocess sqlite sqlite-wb; do
    m1=$(median "$engine" 1); base=$engine; [ "$engine" = sqlite-wb ] && base=sqlite
    m0=$(median "$base" 0)
    target=0.9; what=$engine; flags=""
    [ "$engine" = sqlite ] && { target=0.5; what="sqlite (HistoryWriteBehind off: each publication waits for its commit)"; }
    [ "$engine" = sqlite-wb ] && { target=0.5; what="sqlite with HistoryWriteBehind"; flags=" --write-behind 1"; }
    awk -v e="$what" -v m0="$m0" -v m1="$m1" -v t="$target" -v r="$PUBLISH_ROUNDS" -v p="$PUBLISH_PUBLISHERS" -v d="$PUBLISH_DURATION" -v f="$failures" -v b="$base" -v fl="$flags" \
      'BEGIN { printf "| publications/s delivered, one node (Kestrel, 1 subscriber on a real socket, %d publishers), %s engine: history vs none, median of %d interleaved rounds | %.0f/s with history, %.0f/s without: ratio %.2f (target >= %s); failed checks in all runs: %d | `SessionSockets.Benchmarks channel-publish --engine %s --history 1\\|0%s --publishers %d --duration %s` |\n", p, e, r, m1, m0, (m0 > 0 ? m1/m0 : 0), t, f, b, fl, p, d }' >>"$extra"
  done

  if [ -z "${SESSIONSOCKETS_PG:-}" ] && [ "${PG_START:-0}" = 1 ]; then
    eval "$(bash tests/postgres.sh start)"
  fi

  # Issue 14: history bytes per stored publication, each engine in a fresh process (PostgreSQL when a server is set).
  echo "== channels: history bytes per stored publication"
  for engine in inprocess sqlite postgresql; do
    n=$HISTORY_PUBLICATIONS; what="managed heap after a full GC"
    [ "$engine" = sqlite ] && what="file pages after a WAL checkpoint"
    if [ "$engine" = postgresql ]; then
      n=$HISTORY_PUBLICATIONS_PG; what="pg_total_relation_size of the publication table"
      if [ -z "${SESSIONSOCKETS_PG:-}" ]; then
        printf '| history bytes per stored publication, PostgreSQL | not run: no server (SESSIONSOCKETS_PG unset) | `PG_START=1 bash benchmarks/run.sh` |\n' >>"$extra"
        continue
      fi
    fi
    out=$($bench history-bytes --engine "$engine" --publications "$n" || echo " failed=1")
    echo "$out" | tail -n 1
    printf '| history bytes per stored publication, %s engine (%s publications of a %s-byte frame to one channel; %s) | %s B | `SessionSockets.Benchmarks history-bytes --engine %s --publications %s` |\n' \
      "$engine" "$n" "$(echo "$out" | field frame_bytes)" "$what" "$(echo "$out" | field bytes_per_publication)" "$engine" "$n" >>"$extra"
  done
  if [ -n "${SESSIONSOCKETS_PG:-}" ]; then
    echo "== channels: two nodes on PostgreSQL, $TWO_NODES_PUBLISHERS publishers, ${TWO_NODES_DURATION} s"
    # A missing, duplicate or reordered delivery exits 1: it is written into the row, not hidden.
    two=$($bench two-nodes --publishers "$TWO_NODES_PUBLISHERS" --subscribers 1 --warmup "$WARMUP" --duration "$TWO_NODES_DURATION" || true)
    echo "$two"
    printf '| two nodes on PostgreSQL (in-process nodes, one database), publications from A delivered on B | %s/s, p50 %s ms, p99 %s ms; missing %s, duplicates %s, reordered %s | `SessionSockets.Benchmarks two-nodes --publishers %s --subscribers 1 --duration %s` |\n' \
      "$(echo "$two" | field 'pubs/s')" "$(echo "$two" | field p50)" "$(echo "$two" | field p99)" "$(echo "$two" | field missing)" \
      "$(echo "$two" | field duplicates)" "$(echo "$two" | field out_of_order)" "$TWO_NODES_PUBLISHERS" "$TWO_NODES_DURATION" >>"$extra"
    echo "== channels: two nodes on PostgreSQL with history, $TWO_NODES_PUBLISHERS publishers, ${TWO_NODES_DURATION} s"
    two=$($bench two-nodes --history 1 --publishers "$TWO_NODES_PUBLISHERS" --subscribers 1 --warmup "$WARMUP" --duration "$TWO_NODES_DURATION" || true)
    echo "$two"
    printf '| the same with history (issue 14: offset, insert, trim and NOTIFY in one transaction) | %s/s, p50 %s ms, p99 %s ms; missing %s, duplicates %s, reordered %s, offset gaps %s | `SessionSockets.Benchmarks two-nodes --history 1 --publishers %s --subscribers 1 --duration %s` |\n' \
      "$(echo "$two" | field 'pubs/s')" "$(echo "$two" | field p50)" "$(echo "$two" | field p99)" "$(echo "$two" | field missing)" \
      "$(echo "$two" | field duplicates)" "$(echo "$two" | field out_of_order)" "$(echo "$two" | field offset_gaps)" "$TWO_NODES_PUBLISHERS" "$TWO_NODES_DURATION" >>"$extra"
  else
    echo "== channels: two nodes on PostgreSQL skipped (SESSIONSOCKETS_PG is not set; PG_START=1 starts tests/postgres.sh)"
    printf '| two nodes on PostgreSQL | not run: no server (SESSIONSOCKETS_PG unset) | `PG_START=1 bash benchmarks/run.sh` |\n' >>"$extra"
  fi
  # Issue 16: the same two-node tool on Redis and on PostgreSQL, in this run, and revocation latency on both.
  if [ -z "${SESSIONSOCKETS_REDIS:-}" ] && [ "${REDIS_START:-0}" = 1 ]; then
    eval "$(bash tests/redis.sh start)"
  fi
  if [ -n "${SESSIONSOCKETS_PG:-}" ] && [ -n "${SESSIONSOCKETS_REDIS:-}" ]; then
    for hist in 0 1; do
      declare -A rate=()
      for engine in redis postgres; do
        echo "== channels: two nodes, engine $engine, history $hist, $TWO_NODES_PUBLISHERS publishers, ${TWO_NODES_DURATION} s"
        two=$($bench two-nodes --engine "$engine" --history "$hist" --publishers "$TWO_NODES_PUBLISHERS" --subscribers 1 --warmup "$WARMUP" --duration "$TWO_NODES_DURATION" || true)
        echo "$two"
        rate[$engine]=$(echo "$two" | field 'pubs/s')
        printf '| two nodes, engine %s, history %s: publications from A delivered on B | %s/s, p50 %s ms, p99 %s ms; missing %s, duplicates %s, reordered %s, offset gaps %s | `SessionSockets.Benchmarks two-nodes --engine %s --history %s --publishers %s --subscribers 1 --duration %s` |\n' \
          "$engine" "$hist" "${rate[$engine]}" "$(echo "$two" | field p50)" "$(echo "$two" | field p99)" "$(echo "$two" | field missing)" \
          "$(echo "$two" | field duplicates)" "$(echo "$two" | field out_of_order)" "$(echo "$two" | field offset_gaps)" "$engine" "$hist" "$TWO_NODES_PUBLISHERS" "$TWO_NODES_DURATION" >>"$extra"
      done
      awk -v r="${rate[redis]:-0}" -v p="${rate[postgres]:-0}" -v h="$hist" \
        'BEGIN { printf "| Redis / PostgreSQL publications/s, history %s, same run | %s |  |\n", h, (p > 0 ? sprintf("%.2f x", r / p) : "n/a") }' >>"$extra"
    done
    for engine in redis postgres; do
      echo "== revocations: engine $engine, ${REVOCATIONS:-200} one at a time"
      rev=$($bench revocations --engine "$engine" --count "${REVOCATIONS:-200}" || true)
      echo "$rev"
      printf '| revocation latency, engine %s: CloseSessionAsync on A to the close read on B | p50 %s ms, p99 %s ms, max %s ms; lost %s | `SessionSockets.Benchmarks revocations --engine %s --count %s` |\n' \
        "$engine" "$(echo "$rev" | field p50_ms)" "$(echo "$rev" | field p99_ms)" "$(echo "$rev" | field max_ms)" "$(echo "$rev" | field lost)" "$engine" "${REVOCATIONS:-200}" >>"$extra"
    done
  else
    echo "== channels: Redis vs PostgreSQL skipped (SESSIONSOCKETS_REDIS or SESSIONSOCKETS_PG not set; REDIS_START=1 PG_START=1 start them)"
    printf '| two nodes, Redis vs PostgreSQL | not run: no server (SESSIONSOCKETS_REDIS or SESSIONSOCKETS_PG unset) | `REDIS_START=1 PG_START=1 bash benchmarks/run.sh` |\n' >>"$extra"
  fi
  printf '\nFan-out to 1,000 subscribers and subscribe + unsubscribe are BenchmarkDotNet rows above (`FanOutBenchmarks.Publish` against its `Broadcast` baseline: Ratio <= 1.11 is >= 0.9 x the deliveries/s; `SubscriptionBenchmarks`: Allocated per pair).\n' >>"$extra"
fi

export TOOLS="$root/benchmarks/.tools"
for tool in dotnet-counters dotnet-gcdump; do
  if [ ! -x "$TOOLS/$tool" ]; then dotnet tool install "$tool" --version 10.0.750501 --tool-path "$TOOLS" >/dev/null; fi
done
node_args=()
if [ "$NODE_CLIENT" = 1 ]; then
  (cd benchmarks/node-client && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  node_args=(--node-client benchmarks/node-client/client.mjs)
fi

echo "== load: RawEcho vs sample, $ROUNDS rounds"
dotnet benchmarks/SessionSockets.LoadTest/bin/Release/net10.0/SessionSockets.LoadTest.dll suite \
  --raw-echo benchmarks/baselines/RawEcho/bin/Release/net10.0/RawEcho.dll \
  --sample samples/Chat/bin/Release/net10.0/Chat.dll \
  --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" --hold "$HOLD" --max-hold "$MAX_HOLD" \
  --session-tokens "$SESSION_TOKENS" --port "${PORT:-5180}" --idle "$IDLE" --idle-cpu "$IDLE_CPU" --capacity "$CAPACITY" --probe "bash '$root/benchmarks/idle-probe.sh' \"\$1\" \"\$2\"" "${node_args[@]}" --out "${OUT:-docs/benchmarks.md}" --extra "$extra"
