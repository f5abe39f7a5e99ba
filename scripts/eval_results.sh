#!/usr/bin/env bash
# Runs the RULER results sweep of docs/results.md into results/ (git-ignored) and renders
# results/report.md. Safe to re-run: finished configurations and samples are skipped, and a larger
# SAMPLES adds only the new samples. Run from the repository root after a Release build.
#   SAMPLES=3 TASKS=niah_single_2,niah_multikey_1,vt,qa scripts/eval_results.sh   (the defaults)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-build/lookaheadkv}
out=${OUT:-results}
samples=${SAMPLES:-3}
tasks=${TASKS:-niah_single_2,niah_multikey_1,vt,qa}
policies=${POLICIES:-streamingllm,h2o,snapkv,pyramidkv,laq,lookaheadkv}
budgets=${BUDGETS:-64,128,256,512}
gemma=models/gemma-3-270m-q4_k_m.gguf
smol=models/SmolLM2-135M-Instruct.Q4_1.gguf

data_at() {  # LENGTH → ruler:TASK@LENGTH,... for every task
  local items=() task
  IFS=, read -ra list <<< "$tasks"
  for task in "${list[@]}"; do items+=("ruler:$task@$1"); done
  (IFS=,; echo "${items[*]}")
}

run() {  # MODEL ADAPTER LENGTH
  nice -n 10 "$bin" eval -m "$1" --adapter "$2" --data "$(data_at "$3")" --policies "$policies" \
    --budgets "$budgets" --samples "$samples" --out "$out" -t 2
}

run "$gemma" adapters/gemma3-270m.lookahead.gguf 4K
run "$smol" adapters/smollm2-135m.lookahead.gguf 4K
run "$gemma" adapters/gemma3-270m.lookahead.gguf 8K
# SmolLM2's trained context is 8192 tokens, the prompt plus the answer: its "8K" prompts are
# 8064 tokens, which leaves room for the longest task answer (128 tokens).
run "$smol" adapters/smollm2-135m.lookahead.gguf 8064
run "$gemma" adapters/gemma3-270m.lookahead.gguf 16K
"$bin" report "$out"
