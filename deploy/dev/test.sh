#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Runs the whole test suite: builds with warnings as errors and runs every CTest test (unit,
# integration against a private PostgreSQL and a real s3rver, fuzz-corpus replays). Tests that
# need the public corpus (../shared/corpus, or SIGIL_CORPUS_DIR) report themselves skipped when
# it is absent. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/dev/install-deps.sh
build=${SIGIL_TEST_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYM_WERROR=ON ${SIGIL_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
