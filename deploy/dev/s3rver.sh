#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# A private S3-compatible server (s3rver, from npm) for development and tests: bound to
# 127.0.0.1, data in DIR/data, one bucket created at startup, credentials S3RVER/S3RVER.
#
#   s3rver.sh start DIR [PORT]    start a fresh instance (stopping one already in DIR); PORT 0 or
#                                 absent lets s3rver pick a free port. Waits until the bucket
#                                 answers over HTTP, then writes DIR/env and prints it.
#   s3rver.sh stop DIR            stop it and delete its data; idempotent
#   s3rver.sh env DIR             print DIR/env
#   s3rver.sh exec DIR CMD ARG... run CMD with the variables of DIR/env exported
#
# DIR/env holds shell assignments: SIGIL_TEST_S3_ENDPOINT (http://127.0.0.1:PORT),
# SIGIL_TEST_S3_BUCKET, SIGIL_TEST_S3_REGION, SIGIL_TEST_S3_ACCESS_KEY, SIGIL_TEST_S3_SECRET_KEY,
# and SIGIL_TEST_S3_URL (a storage URL for SIGIL_STORAGE_URL / store_open()). When s3rver is not
# installed, start writes only SIGIL_TEST_S3_SKIP (the reason) and succeeds, so tests report
# themselves skipped, unless CI or SIGIL_REQUIRE_S3RVER is set: then it fails.
# Settings: SIGIL_S3RVER_BUCKET (default sigil-test), S3RVER_BIN (default: s3rver in PATH;
# install with `npm install -g s3rver@3.7.1`).
set -euo pipefail

die() { echo "s3rver.sh: $*" >&2; exit 1; }

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] ||
  die "usage: s3rver.sh start DIR [PORT] | stop DIR | env DIR | exec DIR CMD [ARG...]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile="$dir/s3rver.pid"; envfile="$dir/env"; log="$dir/s3rver.log"
bucket=${SIGIL_S3RVER_BUCKET:-sigil-test}

# The pid in DIR, when that process is still the s3rver started for DIR (never another
# process that reused the pid).
running_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-d $dir/data" || return 1
  echo "$pid"
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$pidfile" "$envfile" "$dir/data"
}

case "$cmd" in
start)
  port=${3:-0}
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number"
  stop
  bin=${S3RVER_BIN:-$(command -v s3rver || true)}
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    reason="s3rver is not installed (npm install -g s3rver@3.7.1)"
    if [ -n "${CI:-}" ] || [ -n "${SIGIL_REQUIRE_S3RVER:-}" ]; then
      die "$reason"
    fi
    printf 'SIGIL_TEST_S3_SKIP=%q\n' "$reason" >"$envfile"
    echo "s3rver.sh: $reason; S3 tests will be skipped" >&2
    exit 0
  fi
  mkdir -p "$dir/data"
  # Own stdio, so that a test runner waiting on this script's output does not wait on the
  # server; same process group, so that interrupting the runner stops it too.
  "$bin" -d "$dir/data" -a 127.0.0.1 -p "$port" --configure-bucket "$bucket" \
    </dev/null >"$log" 2>&1 &
  echo $! >"$pidfile"
  pid=$(cat "$pidfile")
  # s3rver logs the address it bound (the real port when PORT is 0); then the bucket must answer.
  addr=""
  for _ in $(seq 1 600); do
    addr=$(grep -o -m1 'listening on 127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | sed 's/.* //') || true
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "s3rver exited at startup"; }
    sleep 0.05
  done
  [ -n "$addr" ] || { stop; die "s3rver did not start within 30 s (log: $log)"; }
  endpoint="http://$addr"
  ready=""
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null -I "$endpoint/$bucket" 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.05
  done
  [ -n "$ready" ] || { stop; die "s3rver at $endpoint does not serve bucket $bucket"; }
  cat >"$envfile" <<ENV
SIGIL_TEST_S3_ENDPOINT=$endpoint
SIGIL_TEST_S3_BUCKET=$bucket
SIGIL_TEST_S3_REGION=us-east-1
SIGIL_TEST_S3_ACCESS_KEY=S3RVER
SIGIL_TEST_S3_SECRET_KEY=S3RVER
SIGIL_TEST_S3_URL='s3://$bucket?endpoint=$endpoint&region=us-east-1'
ENV
  cat "$envfile"
  ;;
stop)
  stop
  ;;
env)
  [ -f "$envfile" ] || die "no s3rver started in $dir"
  cat "$envfile"
  ;;
exec)
  shift 2
  [ $# -gt 0 ] || die "exec needs a command"
  if [ ! -f "$envfile" ]; then
    echo "s3rver.sh: no s3rver started in $dir (run: s3rver.sh start $dir)" >&2
    exit 77
  fi
  set -a
  # shellcheck disable=SC1090
  . "$envfile"
  set +a
  exec "$@"
  ;;
*)
  die "unknown command $cmd"
  ;;
esac
