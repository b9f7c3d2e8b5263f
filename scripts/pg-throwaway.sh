#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: a new cluster in a folder of its own, listening
# only on loopback (and a unix socket in that folder), without fsync (its data is thrown away).
#
#   scripts/pg-throwaway.sh start DIR   # DIR: a new folder (mktemp -d); prints the URL for
#                                       # NEWSDESK_TEST_DATABASE_URL
#   scripts/pg-throwaway.sh stop DIR    # stops the server and deletes DIR
#
# Uses Debian's postgresql package (its initdb and pg_ctl). As root (CI), the server runs as the
# `postgres` user the package made, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bin=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bin="$d"
done
[ -n "$bin" ] || { echo "PostgreSQL's initdb not found: apt-get install postgresql" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    # A port that nothing listens on, from a range unlikely to be taken.
    port=""
    for p in $(seq 54329 54399); do
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port="$p"
        break
      fi
    done
    [ -n "$port" ] || { echo "no free port in 54329-54399" >&2; exit 1; }
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
