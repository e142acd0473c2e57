#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# symcache benchmark: parse + build speed against `wc -l` on the same file, peak memory, symcache
# size, open time and lookup latency, on deterministic xul-shaped symbol files (gen_xulsym).
# Usage: bench/symcache/run.sh [BUILD_DIR]
#   SIGIL_BENCH_DIR       where the generated files go (default /tmp/sigil-bench-symcache)
#   SIGIL_BENCH_VARIANTS  default "xul xul-inl huge" (also small-2000, small-200, corrupt)
#   SIGIL_BENCH_REPS      measurements per figure, best and median reported (default 5)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-bench}"
work="${SIGIL_BENCH_DIR:-/tmp/sigil-bench-symcache}"
variants="${SIGIL_BENCH_VARIANTS:-xul xul-inl huge}"
reps="${SIGIL_BENCH_REPS:-5}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target gen_xulsym bench_symcache -j2 >/dev/null
gen="$build/bench/symcache/gen_xulsym"
drv="$build/bench/symcache/bench_symcache"
mkdir -p "$work"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build: $build (Release); files in $work; $reps measurements per figure (best / median)"

ns() { date +%s%N; }
# best and median of the numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {printf "%s %s", v[1], v[int((NR+1)/2)]}'; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }

for v in $variants; do
  sym="$work/$v.sym"
  if [ ! -s "$sym" ] || [ ! -s "$sym.counts" ]; then
    "$gen" "$v" "$sym" > "$sym.counts"
  fi
  bytes=$(stat -c %s "$sym")
  echo
  echo "== $v: $bytes bytes; generated $(cat "$sym.counts")"
  cat "$sym" > /dev/null  # page cache, for both the baseline and the parser

  # Baseline and parser alternate, so that both see the same moments of a shared machine: per
  # round `wc -l`, the default options (a second thread for inputs over 4 MiB), one thread.
  wc_times=""; parse_times=""; cpu_times=""; one_times=""; rss=0; out=""
  for _ in $(seq "$reps"); do
    t0=$(ns); wc -l "$sym" > /dev/null; t1=$(ns)
    wc_times+="$(( t1 - t0 ))"$'\n'
    out=$("$drv" parse "$sym")
    parse_times+="$(echo "$out" | field parse_s)"$'\n'
    cpu_times+="$(echo "$out" | field cpu_s)"$'\n'
    r=$(echo "$out" | field maxrss_kb); [ "$r" -gt "$rss" ] && rss=$r
    one=$("$drv" parse "$sym" 1)
    one_times+="$(echo "$one" | field parse_s)"$'\n'
    r=$(echo "$one" | field maxrss_kb); [ "$r" -gt "$rss" ] && rss=$r
  done
  read -r wc_best wc_med <<< "$(printf '%s' "$wc_times" | stats)"
  read -r p_best p_med <<< "$(printf '%s' "$parse_times" | stats)"
  read -r c_best c_med <<< "$(printf '%s' "$cpu_times" | stats)"
  read -r o_best o_med <<< "$(printf '%s' "$one_times" | stats)"
  image=$(echo "$out" | field image_bytes)
  warnings=$(echo "$out" | field warnings)

  symc="$work/$v.symc"
  "$drv" convert "$sym" "$symc" > /dev/null
  open_out=$("$drv" open "$symc" 2000)
  look_out=$("$drv" lookup "$symc" 1000000 "$reps")

  awk -v b="$bytes" -v wb="$wc_best" -v wm="$wc_med" -v pb="$p_best" -v pm="$p_med" \
      -v cb="$c_best" -v cm="$c_med" -v ob="$o_best" -v om="$o_med" -v rss="$rss" \
      -v img="$image" -v w="$warnings" '
    BEGIN {
      printf "  wc -l (baseline):      best %.1f ms, median %.1f ms (%.0f MB/s)\n", wb/1e6, wm/1e6, b/(wb/1e9)/1e6
      printf "  parse + build:         best %.1f ms, median %.1f ms, %d warnings\n", pb*1e3, pm*1e3, w
      printf "  parse_mb_s             %.0f (median %.0f; CPU time of both threads: %.0f MB/s, median %.0f)\n", b/pb/1e6, b/pm/1e6, b/cb/1e6, b/cm/1e6
      printf "  parse_mb_s_one_thread  %.0f (median %.0f)\n", b/ob/1e6, b/om/1e6
      printf "  parse_vs_wc_ratio      %.3f (median %.3f; one thread %.3f; target >= 0.12)\n", (wb/1e9)/pb, (wm/1e9)/pm, (wb/1e9)/ob
      printf "  peak_rss_ratio         %.2f (%.0f MB peak RSS; target <= 1.5)\n", rss*1024/b, rss/1024
      printf "  symcache_size_ratio    %.3f (%d bytes; target <= 0.40)\n", img/b, img
    }'
  echo "  open_us                $(echo "$open_out" | field open_us_best) (median $(echo "$open_out" | field open_us_median); target < 1000)"
  mem=$(echo "$look_out" | field mem_read_ns)
  one=$(echo "$look_out" | field lookup_ns_one)
  echo "  lookup_ns_one          $one (median $(echo "$look_out" | field lookup_ns_one_median); target <= 250)"
  echo "  memory_read_ns         $mem (baseline: one dependent random read from the same mapping)"
  echo "  lookup_vs_memory       $(awk -v a="$one" -v m="$mem" 'BEGIN {printf "%.2f", a/m}') (one-at-a-time lookup / one memory read)"
  echo "  lookup_ns_batch        $(echo "$look_out" | field lookup_ns_batch) (median $(echo "$look_out" | field lookup_ns_batch_median))"
  echo "  lookups: $(echo "$look_out" | field lookups) random offsets inside functions;" \
       "with a line $(echo "$look_out" | field with_line), with inlines $(echo "$look_out" | field with_inlines)"
done
