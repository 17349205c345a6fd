#!/usr/bin/env bash
# Throwaway PostgreSQL for the tests.
#
#   eval "$(tests/postgres.sh start)"   # prints export lines: SESSIONSOCKETS_PG, SESSIONSOCKETS_PG_CTL, SESSIONSOCKETS_PG_DATA
#   tests/postgres.sh env               # prints them again for the running cluster
#   tests/postgres.sh stop              # stops the cluster and deletes its directory
#
# When SESSIONSOCKETS_PG is already set, start/stop do nothing: the tests use that server (and the
# restart tests need SESSIONSOCKETS_PG_CTL too). Otherwise Debian's postgresql is installed when initdb is
# missing, and a cluster is created in a temporary directory, listening on 127.0.0.1 only (trust auth on
# loopback: a test database, never a real one), with its unix socket inside that directory.
# SESSIONSOCKETS_PG_CTL is a wrapper that runs pg_ctl as the cluster's owner: "$SESSIONSOCKETS_PG_CTL stop|start|restart".
set -euo pipefail

# One cluster per checkout: two worktrees (or a CI job beside a developer) never stop each other's server.
CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STATE="${SESSIONSOCKETS_PG_STATE:-${TMPDIR:-/tmp}/sessionsockets-pg-$(printf '%s' "$CHECKOUT" | sha256sum | cut -c1-12).state}"
log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

print_env() {
  # shellcheck disable=SC1090
  . "$STATE"
  echo "export SESSIONSOCKETS_PG='Host=127.0.0.1;Port=$PORT;Username=postgres;Database=sessionsockets;Include Error Detail=true'"
  echo "export SESSIONSOCKETS_PG_CTL='$DIR/pg_ctl.sh'"
  echo "export SESSIONSOCKETS_PG_DATA='$DIR/data'"
}

start() {
  if [ -n "${SESSIONSOCKETS_PG:-}" ]; then
    log "SESSIONSOCKETS_PG is set; using that server"
    return 0
  fi
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
    if [ -x "$DIR/pg_ctl.sh" ] && "$DIR/pg_ctl.sh" status >/dev/null 2>&1; then
      log "a cluster is already running ($STATE)"
      print_env
      return 0
    fi
    # The machine restarted or the server died: the state is stale, start afresh.
    log "the cluster of $STATE is not running; starting a new one"
    rm -rf "$DIR" "$STATE"
  fi

  local bin
  if ! bin="$(find_bin)"; then
    log "installing postgresql (apt-get)"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin="$(find_bin)"
  fi

  local owner run
  if [ "$(id -u)" = 0 ]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    run=(runuser -u "$owner" --)
  else
    owner="$(id -un)"
    run=()
  fi

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/sessionsockets-pg.XXXXXX")"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown "$owner" "$dir"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }

  cat >"$dir/pg_ctl.sh" <<WRAP
#!/usr/bin/env bash
# pg_ctl for the test cluster in $dir, run as its owner: pg_ctl.sh start|stop|restart|status
set -e
cmd="\$1"; shift || true
if [ "\$cmd" = stop ] || [ "\$cmd" = restart ]; then set -- -m fast "\$@"; fi
exec ${run[*]} "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 "\$cmd" "\$@"
WRAP
  chmod 755 "$dir/pg_ctl.sh"

  local port attempt
  for attempt in $(seq 1 20); do
    port=$(( (RANDOM % 20000) + 30000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    if "$dir/pg_ctl.sh" start >&2; then
      break
    fi
    port=""
    sed -i '/^listen_addresses = /,$d' "$dir/data/postgresql.conf"
  done
  if [ -z "${port:-}" ]; then log "could not start PostgreSQL"; cat "$dir/server.log" >&2 || true; exit 1; fi

  "${run[@]}" "$bin/createdb" -h "$dir" -p "$port" -U postgres sessionsockets
  printf 'DIR=%q\nPORT=%q\nBIN=%q\n' "$dir" "$port" "$bin" >"$STATE"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
  print_env
}

stop() {
  if [ ! -f "$STATE" ]; then
    log "no cluster to stop"
    return 0
  fi
  # shellcheck disable=SC1090
  . "$STATE"
  "$DIR/pg_ctl.sh" stop >&2 || true
  rm -rf "$DIR" "$STATE"
  log "stopped and removed $DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) if [ -f "$STATE" ]; then print_env; elif [ -n "${SESSIONSOCKETS_PG:-}" ]; then :; else log "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
