#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# One command from a fresh Debian 12 machine to a running Sigil: installs the dependencies,
# builds, starts a private PostgreSQL cluster under the work directory, applies the migrations
# and starts `sigil serve` on 127.0.0.1 with local-folder storage. Running it again rebuilds and
# restarts the server. Settings: SIGIL_WORK_DIR (default ./.work), SIGIL_LISTEN (default
# 127.0.0.1:8000), SIGIL_PG_PORT (default 54320).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

deploy/dev/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target sigil

work=${SIGIL_WORK_DIR:-$root/.work}
mkdir -p "$work"
work=$(cd "$work" && pwd)
pg_port=${SIGIL_PG_PORT:-54320}
deploy/dev/postgres.sh start "$work/pg" "$pg_port"
deploy/dev/postgres.sh createdb "$work/pg" sigil

listen=${SIGIL_LISTEN:-127.0.0.1:8000}
cat > "$work/sigil.env" <<ENV
SIGIL_LISTEN='$listen'
SIGIL_DATABASE_URL='$(deploy/dev/postgres.sh url "$work/pg" sigil)'
SIGIL_STORAGE_URL='file://$work/storage'
SIGIL_CACHE_DIR='$work/cache'
ENV
set -a
# shellcheck disable=SC1091
. "$work/sigil.env"
set +a

build/server/sigil migrate

deploy/dev/stop.sh >/dev/null 2>&1 || true
nohup build/server/sigil serve >>"$work/sigil.log" 2>&1 &
echo $! >"$work/sigil.pid"

for _ in $(seq 1 100); do
  if curl -fsS "http://$listen/__lbheartbeat__" >/dev/null 2>&1; then
    echo "Sigil is running at http://$listen (pid $(cat "$work/sigil.pid"))"
    echo "  log:      $work/sigil.log"
    echo "  settings: $work/sigil.env (for sigil import/token/migrate: set -a; . $work/sigil.env; set +a)"
    echo "  stop:     deploy/dev/stop.sh"
    exit 0
  fi
  kill -0 "$(cat "$work/sigil.pid")" 2>/dev/null || break
  sleep 0.1
done
echo "setup.sh: sigil did not start; last log lines:" >&2
tail -n 20 "$work/sigil.log" >&2
exit 1
