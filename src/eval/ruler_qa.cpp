// Question answering over a gold passage among distractor passages, in the shape of RULER's QA
// tasks. RULER takes its passages and questions from SQuAD and HotpotQA. No such data set is
// available offline, so every passage here is a run of consecutive prose from the haystack. The
// gold passage gets one planted fact sentence, "The <attribute> of <name> is <value>.", and the
// question is about that fact. A few distractor passages get facts with the same attribute about
// other people, so the answer depends on matching the name.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "eval/ruler_tasks.h"
#include "eval/word_lists.h"

namespace lkv::eval {
namespace {

constexpr uint64_t kPassageWords = 150;  // about the size of a SQuAD paragraph
constexpr uint64_t kSentenceScan = 60;   // a passage ends at a sentence end found this far ahead
constexpr size_t kDistractorFacts = 3;

// `where` is "below" before the passages and "above" after them.
std::string instruction(std::string_view where) {
  return fmt::format("Answer the question using the passages {}. Give only the answer, with no other words.", where);
}

std::string fact_sentence(std::string_view object, const std::string& name, std::string_view value) {
  return fmt::format("The {} of {} is {}.", object, name, value);
}

struct Passage {
  uint64_t begin;  // absolute word index in the haystack
  uint64_t count;
};

// Cuts `units` words from `start` into passages of about kPassageWords, each ending at a sentence
// end where one is near. The last passage takes what is left.
std::vector<Passage> cut_passages(const Haystack& prose, uint64_t start, uint64_t units) {
  std::vector<Passage> passages;
  uint64_t begin = start;
  const uint64_t end = start + units;
  while (begin < end) {
    uint64_t stop = std::min(end, begin + kPassageWords);
    if (stop < end) stop = std::min(end, prose.next_sentence_start(stop, kSentenceScan));
    passages.push_back({begin, stop - begin});
    begin = stop;
  }
  return passages;
}

// The passage text with `fact` placed at the start of a random sentence inside it.
std::string passage_with_fact(const Haystack& prose, const Passage& passage, const std::string& fact, Rng& rng) {
  std::vector<std::string> words;
  for (uint64_t i = 0; i < passage.count; ++i) words.emplace_back(prose.word(passage.begin + i));
  const uint64_t at = prose.sentence_start_near(passage.begin + rng.below(passage.count), passage.begin,
                                                passage.begin + passage.count, kSentenceScan) -
                      passage.begin;
  return join_with_inserts(words, {{static_cast<size_t>(at), fact}}, " ");
}

BuiltSample build_qa(const TaskInput& input, int64_t units) {
  Rng rng(input.seed);
  const auto& attributes = fact_attributes();
  const FactAttribute& attribute = attributes[rng.below(attributes.size())];
  std::set<std::string> used_names;
  std::vector<std::string> names;
  while (names.size() < 1 + kDistractorFacts) {
    std::string name =
        fmt::format("{} {}", first_names()[rng.below(first_names().size())], surnames()[rng.below(surnames().size())]);
    if (used_names.insert(name).second) names.push_back(std::move(name));
  }
  std::vector<std::string_view> values = attribute.values;
  shuffle(values, rng);
  const uint64_t prose_start = rng.next();
  Rng placement(mix_seed(input.seed, 6));

  const Haystack& prose = *input.prose;
  const uint64_t start = prose.next_sentence_start(prose_start % prose.size(), kSentenceScan);
  const std::vector<Passage> passages = cut_passages(prose, start, static_cast<uint64_t>(units));
  const size_t gold =
      static_cast<size_t>(std::llround(input.depth_percent / 100.0 * static_cast<double>(passages.size() - 1)));

  // Facts per passage: the gold one, then distractors in other passages chosen at random.
  std::vector<std::string> facts(passages.size());
  facts[gold] = fact_sentence(attribute.object, names[0], values[0]);
  std::vector<size_t> others;
  for (size_t i = 0; i < passages.size(); ++i) {
    if (i != gold) others.push_back(i);
  }
  shuffle(others, placement);
  for (size_t d = 0; d < kDistractorFacts && d < others.size(); ++d) {
    facts[others[d]] = fact_sentence(attribute.object, names[1 + d], values[1 + d]);
  }

  std::vector<std::string> blocks;
  for (size_t i = 0; i < passages.size(); ++i) {
    const std::string text = facts[i].empty() ? prose.text(passages[i].begin, passages[i].count)
                                              : passage_with_fact(prose, passages[i], facts[i], placement);
    blocks.push_back(fmt::format("Passage {}:\n{}", i + 1, text));
  }

  BuiltSample built;
  EvalSample& sample = built.sample;
  sample.context =
      instruction("below") + "\n\nThe passages:\n\n" + join(blocks, "\n\n") + "\n\n" + instruction("above");
  sample.input = fmt::format("Question: What is the {} of {}?", attribute.object, names[0]);
  sample.answer_prefix = "Answer:";
  sample.answers = {std::string(values[0])};
  built.depths_percent = {input.depth_percent};
  return built;
}

}  // namespace

RulerTask question_answering_task() {
  RulerTask task;
  task.name = "qa";
  task.max_new_tokens = 32;
  task.metric = "string_match_part";
  task.uses_prose = true;
  task.build = build_qa;
  return task;
}

}  // namespace lkv::eval
