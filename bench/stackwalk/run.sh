#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Stack-walking throughput: builds bench_stackwalk (Release) and walks every corpus minidump
# with a warm symbol cache, printing per dump the time, threads and frames, and overall
# stackwalk_frames_per_s with the read-only baseline of the same run.
# Usage: bench/stackwalk/run.sh [BUILD_DIR] [REPETITIONS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-bench}"
reps="${2:-21}"
corpus="${SIGIL_CORPUS_DIR:-$root/../shared/corpus}"
if [ ! -d "$corpus/breakpad" ]; then
  echo "bench/stackwalk: corpus not found at $corpus (set SIGIL_CORPUS_DIR)" >&2
  exit 77
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bench_stackwalk -j2 >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; see RESULTS.md)"
"$build/bench/stackwalk/bench_stackwalk" "$corpus" "$reps"
