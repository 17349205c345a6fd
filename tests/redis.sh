#!/usr/bin/env bash
# Throwaway Redis for the tests.
#
#   eval "$(tests/redis.sh start)"   # prints export lines: SESSIONSOCKETS_REDIS, SESSIONSOCKETS_REDIS_CTL
#   tests/redis.sh env               # prints them again for the running server
#   tests/redis.sh stop              # stops the server and deletes its directory
#
# When SESSIONSOCKETS_REDIS is already set, start/stop do nothing: the tests use that server (and the outage tests
# need SESSIONSOCKETS_REDIS_CTL too). Otherwise Debian's redis-server is installed when it is missing, and a server is
# started in a temporary directory on a random port of 127.0.0.1, with no persistence (no RDB, no AOF): a test
# server, never a real one. SESSIONSOCKETS_REDIS_CTL is a wrapper: "$SESSIONSOCKETS_REDIS_CTL stop|start|status|kill".
set -euo pipefail

# One server per checkout: two worktrees (or a CI job beside a developer) never stop each other's server.
CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STATE="${SESSIONSOCKETS_REDIS_STATE:-${TMPDIR:-/tmp}/sessionsockets-redis-$(printf '%s' "$CHECKOUT" | sha256sum | cut -c1-12).state}"
log() { echo "redis.sh: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

print_env() {
  # shellcheck disable=SC1090
  . "$STATE"
  echo "export SESSIONSOCKETS_REDIS='127.0.0.1:$PORT'"
  echo "export SESSIONSOCKETS_REDIS_CTL='$DIR/redis_ctl.sh'"
}

start() {
  if [ -n "${SESSIONSOCKETS_REDIS:-}" ]; then
    log "SESSIONSOCKETS_REDIS is set; using that server"
    return 0
  fi
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
    if [ -x "$DIR/redis_ctl.sh" ] && "$DIR/redis_ctl.sh" status >/dev/null 2>&1; then
      log "a server is already running ($STATE)"
      print_env
      return 0
    fi
    # The machine restarted or the server died: the state is stale, start afresh.
    log "the server of $STATE is not running; starting a new one"
    [ -n "${DIR:-}" ] && rm -rf "$DIR"
    rm -f "$STATE"
  fi

  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    log "installing redis-server (apt-get)"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  fi
  local server cli
  server="$(command -v redis-server)"
  cli="$(command -v redis-cli)"

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/sessionsockets-redis.XXXXXX")"

  local port="" attempt candidate
  for attempt in $(seq 1 20); do
    candidate=$(( (RANDOM % 20000) + 30000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then continue; fi
    cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $candidate
protected-mode yes
daemonize yes
pidfile $dir/redis.pid
logfile $dir/server.log
dir $dir
save ""
appendonly no
CONF
    write_ctl "$dir" "$candidate" "$server" "$cli"
    if "$dir/redis_ctl.sh" start >&2; then
      port="$candidate"
      break
    fi
  done
  if [ -z "$port" ]; then log "could not start Redis"; cat "$dir/server.log" >&2 || true; exit 1; fi

  printf 'DIR=%q\nPORT=%q\n' "$dir" "$port" >"$STATE"
  log "Redis $("$server" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port ($dir)"
  print_env
}

# redis_ctl.sh start|stop|status|kill: start waits (bounded) for PONG; stop is SHUTDOWN NOSAVE; kill is SIGKILL by pid.
write_ctl() {
  local dir="$1" port="$2" server="$3" cli="$4"
  cat >"$dir/redis_ctl.sh" <<WRAP
#!/usr/bin/env bash
# The test server in $dir on 127.0.0.1:$port: redis_ctl.sh start|stop|status|kill
set -e
ping() { "$cli" -h 127.0.0.1 -p $port ping 2>/dev/null | grep -q PONG; }
case "\$1" in
  start)
    ping && exit 0
    "$server" "$dir/redis.conf"
    for _ in \$(seq 1 100); do ping && exit 0; sleep 0.1; done
    echo "redis did not answer on $port" >&2; exit 1 ;;
  stop)
    "$cli" -h 127.0.0.1 -p $port shutdown nosave >/dev/null 2>&1 || true
    for _ in \$(seq 1 100); do ping || exit 0; sleep 0.1; done
    exit 1 ;;
  kill)
    [ -f "$dir/redis.pid" ] && kill -9 "\$(cat "$dir/redis.pid")" 2>/dev/null || true
    for _ in \$(seq 1 100); do ping || { rm -f "$dir/redis.pid"; exit 0; }; sleep 0.1; done
    exit 1 ;;
  status) ping ;;
  *) echo "usage: \$0 start|stop|status|kill" >&2; exit 2 ;;
esac
WRAP
  chmod 755 "$dir/redis_ctl.sh"
}

stop() {
  if [ ! -f "$STATE" ]; then
    log "no server to stop"
    return 0
  fi
  # shellcheck disable=SC1090
  . "$STATE"
  "$DIR/redis_ctl.sh" stop >&2 || true
  rm -rf "$DIR" "$STATE"
  log "stopped and removed $DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) if [ -f "$STATE" ]; then print_env; elif [ -n "${SESSIONSOCKETS_REDIS:-}" ]; then :; else log "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
