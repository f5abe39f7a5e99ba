#!/usr/bin/env bash
# Creates the development virtual environment .venv-dev with the reference peers used to
# regenerate golden files and run side-by-side benchmarks: llama-cpp-python (builds llama.cpp from
# source, about 10 minutes on 2 cores) and gguf. None of them is a runtime dependency of lookaheadkv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-dev"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import llama_cpp, gguf, numpy" 2>/dev/null; then
  MAKEFLAGS=-j"$(nproc)" "$venv/bin/pip" install --quiet "llama-cpp-python==0.3.36" "gguf==0.19.0" numpy
fi
echo "development environment ready: $venv"

# With --avx2-peer, also builds .venv-avx2: the same llama-cpp-python built for AVX2, FMA and F16C
# only (no AVX-512), the instruction sets lookaheadkv's kernels use. scripts/bench_speed.py then
# compares with both builds (--peer). About 15 minutes on 2 cores.
if [[ "${1:-}" == "--avx2-peer" ]]; then
  peer="$root/.venv-avx2"
  [[ -x "$peer/bin/python" ]] || python3 -m venv "$peer"
  if ! "$peer/bin/python" -c "import llama_cpp, numpy" 2>/dev/null; then
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX_VNNI=OFF" MAKEFLAGS=-j"$(nproc)" \
      "$peer/bin/pip" install --quiet --no-cache-dir "llama-cpp-python==0.3.36" numpy
  fi
  echo "AVX2 peer ready: $peer ($("$peer/bin/python" -c 'import llama_cpp; print(llama_cpp.llama_print_system_info().decode().strip())'))"
fi
