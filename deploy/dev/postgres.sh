#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# A private PostgreSQL cluster for development and tests: no system service, a data directory of
# its own, a Unix socket inside it and (optionally) a TCP port on 127.0.0.1.
#
#   postgres.sh start DIR [PORT]   create (first time) and start the cluster; idempotent
#   postgres.sh stop DIR           stop it (fast shutdown); idempotent
#   postgres.sh url DIR [DBNAME]   print the libpq connection string for DBNAME (default sigil)
#   postgres.sh createdb DIR NAME  create database NAME unless it exists
#   postgres.sh dropdb DIR NAME    drop database NAME if it exists
#
# PostgreSQL refuses to run as root: when run as root, the cluster belongs to the `postgres`
# user and commands run through runuser.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return; }
  die "PostgreSQL server binaries not found (apt-get install postgresql)"
}

BIN=$(pg_bin)
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: postgres.sh start|stop|url|createdb|dropdb DIR [...]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"; sock="$dir/socket"; portfile="$dir/port"

port_of() { cat "$portfile" 2>/dev/null || echo 5432; }

psql_cmd() {
  as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$(port_of)" -U postgres -d postgres "$@"
}

case "$cmd" in
start)
  port=${3:-$(port_of)}
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    # postgres must be able to reach the directory through every parent.
    p="$dir"; while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  fi
  mkdir -p "$sock"
  [ "$(id -u)" = 0 ] && chown postgres "$dir" "$sock"
  echo "$port" > "$portfile"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    chmod 700 "$data"
    as_owner "$BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      as_owner "$BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_owner "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    exit 0
  fi
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2; die "cannot start PostgreSQL (log: $dir/server.log)"; }
  ;;
stop)
  [ -f "$data/PG_VERSION" ] || exit 0
  as_owner "$BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
url)
  echo "host=$sock port=$(port_of) user=postgres dbname=${3:-sigil}"
  ;;
createdb)
  name=${3:?database name}
  [[ "$name" =~ ^[a-z0-9_]+$ ]] || die "database names are [a-z0-9_]+"
  exists=$(psql_cmd -tA -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
  [ "$exists" = 1 ] || psql_cmd -c "CREATE DATABASE \"$name\""
  ;;
dropdb)
  name=${3:?database name}
  [[ "$name" =~ ^[a-z0-9_]+$ ]] || die "database names are [a-z0-9_]+"
  psql_cmd -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
  ;;
*)
  die "unknown command $cmd"
  ;;
esac
