// Internal interface between generate_ruler() and the task builders (one file per task family).
//
// A builder turns (sample seed, haystack size) into one sample. Everything that does not depend on
// the size (keys, values, depths, chains, word choices) is drawn first from the sample seed, so the
// sizing search in ruler_sizing.cpp changes only how much haystack surrounds the same needles.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/haystack.h"
#include "eval/sample.h"
#include "lookahead/rng.h"

namespace lkv::eval {

struct TaskInput {
  const Haystack* prose = nullptr;  // loaded only for tasks with uses_prose
  int length = 0;                   // target prompt length in tokens
  uint64_t seed = 0;                // this sample's seed, derived from the user seed
  int depth_percent = 0;            // depth of the first queried needle, 0 (start) to 100 (end)
};

struct BuiltSample {
  EvalSample sample;                // id, length and max_new_tokens are filled in by generate_ruler()
  std::vector<int> depths_percent;  // depth of each answer's needle, or of the gold passage
};

struct RulerTask {
  std::string name;
  int max_new_tokens = 0;
  std::string metric;
  bool uses_prose = false;
  // Smallest haystack size the task accepts for a target length, in the builder's own unit (words,
  // sentences, lines, list entries). Sizes above it only add haystack.
  std::function<int64_t(int length)> min_units = [](int) { return int64_t{1}; };
  std::function<BuiltSample(const TaskInput& input, int64_t units)> build;
};

std::vector<RulerTask> niah_tasks();
RulerTask variable_tracking_task();
RulerTask common_words_task();
RulerTask frequent_words_task();
RulerTask question_answering_task();

// Deterministic helpers shared by the builders.

// Mixes two values into one seed, so streams derived from related seeds do not overlap.
uint64_t mix_seed(uint64_t a, uint64_t b);
// Uniform integer in [lo, hi].
int64_t random_between(Rng& rng, int64_t lo, int64_t hi);
// Fisher-Yates shuffle driven by rng.
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}
// Random 7-digit decimal number, 1000000 to 9999999.
std::string random_number_text(Rng& rng);
// Random version-4 UUID in the usual 8-4-4-4-12 lowercase hexadecimal form.
std::string random_uuid(Rng& rng);
// Random "adjective-noun" key from the built-in word lists.
std::string random_word_key(Rng& rng);

// An item to insert before unit `position` of a haystack (position == unit count appends it).
struct Insert {
  size_t position;
  std::string text;
};
// Joins units with the separator, placing each insert before its unit; inserts that share a
// position keep their order in `inserts`.
std::string join_with_inserts(const std::vector<std::string>& units, std::vector<Insert> inserts,
                              std::string_view separator);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
// "a", "a and b", "a, b and c".
std::string join_as_list(const std::vector<std::string>& parts);

}  // namespace lkv::eval
