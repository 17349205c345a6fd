#!/usr/bin/env bash
# Live heap per connection by owner, from a gcdump (issue 18): gcdump-owners.sh FILE.gcdump|REPORT.txt CONNECTIONS
# `OWNERS=1 GCDUMP=1 bash benchmarks/idle.sh` runs it on the hold's gcdump. Only types with at least CONNECTIONS/2 live
# instances count (what each connection keeps, not what the process keeps once). The owner is read from the type's
# name and assembly; a state machine box belongs to the method it runs, so SessionSockets' loops count as its own.
# awk over `dotnet-gcdump report` rather than a library: the report is the tool's stable text output, and this is a
# grouping of its rows, nothing more.
set -euo pipefail
input=$1 n=$2
if [[ $input == *.gcdump ]]; then
  tools=${TOOLS:-$(cd "$(dirname "$0")" && pwd)/.tools}
  report=$("$tools/dotnet-gcdump" report "$input")
else
  report=$(cat "$input")
fi
awk -v n="$n" '
  $1 ~ /^[0-9,]+$/ && $2 ~ /^[0-9,]+$/ && NF >= 3 {
    size = $1; gsub(",", "", size); count = $2; gsub(",", "", count)
    if (count + 0 < n / 2) next
    if ($0 ~ /SessionSockets\.|System\.Threading\.Channels/) owner = "SessionSockets (its connection objects, state machines, channels and their waiters)"
    else if ($0 ~ /WebSockets/) owner = "ManagedWebSocket and ASP.NET Core WebSockets"
    else if ($0 ~ /AspNetCore|Kestrel|Pipelines|System\.Net\.Sockets|Microsoft\.Extensions\.Logging|DiagnosticSource|System\.Net\.Primitives/) owner = "Kestrel, hosting and the socket (HTTP/1.1 connection, pipes, headers, transport, Activity, log scopes)"
    else owner = "runtime objects all of them hold (tasks, token sources, timers, locks, strings, arrays)"
    bytes[owner] += size * count; total += size * count
  }
  END {
    for (o in bytes) printf "owner_kb_per_connection=%.2f  %s\n", bytes[o] / n / 1024, o
    printf "owner_kb_per_connection=%.2f  total (live GC heap)\n", total / n / 1024
  }' <<<"$report" | sort -t= -k2 -rn
