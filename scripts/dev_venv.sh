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
