// Needle in a haystack, the retrieval tasks of RULER (Hsieh et al. 2024): key-value "needle"
// sentences hidden at chosen depths in filler sentences, prose or a crowd of distractor needles,
// followed by a question about one or more keys. The expected answers are all values of the
// queried keys.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "eval/ruler_tasks.h"

namespace lkv::eval {
namespace {

enum class HaystackKind { kFiller, kProse, kNeedles };
enum class NeedleKind { kWord, kNumber, kUuid };

struct NiahConfig {
  const char* name;
  HaystackKind haystack;
  NeedleKind key;
  NeedleKind value;
  int keys;     // keys hidden as needles
  int values;   // values per key, each its own needle
  int queries;  // keys queried, each with all its values expected
};

// RULER's configurations of its eight retrieval tasks.
constexpr NiahConfig kConfigs[] = {
    {"niah_single_1", HaystackKind::kFiller, NeedleKind::kWord, NeedleKind::kNumber, 1, 1, 1},
    {"niah_single_2", HaystackKind::kProse, NeedleKind::kWord, NeedleKind::kNumber, 1, 1, 1},
    {"niah_single_3", HaystackKind::kProse, NeedleKind::kWord, NeedleKind::kUuid, 1, 1, 1},
    {"niah_multikey_1", HaystackKind::kProse, NeedleKind::kWord, NeedleKind::kNumber, 4, 1, 1},
    {"niah_multikey_2", HaystackKind::kNeedles, NeedleKind::kWord, NeedleKind::kNumber, 1, 1, 1},
    {"niah_multikey_3", HaystackKind::kNeedles, NeedleKind::kUuid, NeedleKind::kUuid, 1, 1, 1},
    {"niah_multivalue", HaystackKind::kProse, NeedleKind::kWord, NeedleKind::kNumber, 1, 4, 1},
    {"niah_multiquery", HaystackKind::kProse, NeedleKind::kWord, NeedleKind::kNumber, 4, 1, 4},
};

// Prose insertions move forward to the next sentence start, looking this many words ahead.
constexpr uint64_t kSentenceScan = 100;

std::string draw(NeedleKind kind, Rng& rng) {
  switch (kind) {
    case NeedleKind::kWord:
      return random_word_key(rng);
    case NeedleKind::kNumber:
      return random_number_text(rng);
    case NeedleKind::kUuid:
      return random_uuid(rng);
  }
  return {};
}

// Draws a value of `kind` that is not in `used` yet, and records it.
std::string draw_unique(NeedleKind kind, Rng& rng, std::set<std::string>& used) {
  for (;;) {
    std::string value = draw(kind, rng);
    if (used.insert(value).second) return value;
  }
}

const char* singular(NeedleKind kind) {
  switch (kind) {
    case NeedleKind::kWord:
      return "word";
    case NeedleKind::kNumber:
      return "number";
    case NeedleKind::kUuid:
      return "UUID";
  }
  return "";
}

std::string plural(NeedleKind kind) { return singular(kind) + std::string("s"); }

std::string needle_sentence(NeedleKind value_kind, const std::string& key, const std::string& value) {
  return fmt::format("A special magic {} for {} is {}.", singular(value_kind), key, value);
}

struct Needle {
  size_t key;  // index into keys
  std::string value;
  int depth_percent;
};

BuiltSample build_niah(const NiahConfig& config, const TaskInput& input, int64_t units) {
  // Draws that do not depend on the haystack size come first, in a fixed order.
  Rng rng(input.seed);
  std::set<std::string> used_keys, used_values;
  std::vector<std::string> keys;
  for (int k = 0; k < config.keys; ++k) keys.push_back(draw_unique(config.key, rng, used_keys));
  std::vector<Needle> needles;
  for (size_t k = 0; k < keys.size(); ++k) {
    for (int v = 0; v < config.values; ++v) {
      const int depth = static_cast<int>(random_between(rng, 0, 100));
      needles.push_back({k, draw_unique(config.value, rng, used_values), depth});
    }
  }
  std::vector<size_t> key_order(keys.size());
  for (size_t k = 0; k < key_order.size(); ++k) key_order[k] = k;
  shuffle(key_order, rng);
  const std::vector<size_t> queried(key_order.begin(), key_order.begin() + config.queries);
  // The first needle of the first queried key sits at the sample's spread depth.
  for (Needle& needle : needles) {
    if (needle.key == queried[0]) {
      needle.depth_percent = input.depth_percent;
      break;
    }
  }
  const uint64_t prose_start = rng.next();

  // The haystack, one unit per word, filler sentence or distractor needle line.
  std::vector<std::string> haystack(static_cast<size_t>(units));
  std::string separator = " ";
  uint64_t start = 0;
  switch (config.haystack) {
    case HaystackKind::kFiller:
      for (size_t i = 0; i < haystack.size(); ++i) haystack[i] = filler_sentences()[i % filler_sentences().size()];
      break;
    case HaystackKind::kProse:
      start = input.prose->next_sentence_start(prose_start % input.prose->size(), kSentenceScan);
      for (size_t i = 0; i < haystack.size(); ++i) haystack[i] = std::string(input.prose->word(start + i));
      break;
    case HaystackKind::kNeedles: {
      // Distractor needles come from their own stream, so line i is the same at every size.
      Rng distractors(mix_seed(input.seed, 0x6E6565646C6573ULL));
      for (auto& line : haystack) {
        const std::string key = draw_unique(config.key, distractors, used_keys);
        line = needle_sentence(config.value, key, draw_unique(config.value, distractors, used_values));
      }
      separator = "\n";
      break;
    }
  }

  std::vector<Insert> inserts;
  for (const Needle& needle : needles) {
    size_t position = static_cast<size_t>(std::llround(needle.depth_percent / 100.0 * static_cast<double>(units)));
    if (config.haystack == HaystackKind::kProse) {
      position = static_cast<size_t>(
          input.prose->sentence_start_near(start + position, start, start + haystack.size(), kSentenceScan) - start);
    }
    inserts.push_back({position, needle_sentence(config.value, keys[needle.key], needle.value)});
  }
  shuffle(inserts, rng);  // needles at one position appear in random order

  BuiltSample built;
  EvalSample& sample = built.sample;
  std::vector<std::string> queried_keys;
  for (const size_t k : queried) {
    queried_keys.push_back(keys[k]);
    for (const Needle& needle : needles) {
      if (needle.key != k) continue;
      sample.answers.push_back(needle.value);
      built.depths_percent.push_back(needle.depth_percent);
    }
  }

  const bool one_needle = needles.size() == 1 && config.haystack != HaystackKind::kNeedles;
  const std::string preamble =
      one_needle ? fmt::format(
                       "A special magic {} is hidden in the text below. Memorize it, because you will be "
                       "asked about it afterwards.",
                       singular(config.value))
                 : fmt::format(
                       "Some special magic {} are hidden in the text below. Memorize them, because you will "
                       "be asked about them afterwards.",
                       plural(config.value));
  sample.context = preamble + "\n" + join_with_inserts(haystack, std::move(inserts), separator);
  const std::string query = join_as_list(queried_keys);
  if (sample.answers.size() == 1) {
    sample.input = fmt::format("What is the special magic {} for {} in the text above?", singular(config.value), query);
    sample.answer_prefix =
        fmt::format("The special magic {} for {} in the text above is", singular(config.value), query);
  } else {
    sample.input =
        fmt::format("What are all the special magic {} for {} in the text above?", plural(config.value), query);
    sample.answer_prefix =
        fmt::format("The special magic {} for {} in the text above are", plural(config.value), query);
  }
  return built;
}

}  // namespace

std::vector<RulerTask> niah_tasks() {
  std::vector<RulerTask> tasks;
  for (const NiahConfig& config : kConfigs) {
    RulerTask task;
    task.name = config.name;
    task.max_new_tokens = 128;
    task.metric = "string_match_all";
    task.uses_prose = config.haystack == HaystackKind::kProse;
    task.build = [config](const TaskInput& input, int64_t units) { return build_niah(config, input, units); };
    tasks.push_back(std::move(task));
  }
  return tasks;
}

}  // namespace lkv::eval
