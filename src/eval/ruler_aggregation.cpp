// Aggregation tasks of RULER: common-word extraction (cwe), where ten words repeat more often than
// the rest of a numbered list, and frequent-word extraction (fwe), where coded words follow a Zipf
// distribution and the three most frequent ones after the dummy "..." are the answer.
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "eval/ruler_tasks.h"
#include "eval/word_lists.h"

namespace lkv::eval {
namespace {

// ---- Common-word extraction ----

constexpr int kCommonWords = 10;

struct WordCounts {
  int common;    // occurrences of each of the kCommonWords common words
  int uncommon;  // occurrences of each other word
};

// RULER's frequencies: 30 and 3 from 4K tokens on, 6 and 1 below. The solved example uses 10 and 3
// (3 and 1 below 4K).
WordCounts list_counts(int length) { return length < 4096 ? WordCounts{6, 1} : WordCounts{30, 3}; }
WordCounts example_counts(int length) { return length < 4096 ? WordCounts{3, 1} : WordCounts{10, 3}; }
size_t example_words(int length) { return length < 4096 ? 20 : 40; }

std::vector<std::string> all_common_words() {
  std::vector<std::string> words;
  for (const auto* list : {&common_nouns(), &common_adjectives(), &common_verbs()}) {
    for (const std::string_view word : *list) words.emplace_back(word);
  }
  return words;
}

// "1. w 2. w ..." for the words repeated per counts (common words first in `words`), shuffled.
std::string numbered_list(const std::vector<std::string>& words, WordCounts counts, Rng& rng) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < words.size(); ++i) {
    const int repeats = i < static_cast<size_t>(kCommonWords) ? counts.common : counts.uncommon;
    for (int r = 0; r < repeats; ++r) entries.push_back(words[i]);
  }
  shuffle(entries, rng);
  for (size_t i = 0; i < entries.size(); ++i) entries[i] = fmt::format("{}. {}", i + 1, entries[i]);
  return join(entries, " ");
}

constexpr const char* kListPreamble =
    "Below is a numbered list of words. Some of the words occur more often than others. Remember the words that "
    "occur most often.";
constexpr const char* kListQuestion = "Question: Which 10 words occur most often in the list above?";
constexpr const char* kListAnswerPrefix = "Answer: The 10 words that occur most often in the list above are:";

BuiltSample build_cwe(const TaskInput& input, int64_t units) {
  Rng rng(input.seed);
  std::vector<std::string> words = all_common_words();
  shuffle(words, rng);
  Rng example_rng(mix_seed(input.seed, 3));
  Rng list_rng(mix_seed(input.seed, 4));

  // The solved example takes the first words, the task list the rest.
  const size_t n_example = example_words(input.length);
  const std::vector<std::string> example(words.begin(), words.begin() + static_cast<ptrdiff_t>(n_example));
  const std::vector<std::string> candidates(words.begin() + static_cast<ptrdiff_t>(n_example), words.end());
  std::string example_answer;
  for (int i = 0; i < kCommonWords; ++i) example_answer += fmt::format("{}{}. {}", i ? " " : "", i + 1, example[i]);
  const std::string solved_example =
      fmt::format("{}\n{}\n{} {} {}", kListPreamble, numbered_list(example, example_counts(input.length), example_rng),
                  kListQuestion, kListAnswerPrefix, example_answer);

  // `units` list entries: as many distinct words as fit at RULER's counts. Past the size of the
  // word list, both counts grow by the same factor instead, keeping their ratio.
  WordCounts counts = list_counts(input.length);
  const int64_t capacity =
      int64_t{kCommonWords} * counts.common + static_cast<int64_t>(candidates.size() - kCommonWords) * counts.uncommon;
  const int64_t scale = std::max<int64_t>(1, (units + capacity - 1) / capacity);
  counts.common *= static_cast<int>(scale);
  counts.uncommon *= static_cast<int>(scale);
  const int64_t distinct = kCommonWords + (units - int64_t{kCommonWords} * counts.common) / counts.uncommon;
  const size_t n_words = static_cast<size_t>(std::clamp<int64_t>(distinct, kCommonWords + 1, candidates.size()));
  const std::vector<std::string> list_words(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(n_words));

  BuiltSample built;
  EvalSample& sample = built.sample;
  sample.context = solved_example + "\n\n" + kListPreamble + "\n" + numbered_list(list_words, counts, list_rng);
  sample.input = kListQuestion;
  sample.answer_prefix = kListAnswerPrefix;
  sample.answers.assign(list_words.begin(), list_words.begin() + kCommonWords);
  return built;
}

// ---- Frequent-word extraction ----

constexpr int kCodedWordLength = 6;
constexpr double kZipfExponent = 2.0;
constexpr double kZeta2 = 1.6449340668482264;  // sum of k^-2, normalizes the Zipf counts

BuiltSample build_fwe(const TaskInput& input, int64_t units) {
  Rng rng(input.seed);
  // RULER's vocabulary: length / 50 random coded words; the most frequent rank is "...", noise.
  const size_t vocab_size = static_cast<size_t>(std::max(10, input.length / 50));
  std::set<std::string> used;
  std::vector<std::string> vocab;
  while (vocab.size() < vocab_size) {
    std::string word;
    for (int i = 0; i < kCodedWordLength; ++i) word += static_cast<char>('a' + rng.below(26));
    if (used.insert(word).second) vocab.push_back(word);
  }
  vocab[0] = "...";

  std::vector<std::string> text;
  for (size_t rank = 1; rank <= vocab.size(); ++rank) {
    const auto count = static_cast<int64_t>(static_cast<double>(units) * std::pow(rank, -kZipfExponent) / kZeta2);
    for (int64_t c = 0; c < count; ++c) text.push_back(vocab[rank - 1]);
  }
  Rng text_rng(mix_seed(input.seed, 5));
  shuffle(text, text_rng);

  BuiltSample built;
  EvalSample& sample = built.sample;
  sample.context =
      "Read the coded text below and keep count of how often each coded word occurs. Find the three coded words that "
      "occur most often. " +
      join(text, " ");
  sample.input =
      "Question: Give no explanation and ignore the dots '...'. Which three words occur most often in the coded text "
      "above?";
  sample.answer_prefix = "Answer: The three words that occur most often in the coded text above are:";
  sample.answers.assign(vocab.begin() + 1, vocab.begin() + 4);
  return built;
}

}  // namespace

RulerTask common_words_task() {
  RulerTask task;
  task.name = "cwe";
  task.max_new_tokens = 120;
  task.metric = "string_match_all";
  // The common words and ten uncommon ones.
  task.min_units = [](int length) {
    const WordCounts counts = list_counts(length);
    return int64_t{kCommonWords} * counts.common + int64_t{10} * counts.uncommon;
  };
  task.build = build_cwe;
  return task;
}

RulerTask frequent_words_task() {
  RulerTask task;
  task.name = "fwe";
  task.max_new_tokens = 50;
  task.metric = "string_match_all";
  // With 200 words the Zipf counts of ranks 2 to 5 are 30, 13, 7 and 4: the answer is unambiguous.
  task.min_units = [](int) { return int64_t{200}; };
  task.build = build_fwe;
  return task;
}

}  // namespace lkv::eval
