#!/usr/bin/env bash
# The main job on the bundled input: Gemma 3 270M reads the opening of Newton's Opticks
# (data/opticks_opening.txt, about 4,000 tokens) and answers a question about it three times: with
# the full KV cache, after SnapKV evicts all but 256 entries per KV head in the global layers, and
# after LookaheadKV (the trained module in adapters/) does the same.
# The model is a base model, not a chat model, so the question is put as a sentence for it to
# complete; the answer ("seven minutes") appears once, about 1,600 tokens into the document.
# Usage: scripts/demo.sh [extra generate flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model=models/gemma-3-270m-q4_k_m.gguf
adapter=adapters/gemma3-270m.lookahead.gguf
question="According to Newton, how long does light take to travel from the Sun to us?"
cloze="In the passage above, Newton says that light spends in its passage from the Sun to us about"
prompt=$(mktemp)
trap 'rm -f "$prompt"' EXIT
{
  cat data/opticks_opening.txt
  printf '\n\n%s' "$cloze"
} > "$prompt"

echo "Question about data/opticks_opening.txt: $question"
echo "Prompt ends with: ...$cloze"
for policy in "full" "snapkv --budget 256" "lookaheadkv --budget 256 --adapter $adapter"; do
  echo
  echo "== policy: $policy"
  # shellcheck disable=SC2086  # the policy string carries its own flags
  build/lookaheadkv generate -m "$model" -f "$prompt" -n 16 -t "$(nproc)" --policy $policy "$@"
done
