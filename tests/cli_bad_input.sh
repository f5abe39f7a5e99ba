#!/usr/bin/env bash
# Bad input at the command line: each case must exit with code 1 and print one line starting with
# "error:" that contains the expected words. Usage: cli_bad_input.sh PATH/TO/lookaheadkv REPO_ROOT
set -u
bin=$1
root=$2
model="$root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

expect_error() {  # name, expected substring, command...
  local name=$1 expected=$2
  shift 2
  local output rc
  output=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -ne 1 ]]; then
    echo "FAIL $name: exit code $rc, expected 1; output: $output"
    failures=$((failures + 1))
  elif ! grep -q "^error: .*$expected" <<<"$output"; then
    echo "FAIL $name: message lacks '$expected': $output"
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
}

expect_error "missing model" "not found" "$bin" generate -m "$work/none.gguf" -p hi
head -c 1000 "$root/models/SmolLM2-135M-Instruct.Q4_1.gguf" > "$work/truncated.gguf" 2>/dev/null || true
expect_error "truncated model" "corrupt" "$bin" generate -m "$work/truncated.gguf" -p hi
printf 'not a gguf file at all, just text' > "$work/text.gguf"
expect_error "wrong magic" "$work/text.gguf" "$bin" generate -m "$work/text.gguf" -p hi
expect_error "unknown cache type" "use f32 or f16" "$bin" generate -m "$work/none.gguf" -p hi --cache-type q8_0
if [[ -f "$model" ]]; then
  expect_error "no prompt" "no prompt" "$bin" --log-level warn generate -m "$model" -p ""
  printf 'abc\xff\xfe' > "$work/invalid.txt"
  expect_error "invalid UTF-8" "not valid UTF-8" "$bin" --log-level warn generate -m "$model" -f "$work/invalid.txt"
  expect_error "prompt longer than context" "context is 64 tokens" \
    "$bin" --log-level warn generate -m "$model" -f "$root/data/opticks_opening.txt" -c 64 -n 4
  expect_error "unknown policy" "valid policies" "$bin" --log-level warn generate -m "$model" -p hi --policy nope --budget 4
  expect_error "zero budget" "budget 0 is invalid" "$bin" --log-level warn generate -m "$model" -p hi --policy snapkv --budget 0
  expect_error "ratio above one" "ratio" "$bin" --log-level warn generate -m "$model" -p hi --policy snapkv --ratio 1.5
  expect_error "missing prompt file" "not found" "$bin" --log-level warn generate -m "$model" -f "$work/none.txt"
  expect_error "eval missing data file" "not found" \
    "$bin" --log-level warn eval -m "$model" --data "$work/none.jsonl" --out "$work/eval"
  printf '{"context": "c", "input": "q"}\n' > "$work/no_answers.jsonl"
  expect_error "eval line without answers" "no_answers.jsonl:1: missing field \"answers\"" \
    "$bin" --log-level warn eval -m "$model" --data "$work/no_answers.jsonl" --out "$work/eval"
  expect_error "eval RULER length above context" "context is 8192 tokens" \
    "$bin" --log-level warn eval -m "$model" --data ruler:vt@16K --haystack builtin --out "$work/eval"
  expect_error "eval bad-line value" "use stop or skip" \
    "$bin" --log-level warn eval -m "$model" --data "$work/no_answers.jsonl" --on-bad-line maybe --out "$work/eval"
  expect_error "eval unknown policy" "valid policies" \
    "$bin" --log-level warn eval -m "$model" --data "$work/no_answers.jsonl" --policies nope --out "$work/eval"
  expect_error "report without results" "no metrics.json" "$bin" --log-level warn report "$work"
else
  echo "models/ is absent: model-dependent cases skipped (run scripts/fetch_models.sh)"
fi

echo "cli_bad_input: $passed passed, $failures failed"
[[ $failures -eq 0 ]]
