#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# End-to-end upload benchmark: POST /upload/ of a zip of many .sym files (about 1 GB
# uncompressed, xul-shaped and small modules from bench/symcache's generator) to `sigil serve`
# with curl, against `unzip` + `gzip` of the same zip into a folder, both on this machine in the
# same run. Throughput is uncompressed MB of symbol files per second.
#   bench/upload/server.sh [TARGET_MB]
# Prints upload_mbps, baseline_mbps, peak server RSS (VmHWM) and
# upload_ratio=<sigil MB/s>/<baseline MB/s> (target >= 0.8 with RSS < 256 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target_mb=${1:-1000}
build=${SIGIL_BENCH_BUILD:-$root/build-bench-upload}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF -DSYM_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target sigil gen_xulsym >/dev/null
sigil=$build/server/sigil
gen=$build/bench/symcache/gen_xulsym
for tool in curl unzip gzip python3; do
  command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sigil-bench-upload.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# ---- the zip: a few libxul-sized modules and many small ones, each with its own MODULE id ----
for v in xul small-2000 small-200; do "$gen" "$v" "$work/$v.sym" >/dev/null; done
python3 - "$work" "$target_mb" <<'PY'
import os, sys, hashlib
work, target = sys.argv[1], int(sys.argv[2]) * 1000 * 1000
base = {v: open(os.path.join(work, v + ".sym"), "rb").read() for v in ("xul", "small-2000", "small-200")}
# about 64 % in libxul-sized files, 27 % in 900 KB ones, 9 % in 84 KB ones
plan = [("xul", 0.64), ("small-2000", 0.27), ("small-200", 0.09)]
store = os.path.join(work, "store")
total = n = 0
for variant, share in plan:
    data = base[variant]
    body = data[data.index(b"\n") + 1:]
    count = max(1, round(target * share / len(data)))
    for i in range(count):
        name = "%s_%04d" % (variant.replace("-", "_"), i)
        debug_id = hashlib.md5(name.encode()).hexdigest().upper() + "1"
        d = os.path.join(store, name + ".pdb", debug_id)
        os.makedirs(d)
        with open(os.path.join(d, name + ".sym"), "wb") as f:
            f.write(b"MODULE windows x86_64 %s %s.pdb\n" % (debug_id.encode(), name.encode()))
            f.write(body)
            total += len(body) + 60
        n += 1
print("generated %d .sym files, %.0f MB" % (n, total / 1e6))
PY
(cd "$work/store" && zip -q -r -6 "$work/symbols.zip" .)
sym_bytes=$(du -sb --apparent-size "$work/store" | cut -f1)
zip_bytes=$(stat -c %s "$work/symbols.zip")
rm -rf "$work/store" "$work"/*.sym
echo "zip: $((zip_bytes / 1000000)) MB holding $((sym_bytes / 1000000)) MB of .sym files"

# ---- baseline: unzip + gzip into a folder, one process each, as a shell script would ----
sync
t0=$(now)
mkdir "$work/baseline"
unzip -q "$work/symbols.zip" -d "$work/baseline"
gzip -6 -r "$work/baseline"
t1=$(now)
baseline_s=$(python3 -c "print($t1 - $t0)")
rm -rf "$work/baseline"

# ---- sigil: PostgreSQL, sigil serve with local-folder storage, one curl upload ----
pg_port=$(free_port)
deploy/dev/postgres.sh start "$work/pg" "$pg_port" >/dev/null
deploy/dev/postgres.sh createdb "$work/pg" bench >/dev/null
export SIGIL_DATABASE_URL=$(deploy/dev/postgres.sh url "$work/pg" bench)
export SIGIL_STORAGE_URL=file://$work/storage
export SIGIL_CACHE_DIR=$work/cache
export SIGIL_ACCESS_LOG=false
port=$(free_port)
export SIGIL_LISTEN=127.0.0.1:$port
"$sigil" migrate >/dev/null
key=$("$sigil" token create --user bench@example.com --permission upload_symbols 2>/dev/null)
"$sigil" serve 2>"$work/serve.log" &
pids+=($!)
server=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/__lbheartbeat__" >/dev/null && break
  sleep 0.05
done
sync
t0=$(now)
status=$(curl -s -o "$work/response.json" -w '%{http_code}' -X POST -H "Auth-Token: $key" \
  --form "symbols.zip=@$work/symbols.zip" "http://127.0.0.1:$port/upload/")
t1=$(now)
[ "$status" = 201 ] || { echo "upload failed: $status $(cat "$work/response.json")" >&2; exit 1; }
sigil_s=$(python3 -c "print($t1 - $t0)")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
files=$(psql -X -qtA "$SIGIL_DATABASE_URL" -c "SELECT count(*) FROM file_uploads")

python3 - "$sym_bytes" "$zip_bytes" "$baseline_s" "$sigil_s" "$rss_kb" "$files" <<'PY'
import sys
sym, zipb, base_s, sigil_s, rss_kb, files = (float(x) for x in sys.argv[1:])
base = sym / 1e6 / base_s
up = sym / 1e6 / sigil_s
print("files stored: %d" % files)
print("baseline (unzip + gzip -6): %.1f s, %.1f MB/s" % (base_s, base))
print("sigil POST /upload/ (curl, body %.0f MB): %.1f s, %.1f MB/s" % (zipb / 1e6, sigil_s, up))
print("peak server RSS (VmHWM): %.1f MB" % (rss_kb / 1024))
print("upload_mbps=%.1f baseline_mbps=%.1f peak_rss_mb=%.1f" % (up, base, rss_kb / 1024))
print("upload_ratio=%.2f" % (up / base))
PY
