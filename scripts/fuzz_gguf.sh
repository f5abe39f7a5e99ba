#!/usr/bin/env bash
# Builds the GGUF reader fuzz target (clang, libFuzzer, AddressSanitizer and UBSan) and runs it.
#
#   scripts/fuzz_gguf.sh [SECONDS] [extra libFuzzer flags...]     default: 60 seconds
#
# Build dir: $LKV_FUZZ_BUILD_DIR or build-fuzz/. Seeds written by the target itself from
# gguf::Writer files go to <build>/fuzz/gguf-seeds, inputs that add coverage to
# <build>/fuzz/gguf-corpus (kept between runs), crashing inputs to <build>/fuzz/gguf-crashes/.
# Replay one crash with: <build>/fuzz_gguf_reader <build>/fuzz/gguf-crashes/crash-...
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${LKV_FUZZ_BUILD_DIR:-$root/build-fuzz}

CXX=${CXX:-clang++} cmake -S "$root" -B "$build" -G Ninja -DLKV_FUZZ=ON -DLKV_SANITIZE=ON \
  -DLKV_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j2 --target fuzz_gguf_reader

work=$build/fuzz
mkdir -p "$work/gguf-seeds" "$work/gguf-corpus" "$work/gguf-crashes"
# The first directory receives new inputs; the seed directory is read only.
LKV_FUZZ_WRITE_SEEDS="$work/gguf-seeds" "$build/fuzz_gguf_reader" \
  -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/gguf-crashes/" "$@" "$work/gguf-corpus" "$work/gguf-seeds"
