// One evaluation example in LongBench's shape (DESIGN.md §7), whatever produced it: a LongBench
// JSON Lines file, a RULER-style generator or MT-Bench.
//
// The prompt the model sees is built from `context` and `input` by the task's template; `answers`
// are the gold strings the metric compares the prediction with.
#pragma once

#include <string>
#include <vector>

namespace lkv::eval {

struct EvalSample {
  std::string id;                        // unique within a dataset (LongBench's `_id`)
  std::string task;                      // task name: "niah_single_1", "hotpotqa", "mt_bench", ...
  std::string context;                   // the long part, the one eviction prunes
  std::string input;                     // the question or instruction
  std::vector<std::string> answers;      // gold answers; at least one
  std::vector<std::string> all_classes;  // classification tasks only
  int length = 0;                        // context length in tokens of the target model (0: unknown)
  // How to build the prompt and score the prediction, filled by the producer:
  std::string answer_prefix;             // text the prompt ends with ("Answer:"), may be empty
  int max_new_tokens = 0;                // 0: the task's default
  std::string metric;                    // "string_match_all", "string_match_part", "qa_f1", "rouge_l", ...
  // Multi-turn samples (MT-Bench): the user turns in order; context/input are unused then.
  std::vector<std::string> turns;
};

}  // namespace lkv::eval
