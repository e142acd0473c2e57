#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Stops the development server started by setup.sh (graceful SIGTERM) and, with --all, its
# PostgreSQL cluster too.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${SIGIL_WORK_DIR:-$(pwd)/.work}
if [ -f "$work/sigil.pid" ]; then
  pid=$(cat "$work/sigil.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$work/sigil.pid"
fi
if [ "${1:-}" = "--all" ]; then
  deploy/dev/postgres.sh stop "$work/pg"
fi
