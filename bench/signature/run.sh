#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Signature throughput: builds bench_signature (Release) and runs it over the corpus cases
# repeated to at least 100,000 inputs, single thread. Usage: bench/signature/run.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-bench}"
corpus="${SIGIL_CORPUS_DIR:-$root/../shared/corpus}"
cases="$corpus/signatures/cases.jsonl"
if [ ! -f "$cases" ]; then
  echo "bench/signature: $cases not found (set SIGIL_CORPUS_DIR)" >&2
  exit 77
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bench_signature -j2 >/dev/null
"$build/bench/signature/bench_signature" --min-inputs "${SIGIL_BENCH_MIN_INPUTS:-100000}" "$cases"
