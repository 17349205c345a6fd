#!/usr/bin/env bash
# The --probe of benchmarks/idle.sh: `idle-probe.sh PHASE PID` prints heap_bytes=N (the live managed heap: a
# dotnet-gcdump, which runs a full blocking GC first) and timers=N (dotnet.timer.count from dotnet-counters).
# With GCDUMP=1 the phase "after" also prints the gcdump's top 25 types by bytes. Tools come from $TOOLS.
set -euo pipefail
phase=$1 pid=$2
tools=${TOOLS:?TOOLS is the dotnet tool path}
out=${IDLE_OUT:-$(mktemp -d)}
dump="$out/$phase-$pid.gcdump"
"$tools/dotnet-gcdump" collect -p "$pid" -o "$dump" >/dev/null 2>&1
report=$("$tools/dotnet-gcdump" report "$dump")
heap=$(sed -n 's/^ *\([0-9,]*\) *GC Heap bytes.*/\1/p' <<<"$report" | tr -d ,)
"$tools/dotnet-counters" collect -p "$pid" --counters System.Runtime --refresh-interval 1 --duration 00:00:00:02 \
  --format csv -o "$out/$phase-$pid.csv" >/dev/null 2>&1 || true
timers=$(grep -a 'dotnet.timer.count' "$out/$phase-$pid.csv" 2>/dev/null | tail -n 1 | awk -F, '{print $NF}' || true)
echo "heap_bytes=${heap:--1} timers=${timers:--1}"
if [ "${GCDUMP:-0}" = 1 ] && [ "$phase" = after ]; then
  echo "gcdump top 25 types by bytes, live after a full GC ($dump; per connection over N=${N:-?}):"
  # The report gives, per type and size class ("(Bytes > 10K)"), an object size and a count: bytes = size x count, summed per type.
  awk -v n="${N:-0}" '
    /Object Bytes/ { on = 1; next }
    on && NF >= 3 {
      bytes = $1; count = $2; gsub(",", "", bytes); gsub(",", "", count)
      type = $0; sub(/^ *[0-9,]+ +[0-9,]+ +/, "", type); sub(/ +\(Bytes > [0-9]+K\)/, "", type); sub(/ +\[[^]]*\] *$/, "", type)
      b[type] += bytes * count; c[type] += count
    }
    END { for (t in b) printf "%12d %9d %9.1f  %s\n", b[t], c[t], (n > 0 ? b[t] / n : 0), t }' <<<"$report" |
    sort -rn | awk 'NR <= 25' | awk 'BEGIN { printf "%12s %9s %9s  %s\n", "bytes", "count", "B/conn", "type" } { print }'
fi
