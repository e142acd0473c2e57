#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Upload pipeline throughput: builds bench_upload (Release) and runs it on a generated .sym of
# SIGIL_BENCH_UPLOAD_MB megabytes (default 64). Prints gzip speed and size per zlib level against
# level 9 (Tecken's Python gzip default), extraction against a stored copy, and parallel prepare
# against one thread, each baseline measured in the same run.
# Usage: bench/upload/run.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bench_upload -j2 >/dev/null
"$build/bench/upload/bench_upload" "${SIGIL_BENCH_UPLOAD_MB:-64}"
