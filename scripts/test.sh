#!/usr/bin/env bash
# Runs the test suite the way CI does: installs what is missing (Debian packages, the two real
# models), then builds and runs the tests twice:
#   1. Release build (build/): every test, including the real-model golden tests.
#   2. Debug build with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/): every test
#      except the slow real-model comparisons and f16-cache checks, which cover no code the
#      synthetic-model tests miss.
# Tests run one per core. From a clean clone, CI ran the whole script in 19 minutes on 2 cores
# with the tests one at a time. After scripts/setup.sh, a clean clone took 12.4 minutes with
# tests one per core, on 2 idle cores. Set LKV_LONG_TESTS=1 for the long
# variants of the reference comparisons.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

scripts/install_deps.sh
scripts/fetch_models.sh

echo "== Release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan + UBSan build and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLKV_SANITIZE=ON -DLKV_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -E 'ModelGolden|ModelExact|RealModel|ModelF16CacheReal'
