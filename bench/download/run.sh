#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Download benchmark: warm 302 requests/s of `sigil serve` against a minimal libh2o server that
# answers the same 302 from memory, both on loopback in the same run, with the same number of
# event-loop threads. Also the code-id redirect path and the 404 path.
#   bench/download/run.sh [N_FILES] [DURATION_S]
# Prints download_302_ratio=<sigil req/s / baseline req/s> (target >= 0.6).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
n_files=${1:-1000}
duration=${2:-10}
threads=$(nproc)
conns=50

build=${SIGIL_BENCH_BUILD:-$root/build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF -DSYM_WERROR=OFF >/dev/null
cmake --build "$build" -j"$threads" --target sigil bench_baseline_302 >/dev/null
sigil=$build/server/sigil
baseline=$build/bench/download/bench_baseline_302
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d /tmp/sigil-bench-download.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_port=$(free_port)
deploy/dev/postgres.sh start "$work/pg" "$pg_port" >/dev/null
deploy/dev/postgres.sh createdb "$work/pg" bench >/dev/null
export SIGIL_DATABASE_URL=$(deploy/dev/postgres.sh url "$work/pg" bench)
export SIGIL_STORAGE_URL=file://$work/storage
export SIGIL_CACHE_DIR=$work/cache
export SIGIL_ACCESS_LOG=${SIGIL_BENCH_ACCESS_LOG:-false}
export SIGIL_WORKERS=$threads
"$sigil" migrate >/dev/null

# Seed N Windows modules (debug path + code id) in a Breakpad-layout store.
python3 - "$work/store" "$n_files" "$work/paths.txt" "$work/codeid.txt" "$work/missing.txt" <<'PY'
import os, sys
store, n = sys.argv[1], int(sys.argv[2])
with open(sys.argv[3], "w") as paths, open(sys.argv[4], "w") as codeids, open(sys.argv[5], "w") as missing:
    for i in range(n):
        name = "mod%05d" % i
        debug_id = "%032X1" % (0x1234567890ABCDEF * (i + 1) % (1 << 128))
        code_id = "%08X%X" % (0x5F000000 + i, 0x10000 + i)
        d = os.path.join(store, name + ".pdb", debug_id)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".sym"), "w") as f:
            f.write("MODULE windows x86_64 %s %s.pdb\nINFO CODE_ID %s %s.dll\n" % (debug_id, name, code_id, name))
            f.write("FILE 0 src.cpp\nFUNC 1000 10 0 f()\n1000 10 1 0\n")
        paths.write("/%s.pdb/%s/%s.sym\n" % (name, debug_id, name))
        codeids.write("/%s.dll/%s/%s.sym\n" % (name, code_id, name))
        missing.write("/%s.pdb/%s/%s.sym\n" % (name, "F" * 32 + "1", name))
PY
start=$(date +%s.%N)
"$sigil" import "$work/store" >/dev/null
import_s=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")

sig_port=$(free_port)
SIGIL_LISTEN=127.0.0.1:$sig_port "$sigil" serve 2>"$work/sigil.log" &
pids+=($!)
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$sig_port/__lbheartbeat__" >/dev/null && break; sleep 0.05; done
location=$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$sig_port$(head -n1 "$work/paths.txt")")
location=${location#http://127.0.0.1:$sig_port}
base_port=$(free_port)
"$baseline" "$base_port" "$threads" "$location" &
pids+=($!)
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$base_port/" && break; sleep 0.05; done

# Warm the caches: every path once.
for f in paths codeid missing; do
  SIGIL_BENCH_PATHS=$work/$f.txt wrk -t1 -c4 -d2s -s bench/download/paths.lua "http://127.0.0.1:$sig_port" >/dev/null
done

rps() { awk '/Requests\/sec/ {print $2}'; }
lat() { awk '/^ *Latency / {print $2; exit}'; }
runwrk() { # url [paths-file]
  if [ -n "${2:-}" ]; then
    SIGIL_BENCH_PATHS=$2 wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s bench/download/paths.lua "$1"
  else
    wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$1"
  fi
}
base_out=$(runwrk "http://127.0.0.1:$base_port/x")
sig_out=$(runwrk "http://127.0.0.1:$sig_port" "$work/paths.txt")
codeid_out=$(runwrk "http://127.0.0.1:$sig_port" "$work/codeid.txt")
missing_out=$(runwrk "http://127.0.0.1:$sig_port" "$work/missing.txt")
base_rps=$(echo "$base_out" | rps); sig_rps=$(echo "$sig_out" | rps)
codeid_rps=$(echo "$codeid_out" | rps); missing_rps=$(echo "$missing_out" | rps)
grep -q "Non-2xx or 3xx responses" <<<"$sig_out" && { echo "sigil answered errors during the 302 run" >&2; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "note: wrk shares the cores with the server ($threads threads, $conns connections, ${duration}s, keep-alive)"
echo "seeded_files=$n_files import_seconds=$import_s"
echo "baseline_302_rps=$base_rps (latency avg $(echo "$base_out" | lat))"
echo "sigil_302_rps=$sig_rps (latency avg $(echo "$sig_out" | lat))"
echo "sigil_codeid_302_rps=$codeid_rps (latency avg $(echo "$codeid_out" | lat))"
echo "sigil_404_rps=$missing_rps (latency avg $(echo "$missing_out" | lat))"
echo "download_302_ratio=$(python3 -c "print(round($sig_rps / $base_rps, 3))")"
echo "codeid_302_ratio=$(python3 -c "print(round($codeid_rps / $base_rps, 3))")"
