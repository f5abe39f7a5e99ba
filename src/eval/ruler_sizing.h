// Sizing a synthetic prompt to a token budget: a search over the haystack size that tokenizes the
// whole prompt with the target model's tokenizer.
#pragma once

#include <cstdint>

#include "eval/ruler_tasks.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

// A prompt fits when its token count is in [target - floor(target * kLengthTolerance), target].
// The search stops at the first size that fits. When no size fits, because one haystack unit is
// worth more tokens than the tolerance, it returns the largest size at or below the target.
constexpr double kLengthTolerance = 0.02;

// Search state carried from one sample to the next. With it, most samples need one full-length
// tokenization besides the small one of the smallest haystack.
struct SizeEstimate {
  int64_t units = 0;             // size found for the previous sample; 0 before the first
  double tokens_per_unit = 0.0;  // slope measured on the previous sample; 0 before the first
};

struct SizedSample {
  BuiltSample built;
  int64_t units = 0;
  int tokens = 0;         // tokens of the whole prompt
  int tokenizations = 0;  // encode calls the search made, for logs and tests
};

// Tokens of ruler_prompt(sample) with the tokenizer's BOS/EOS rules (add_special) and control
// token text read as plain text.
int count_prompt_tokens(const Tokenizer& tokenizer, const EvalSample& sample);

// Builds the task's sample for `input` with the largest haystack that fits input.length tokens.
// Throws lkv::Error naming the task and the minimum when even the smallest haystack is too long.
SizedSample fit_to_length(const RulerTask& task, const TaskInput& input, const Tokenizer& tokenizer,
                          SizeEstimate& estimate);

}  // namespace lkv::eval
