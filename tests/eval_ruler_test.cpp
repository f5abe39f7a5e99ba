// RULER-style task generators: spec parsing, determinism, sizing in tokens, and for every task that
// the answers are really in the context, where the id says, and nowhere in the question.
//
// Most tests use a word-level tokenizer defined here, so they need no model file; the sizing tests
// also run with Gemma's tokenizer when models/ has it, and the real haystack texts are used when
// scripts/fetch_haystacks.sh has put them in data/haystack/.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "eval/haystack.h"
#include "eval/ruler.h"
#include "gguf/reader.h"
#include "model_test_util.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

// One token per run of letters or digits and per other non-space character, plus BOS.
class WordTokenizer final : public Tokenizer {
 public:
  WordTokenizer() {
    bos_ = 1;
    add_bos_ = true;
  }
  std::vector<TokenId> encode(std::string_view text, bool add_special, bool /*parse_special*/) const override {
    std::vector<TokenId> ids;
    if (add_special) ids.push_back(bos_);
    size_t i = 0;
    while (i < text.size()) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (std::isspace(c)) {
        ++i;
        continue;
      }
      if (std::isalnum(c)) {
        while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
      } else {
        ++i;
      }
      ids.push_back(2);
    }
    return ids;
  }
  std::string token_to_piece(TokenId, bool) const override { return ""; }
};

const Tokenizer& word_tokenizer() {
  static const WordTokenizer tokenizer;
  return tokenizer;
}

// Gemma's tokenizer, or nullptr when the model file is absent.
const Tokenizer* gemma_tokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = []() -> std::unique_ptr<Tokenizer> {
    const std::string path = test::source_path(test::kGemmaPath);
    if (!std::filesystem::exists(path)) return nullptr;
    const auto file = gguf::File::open(path);
    return Tokenizer::from_gguf(*file);
  }();
  return tokenizer.get();
}

#define REQUIRE_GEMMA_TOKENIZER(var)        \
  const Tokenizer* var = gemma_tokenizer(); \
  if (!var) GTEST_SKIP() << test::kGemmaPath << " is absent; run scripts/fetch_models.sh"

std::vector<EvalSample> generate(const std::string& task, int length, int n, uint64_t seed,
                                 const Tokenizer& tokenizer = word_tokenizer(), const HaystackSources& sources = {}) {
  return generate_ruler(RulerSpec{task, length}, tokenizer, n, seed, sources);
}

// The lkv::Error message of `body`, or "" when it throws nothing.
template <typename F>
std::string error_of(F body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Needle sentences in a context; the preamble's "A special magic number is hidden" is not one.
size_t count_needles(const std::string& context) {
  const std::regex needle("A special magic (number|word|UUID) for ");
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(context.begin(), context.end(), needle), std::sregex_iterator()));
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// The needle depths encoded at the end of a sample id ("...-d12.40").
std::vector<int> depths_from_id(const std::string& id) {
  const size_t at = id.rfind("-d");
  if (at == std::string::npos) return {};
  std::vector<int> depths;
  std::stringstream parts(id.substr(at + 2));
  std::string part;
  while (std::getline(parts, part, '.')) depths.push_back(std::stoi(part));
  return depths;
}

// Words of `text` split at spaces.
std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::stringstream stream(text);
  std::string word;
  while (stream >> word) words.push_back(word);
  return words;
}

const std::vector<std::string> kNiahTasks = {"niah_single_1",   "niah_single_2",   "niah_single_3",
                                             "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
                                             "niah_multivalue", "niah_multiquery"};

// ---- Spec parsing ----

TEST(EvalRulerSpec, ParsesTaskAndLength) {
  const RulerSpec a = parse_ruler_spec("ruler:niah_single_1@4K");
  EXPECT_EQ(a.task, "niah_single_1");
  EXPECT_EQ(a.length, 4096);
  const RulerSpec b = parse_ruler_spec("ruler:vt@8192");
  EXPECT_EQ(b.task, "vt");
  EXPECT_EQ(b.length, 8192);
  EXPECT_EQ(parse_ruler_spec("ruler:qa@1k").length, 1024);
  EXPECT_EQ(parse_ruler_spec("ruler:cwe@128K").length, 131072);
}

TEST(EvalRulerSpec, ListsEveryTask) {
  const std::vector<std::string> expected = {"niah_single_1",
                                             "niah_single_2",
                                             "niah_single_3",
                                             "niah_multikey_1",
                                             "niah_multikey_2",
                                             "niah_multikey_3",
                                             "niah_multivalue",
                                             "niah_multiquery",
                                             "vt",
                                             "cwe",
                                             "fwe",
                                             "qa"};
  EXPECT_EQ(ruler_task_names(), expected);
}

TEST(EvalRulerSpec, RejectsMalformedSpecs) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ruler:foo", "expected ruler:TASK@LENGTH"},
      {"niah_single_1@4K", "expected ruler:TASK@LENGTH"},
      {"ruler:@4K", "task name is missing"},
      {"ruler:foo@4K", "unknown RULER task \"foo\""},
      {"ruler:niah_single_1@abc", "invalid RULER length \"abc\""},
      {"ruler:niah_single_1@", "invalid RULER length"},
      {"ruler:niah_single_1@4KK", "invalid RULER length"},
      {"ruler:niah_single_1@4.5K", "invalid RULER length"},
      {"ruler:niah_single_1@99999999999999999999999", "invalid RULER length"},
      {"ruler:niah_single_1@0", "expected a positive number of tokens"},
      {"ruler:niah_single_1@-5", "expected a positive number of tokens"},
      {"ruler:niah_single_1@200K", "exceeds the maximum of 131072 tokens"},
      {"ruler:niah_single_1@131073", "exceeds the maximum of 131072 tokens"},
  };
  for (const auto& [spec, expected] : cases) {
    const std::string message = error_of([&] { parse_ruler_spec(spec); });
    EXPECT_NE(message.find(expected), std::string::npos) << spec << " gave: " << message;
    EXPECT_NE(message.find(spec.substr(spec.find('@') + 1)), std::string::npos) << spec << " gave: " << message;
  }
}

TEST(EvalRulerSpec, UnknownTaskListsValidTasks) {
  const std::string message = error_of([] { parse_ruler_spec("ruler:niah@4K"); });
  EXPECT_NE(message.find("valid tasks: niah_single_1, niah_single_2"), std::string::npos) << message;
  EXPECT_NE(message.find("qa"), std::string::npos) << message;
}

// ---- Argument checks of generate_ruler ----

TEST(EvalRuler, RejectsTrainingSeeds) {
  const std::string message = error_of([] { generate("niah_single_1", 1024, 1, kTrainingSeedBase); });
  EXPECT_NE(message.find("reserved for training"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(kTrainingSeedBase)), std::string::npos) << message;
  EXPECT_NE(error_of([] { generate("niah_single_1", 1024, 1, kTrainingSeedBase + 12345); }), "");
  EXPECT_EQ(error_of([] { generate("niah_single_1", 1024, 1, kTrainingSeedBase - 1); }), "");
}

TEST(EvalRuler, RejectsBadSpecFields) {
  EXPECT_NE(error_of([] { generate("nope", 1024, 1, 1); }).find("unknown RULER task \"nope\""), std::string::npos);
  EXPECT_NE(error_of([] { generate("vt", 0, 1, 1); }).find("positive number of tokens"), std::string::npos);
  EXPECT_NE(error_of([] { generate("vt", 131073, 1, 1); }).find("exceeds the maximum"), std::string::npos);
  EXPECT_NE(error_of([] { generate("vt", 1024, -1, 1); }).find("number of RULER samples"), std::string::npos);
  EXPECT_TRUE(generate("vt", 1024, 0, 1).empty());
}

TEST(EvalRuler, RejectsLengthTooShortForTask) {
  for (const std::string& task : ruler_task_names()) {
    const std::string message = error_of([&] { generate(task, 30, 1, 1); });
    EXPECT_NE(message.find("too short for RULER task " + task), std::string::npos) << task << ": " << message;
  }
}

TEST(EvalRuler, MissingSourceNamesPathAndFix) {
  HaystackSources essays;
  essays.essays_dir = "/nonexistent/haystack/essays";
  const std::string essays_error = error_of([&] { generate("niah_single_2", 1024, 1, 1, word_tokenizer(), essays); });
  EXPECT_NE(essays_error.find("/nonexistent/haystack/essays"), std::string::npos) << essays_error;
  EXPECT_NE(essays_error.find("scripts/fetch_haystacks.sh"), std::string::npos) << essays_error;

  HaystackSources books;
  books.book_paths = {"/nonexistent/haystack/kjv.txt"};
  const std::string books_error = error_of([&] { generate("vt", 1024, 1, 1, word_tokenizer(), books); });
  EXPECT_NE(books_error.find("/nonexistent/haystack/kjv.txt"), std::string::npos) << books_error;
  EXPECT_NE(books_error.find("scripts/fetch_haystacks.sh"), std::string::npos) << books_error;
}

TEST(EvalRuler, EmptyEssayFolderIsAnError) {
  const auto dir = std::filesystem::temp_directory_path() / "lkv_ruler_empty_essays";
  std::filesystem::create_directories(dir);
  HaystackSources sources;
  sources.essays_dir = dir.string();
  const std::string message = error_of([&] { generate("qa", 1024, 1, 1, word_tokenizer(), sources); });
  EXPECT_NE(message.find("contains no .txt files"), std::string::npos) << message;
  std::filesystem::remove_all(dir);
}

// ---- Properties every task has ----

TEST(EvalRuler, SameSeedGivesIdenticalSamples) {
  for (const std::string& task : ruler_task_names()) {
    const auto a = generate(task, 2048, 3, 42);
    const auto b = generate(task, 2048, 3, 42);
    ASSERT_EQ(a.size(), 3u);
    ASSERT_EQ(b.size(), 3u);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id) << task;
      EXPECT_EQ(a[i].context, b[i].context) << task;
      EXPECT_EQ(a[i].input, b[i].input) << task;
      EXPECT_EQ(a[i].answer_prefix, b[i].answer_prefix) << task;
      EXPECT_EQ(a[i].answers, b[i].answers) << task;
      EXPECT_EQ(a[i].length, b[i].length) << task;
    }
    // Sample i does not depend on how many samples were requested.
    const auto first = generate(task, 2048, 1, 42);
    EXPECT_EQ(first[0].context, a[0].context) << task;
  }
}

TEST(EvalRuler, DifferentSeedsAndSamplesDiffer) {
  for (const std::string& task : ruler_task_names()) {
    const auto a = generate(task, 2048, 2, 1);
    const auto b = generate(task, 2048, 2, 2);
    EXPECT_NE(a[0].context, b[0].context) << task;
    EXPECT_NE(a[0].answers, b[0].answers) << task;
    EXPECT_NE(a[0].context, a[1].context) << task;
    EXPECT_NE(a[0].id, a[1].id) << task;
  }
}

void expect_common_fields(const std::vector<EvalSample>& samples, const std::string& task, int length,
                          const Tokenizer& tokenizer) {
  const std::map<std::string, int> max_new_tokens = {{"vt", 30}, {"cwe", 120}, {"fwe", 50}, {"qa", 32}};
  for (const EvalSample& sample : samples) {
    SCOPED_TRACE(sample.id);
    EXPECT_EQ(sample.task, task);
    EXPECT_EQ(sample.id.rfind(task + "-" + std::to_string(length) + "-s", 0), 0u);
    EXPECT_EQ(sample.metric, task == "qa" ? "string_match_part" : "string_match_all");
    EXPECT_EQ(sample.max_new_tokens, max_new_tokens.count(task) ? max_new_tokens.at(task) : 128);
    EXPECT_FALSE(sample.answer_prefix.empty());

    // The length field is the prompt's real token count, within the tolerance below the target.
    const int tokens = static_cast<int>(tokenizer.encode(ruler_prompt(sample), true, false).size());
    EXPECT_EQ(sample.length, tokens);
    EXPECT_LE(tokens, length);
    EXPECT_GE(tokens, length - length / 50) << "prompt is more than 2% short of " << length;

    // Every answer is in the context, and neither the question nor the answer prefix gives it away.
    ASSERT_FALSE(sample.answers.empty());
    for (const std::string& answer : sample.answers) {
      EXPECT_NE(sample.context.find(answer), std::string::npos) << answer;
      EXPECT_EQ(sample.input.find(answer), std::string::npos) << answer;
      EXPECT_EQ(sample.answer_prefix.find(answer), std::string::npos) << answer;
    }
    EXPECT_EQ(ruler_prompt(sample), sample.context + "\n" + sample.input + " " + sample.answer_prefix);
  }
}

TEST(EvalRuler, AllTasksFitLengthAndHoldAnswers) {
  for (const std::string& task : ruler_task_names()) {
    for (const int length : {1024, 4096}) {
      SCOPED_TRACE(task + "@" + std::to_string(length));
      const auto samples = generate(task, length, 3, 7);
      expect_common_fields(samples, task, length, word_tokenizer());
    }
  }
}

// ---- Needle in a haystack ----

// The needle sentence of `value` is in the context once, at the depth the id records.
TEST(EvalRuler, NeedlesSitAtRecordedDepths) {
  for (const std::string& task : kNiahTasks) {
    const auto samples = generate(task, 4096, 6, 3);
    std::set<int> first_depths;
    for (const EvalSample& sample : samples) {
      SCOPED_TRACE(sample.id);
      const std::vector<int> depths = depths_from_id(sample.id);
      ASSERT_EQ(depths.size(), sample.answers.size());
      first_depths.insert(depths[0]);
      const size_t haystack_begin = sample.context.find('\n') + 1;
      const double haystack_size = static_cast<double>(sample.context.size() - haystack_begin);
      for (size_t i = 0; i < sample.answers.size(); ++i) {
        const std::string tail = " is " + sample.answers[i] + ".";
        ASSERT_EQ(count_occurrences(sample.context, tail), 1u) << sample.answers[i];
        const size_t at = sample.context.find(tail);
        // The key of this needle is one of the keys the question names.
        const size_t sentence = sample.context.rfind("A special magic ", at);
        ASSERT_NE(sentence, std::string::npos);
        const size_t key_begin = sample.context.find(" for ", sentence) + 5;
        const std::string key = sample.context.substr(key_begin, at - key_begin);
        EXPECT_NE(sample.input.find(key), std::string::npos) << key;
        EXPECT_NE(sample.answer_prefix.find(key), std::string::npos) << key;
        const double relative = static_cast<double>(sentence - haystack_begin) / haystack_size;
        EXPECT_NEAR(relative, depths[i] / 100.0, 0.05) << "needle " << i;
      }
    }
    // The first needle's depth differs between samples.
    EXPECT_GE(first_depths.size(), 5u) << task;
  }
}

TEST(EvalRuler, NiahNeedleCountsFollowRuler) {
  const std::map<std::string, std::pair<size_t, size_t>> needles_and_answers = {
      {"niah_single_1", {1, 1}},   {"niah_single_2", {1, 1}},   {"niah_single_3", {1, 1}},
      {"niah_multikey_1", {4, 1}}, {"niah_multivalue", {4, 4}}, {"niah_multiquery", {4, 4}}};
  for (const auto& [task, counts] : needles_and_answers) {
    const EvalSample sample = generate(task, 2048, 1, 9)[0];
    EXPECT_EQ(count_needles(sample.context), counts.first) << task;
    EXPECT_EQ(sample.answers.size(), counts.second) << task;
  }
  // The multikey_2 and _3 haystacks are made of distractor needles.
  for (const std::string task : {"niah_multikey_2", "niah_multikey_3"}) {
    const EvalSample sample = generate(task, 2048, 1, 9)[0];
    EXPECT_GT(count_needles(sample.context), 20u) << task;
    EXPECT_EQ(sample.answers.size(), 1u) << task;
  }
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(generate("niah_single_3", 1024, 1, 9)[0].answers[0], uuid));
  EXPECT_TRUE(std::regex_match(generate("niah_single_1", 1024, 1, 9)[0].answers[0], std::regex("[1-9][0-9]{6}")));
}

// ---- Variable tracking ----

TEST(EvalRuler, VariableChainsResolveToAnswers) {
  const std::regex assignment(R"(VAR ([A-Z]+) = (VAR ([A-Z]+)|([0-9]+))\.)");
  for (const EvalSample& sample : generate("vt", 4096, 4, 11)) {
    SCOPED_TRACE(sample.id);
    std::map<std::string, std::string> source;  // variable -> variable or value it copies
    for (auto it = std::sregex_iterator(sample.context.begin(), sample.context.end(), assignment);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      EXPECT_EQ(source.count(name), 0u) << name << " is assigned twice";
      source[name] = (*it)[3].matched ? std::string((*it)[3]) : std::string((*it)[4]);
    }
    EXPECT_EQ(source.size(), 10u);  // five in the solved example, five in the task

    std::smatch value;
    ASSERT_TRUE(std::regex_search(sample.input, value, std::regex("value ([0-9]+)")));
    std::vector<std::string> holding;
    for (const auto& [name, from] : source) {
      std::string current = from;
      while (source.count(current)) current = source.at(current);
      if (current == value[1]) holding.push_back(name);
    }
    std::vector<std::string> answers = sample.answers;
    std::sort(answers.begin(), answers.end());
    EXPECT_EQ(holding, answers);
    EXPECT_EQ(answers.size(), 5u);
  }
}

// ---- Common- and frequent-word extraction ----

TEST(EvalRuler, CommonWordsAreTheTenMostFrequent) {
  for (const int length : {1024, 4096, 8192}) {
    for (const EvalSample& sample : generate("cwe", length, 2, 5)) {
      SCOPED_TRACE(sample.id);
      // The task's list follows the last "Below is a numbered list" line; the solved example precedes it.
      const size_t list_begin = sample.context.find('\n', sample.context.rfind("Below is a numbered list")) + 1;
      const std::vector<std::string> tokens = split_words(sample.context.substr(list_begin));
      ASSERT_EQ(tokens.size() % 2, 0u);
      std::map<std::string, int> counts;
      for (size_t i = 0; i < tokens.size(); i += 2) {
        EXPECT_EQ(tokens[i], std::to_string(i / 2 + 1) + ".");
        ++counts[tokens[i + 1]];
      }
      int smallest_common = INT32_MAX, largest_other = 0;
      for (const auto& [word, count] : counts) {
        const bool common = std::find(sample.answers.begin(), sample.answers.end(), word) != sample.answers.end();
        if (common) smallest_common = std::min(smallest_common, count);
        if (!common) largest_other = std::max(largest_other, count);
      }
      EXPECT_EQ(sample.answers.size(), 10u);
      for (const std::string& answer : sample.answers) EXPECT_EQ(counts[answer], smallest_common) << answer;
      EXPECT_GT(smallest_common, largest_other);
      EXPECT_GT(counts.size(), 10u);
      EXPECT_EQ(smallest_common, length < 4096 ? 6 : 30);
    }
  }
}

TEST(EvalRuler, CommonWordsScaleCountsPastTheWordList) {
  // 64K tokens need more distinct words than the built-in lists hold: counts grow, ratio kept.
  const EvalSample sample = generate("cwe", 65536, 1, 5)[0];
  const size_t list_begin = sample.context.find('\n', sample.context.rfind("Below is a numbered list")) + 1;
  const std::vector<std::string> tokens = split_words(sample.context.substr(list_begin));
  std::map<std::string, int> counts;
  for (size_t i = 1; i < tokens.size(); i += 2) ++counts[tokens[i]];
  std::set<int> other_counts;
  for (const auto& [word, count] : counts) {
    if (std::find(sample.answers.begin(), sample.answers.end(), word) == sample.answers.end()) {
      other_counts.insert(count);
    }
  }
  ASSERT_EQ(other_counts.size(), 1u);
  EXPECT_EQ(counts[sample.answers[0]], 10 * *other_counts.begin());
  EXPECT_GT(*other_counts.begin(), 3);
}

TEST(EvalRuler, FrequentWordsAreTheTopThree) {
  for (const int length : {1024, 8192}) {
    for (const EvalSample& sample : generate("fwe", length, 2, 5)) {
      SCOPED_TRACE(sample.id);
      const size_t text_begin = sample.context.find("most often. ") + 12;
      std::map<std::string, int> counts;
      for (const std::string& word : split_words(sample.context.substr(text_begin))) ++counts[word];
      EXPECT_GT(counts["..."], counts[sample.answers[0]]);
      counts.erase("...");
      std::vector<std::pair<int, std::string>> ranked;
      for (const auto& [word, count] : counts) ranked.push_back({count, word});
      std::sort(ranked.rbegin(), ranked.rend());
      ASSERT_GE(ranked.size(), 4u);
      std::set<std::string> top3 = {ranked[0].second, ranked[1].second, ranked[2].second};
      EXPECT_EQ(top3, std::set<std::string>(sample.answers.begin(), sample.answers.end()));
      EXPECT_GT(ranked[2].first, ranked[3].first);
      for (const std::string& word : sample.answers) EXPECT_EQ(word.size(), 6u);
    }
  }
}

// ---- Question answering ----

TEST(EvalRuler, QaFactIsInTheGoldPassageOnly) {
  for (const EvalSample& sample : generate("qa", 4096, 6, 13)) {
    SCOPED_TRACE(sample.id);
    std::smatch question;
    ASSERT_TRUE(std::regex_match(sample.input, question, std::regex("Question: What is the (.+) of (.+)\\?")));
    const std::string fact =
        "The " + std::string(question[1]) + " of " + std::string(question[2]) + " is " + sample.answers.at(0) + ".";
    ASSERT_EQ(count_occurrences(sample.context, fact), 1u) << fact;
    EXPECT_EQ(count_occurrences(sample.context, std::string(question[2])), 1u);
    // Distractor facts give the same attribute of other people.
    EXPECT_EQ(count_occurrences(sample.context, "The " + std::string(question[1]) + " of "), 4u);
    EXPECT_EQ(sample.answer_prefix, "Answer:");

    const std::vector<int> depths = depths_from_id(sample.id);
    ASSERT_EQ(depths.size(), 1u);
    const size_t passages_begin = sample.context.find("Passage 1:");
    const size_t passages_end = sample.context.rfind("\n\n");
    const double relative = static_cast<double>(sample.context.find(fact) - passages_begin) /
                            static_cast<double>(passages_end - passages_begin);
    EXPECT_NEAR(relative, depths[0] / 100.0, 0.08);
  }
}

// ---- Haystack texts ----

TEST(EvalRuler, BuiltinProseEndsSentences) {
  const Haystack prose = Haystack::builtin();
  ASSERT_GT(prose.size(), 1000u);
  EXPECT_TRUE(prose.ends_sentence(prose.size() - 1));
  const uint64_t start = prose.next_sentence_start(5, 100);
  EXPECT_TRUE(prose.ends_sentence(start - 1));
  EXPECT_EQ(prose.text(prose.size() - 1, 2),
            std::string(prose.word(prose.size() - 1)) + " " + std::string(prose.word(0)));
}

TEST(EvalRuler, RealHaystackTexts) {
  const std::string dir = test::source_path("data/haystack");
  if (!std::filesystem::exists(dir + "/kjv.txt"))
    GTEST_SKIP() << "data/haystack is absent; run scripts/fetch_haystacks.sh";
  const HaystackSources sources = haystack_sources_in(dir);
  const Haystack prose = Haystack::load(sources);
  EXPECT_GT(prose.size(), 500'000u);  // essays, Opticks and the Bible together
  for (const std::string task : {"niah_single_2", "qa"}) {
    const auto samples = generate(task, 4096, 2, 17, word_tokenizer(), sources);
    expect_common_fields(samples, task, 4096, word_tokenizer());
  }
}

// ---- With Gemma's tokenizer ----

TEST(EvalRuler, GemmaTokenizerFitsEveryTask) {
  REQUIRE_GEMMA_TOKENIZER(tokenizer);
  for (const std::string& task : ruler_task_names()) {
    SCOPED_TRACE(task);
    expect_common_fields(generate(task, 4096, 2, 21, *tokenizer), task, 4096, *tokenizer);
  }
}

TEST(EvalRuler, GemmaTokenizerSizesLongPrompts) {
  REQUIRE_GEMMA_TOKENIZER(tokenizer);
  for (const std::string task : {"niah_single_2", "niah_multikey_3", "cwe", "fwe", "qa"}) {
    SCOPED_TRACE(task);
    const auto begin = std::chrono::steady_clock::now();
    const auto samples = generate(task, 16384, 2, 23, *tokenizer);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    expect_common_fields(samples, task, 16384, *tokenizer);
    std::printf("[ ruler    ] %s@16384: 2 samples in %.2f s\n", task.c_str(), seconds);
  }
}

}  // namespace
}  // namespace lkv::eval
