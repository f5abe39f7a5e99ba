// LongBench-format loading (errors with line numbers and fields, skipping bad lines), MT-Bench
// questions, task templates, and middle truncation of prompts in tokens.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "eval/dataset.h"
#include "eval/metrics.h"
#include "eval/mtbench.h"
#include "eval/prompt.h"
#include "eval/tasks.h"
#include "synthetic_model.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

const char* kGood = R"({"context": "Some text.", "input": "What?", "answers": ["x"]})";

// One token per byte (id = byte + 3) after BOS = 1, so token counts are character counts.
class ByteTokenizer final : public Tokenizer {
 public:
  ByteTokenizer() {
    bos_ = 1;
    add_bos_ = true;
  }
  std::vector<TokenId> encode(std::string_view text, bool add_special, bool) const override {
    std::vector<TokenId> ids;
    if (add_special) ids.push_back(bos_);
    for (char c : text) ids.push_back(static_cast<TokenId>(static_cast<unsigned char>(c)) + 3);
    return ids;
  }
  std::string token_to_piece(TokenId id, bool) const override {
    return id >= 3 ? std::string(1, static_cast<char>(id - 3)) : std::string();
  }
};

TEST(EvalDataset, LoadsFieldsAndDefaults) {
  // The default task is the file name, so this file needs its exact name.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lkv_eval_dataset_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "hotpotqa.jsonl").string();
  write_file(path,
             std::string(kGood) + "\n\n" +
                 R"({"_id": "abc", "dataset": "trec", "context": "c", "input": "q", "answers": ["LOC"], "length": 12, "all_classes": ["LOC", "NUM"]})"
                 "\n");
  const DatasetLoad load = load_longbench_jsonl(path, BadLineAction::Stop);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(load.samples.size(), 2u);
  EXPECT_EQ(load.n_lines, 2);
  EXPECT_EQ(load.n_skipped, 0);
  const EvalSample& first = load.samples[0];
  EXPECT_EQ(first.task, "hotpotqa");  // from the file name
  EXPECT_EQ(first.id, "hotpotqa-1");
  EXPECT_EQ(first.metric, "qa_f1");
  EXPECT_EQ(first.max_new_tokens, 32);
  const EvalSample& second = load.samples[1];
  EXPECT_EQ(second.id, "abc");
  EXPECT_EQ(second.task, "trec");
  EXPECT_EQ(second.metric, "classification");
  EXPECT_EQ(second.all_classes, (std::vector<std::string>{"LOC", "NUM"}));
}

TEST(EvalDataset, MalformedJsonNamesTheLine) {
  test::TempFile file("bad_json.jsonl");
  write_file(file.path(), std::string(kGood) + "\n" + kGood + "\n{\"context\": \"unterminated\n" + kGood + "\n");
  const std::string e = error_of([&] { load_longbench_jsonl(file.path(), BadLineAction::Stop); });
  EXPECT_NE(e.find(file.path() + ":3:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("--on-bad-line skip"), std::string::npos) << e;
}

TEST(EvalDataset, FieldErrorsNameTheField) {
  struct Case {
    const char* line;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"context": "c", "input": "q"})", "missing field \"answers\""},
      {R"({"input": "q", "answers": ["a"]})", "missing field \"context\""},
      {R"({"context": "c", "answers": ["a"]})", "missing field \"input\""},
      {R"({"context": "c", "input": "q", "answers": []})", "field \"answers\" is empty"},
      {R"({"context": "c", "input": "q", "answers": ["  "]})", "field \"answers\" item 0 is empty"},
      {R"({"context": "c", "input": "q", "answers": "a"})", "field \"answers\" must be an array"},
      {R"({"context": "c", "input": "q", "answers": ["a", 3]})", "field \"answers\" item 1 must be a string"},
      {R"({"context": 5, "input": "q", "answers": ["a"]})", "field \"context\" must be a string"},
      {R"({"context": "c", "input": "q", "answers": ["a"], "length": "long"})", "field \"length\""},
      {R"({"context": "c", "input": "q", "answers": ["a"], "task": "trec"})", "all_classes"},
      {R"({"context": "c", "input": "q", "answers": ["a"], "task": "passage_retrieval_en"})", "contains no number"},
      {R"(["a list"])", "expected a JSON object"},
  };
  for (const Case& c : cases) {
    test::TempFile file("field_errors.jsonl");
    write_file(file.path(), std::string(kGood) + "\n" + c.line + "\n");
    const std::string e = error_of([&] { load_longbench_jsonl(file.path(), BadLineAction::Stop); });
    EXPECT_NE(e.find(file.path() + ":2:"), std::string::npos) << c.line << " -> " << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.line << " -> " << e;
  }
}

TEST(EvalDataset, SkipModeCountsBadLines) {
  test::TempFile file("skip.jsonl");
  write_file(file.path(), std::string(kGood) + "\nnot json\n" + R"({"context": "c", "input": "q", "answers": []})" +
                              "\n" + R"({"_id": "last", "context": "c", "input": "q", "answers": ["z"]})" + "\n");
  const DatasetLoad load = load_longbench_jsonl(file.path(), BadLineAction::Skip);
  EXPECT_EQ(load.n_lines, 4);
  EXPECT_EQ(load.n_skipped, 2);
  ASSERT_EQ(load.samples.size(), 2u);
  EXPECT_EQ(load.samples[1].id, "last");
}

TEST(EvalDataset, FileLevelErrors) {
  EXPECT_NE(error_of([] { load_longbench_jsonl("/nonexistent/data.jsonl", BadLineAction::Stop); }).find("not found"),
            std::string::npos);
  test::TempFile empty("empty.jsonl");
  write_file(empty.path(), "\n\n");
  EXPECT_NE(error_of([&] { load_longbench_jsonl(empty.path(), BadLineAction::Stop); }).find("no valid samples"),
            std::string::npos);
  test::TempFile dup("dup.jsonl");
  write_file(dup.path(), R"({"_id": "a", "context": "c", "input": "q", "answers": ["x"]})"
                         "\n"
                         R"({"_id": "a", "context": "c", "input": "q", "answers": ["x"]})"
                         "\n");
  const std::string e = error_of([&] { load_longbench_jsonl(dup.path(), BadLineAction::Stop); });
  EXPECT_NE(e.find(":2: duplicate _id \"a\""), std::string::npos) << e;
  EXPECT_EQ(parse_bad_line_action("skip"), BadLineAction::Skip);
  EXPECT_NE(error_of([] { parse_bad_line_action("maybe"); }).find("use stop or skip"), std::string::npos);
}

TEST(EvalDataset, MtBenchQuestions) {
  test::TempFile file("question.jsonl");
  write_file(file.path(), R"({"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Shorter."]})"
                          "\n"
                          R"({"question_id": 82, "category": "math", "turns": []})"
                          "\n");
  const std::string e = error_of([&] { load_mtbench(file.path(), BadLineAction::Stop); });
  EXPECT_NE(e.find(":2: field \"turns\""), std::string::npos) << e;
  const std::vector<EvalSample> samples = load_mtbench(file.path(), BadLineAction::Skip);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].id, "mt_bench-81-writing");
  EXPECT_EQ(samples[0].turns.size(), 2u);
  EXPECT_NE(error_of([] { load_mtbench("/nonexistent/question.jsonl", BadLineAction::Stop); }).find("fetch_mtbench.sh"),
            std::string::npos);
}

TEST(EvalTasks, TemplatesCoverLongBenchTasks) {
  EXPECT_EQ(longbench_task_names().size(), 16u);
  for (const std::string& name : longbench_task_names()) {
    const TaskSpec& spec = longbench_task(name);
    EXPECT_EQ(spec.name, name);
    EXPECT_NE(spec.context_template.find("{context}"), std::string::npos) << name;
    EXPECT_GT(spec.max_new_tokens, 0) << name;
    EXPECT_NO_THROW(check_metric_name(spec.metric)) << name;
  }
  EXPECT_EQ(longbench_task("unknown_task").name, "generic");
  EXPECT_EQ(longbench_task("gov_report").max_new_tokens, 512);
  EXPECT_EQ(longbench_task("lcc").metric, "code_sim");
}

TEST(EvalTasks, FillPromptKeepsQuestionAfterContext) {
  EvalSample s;
  s.task = "hotpotqa";
  s.context = "CONTEXT-TEXT";
  s.input = "QUESTION-TEXT";
  const PromptText text = fill_prompt(task_spec_for(s), s, s.context);
  EXPECT_NE(text.context.find("CONTEXT-TEXT"), std::string::npos);
  EXPECT_EQ(text.context.find("QUESTION-TEXT"), std::string::npos);
  EXPECT_NE(text.question.find("QUESTION-TEXT"), std::string::npos);
  EXPECT_EQ(text.answer_prefix, "Answer:");

  // A few-shot input that already ends with the answer prefix does not get it twice.
  s.task = "triviaqa";
  s.input = "Passage: p\nQuestion: q\nAnswer:";
  const PromptText few_shot = fill_prompt(task_spec_for(s), s, s.context);
  EXPECT_EQ(few_shot.answer_prefix, "");
  EXPECT_EQ(few_shot.question, s.input);
  EXPECT_EQ(scored_text(task_spec_for(s), "\n Paris\nQuestion: next"), " Paris");
}

TEST(EvalTasks, RulerSamplesUseRulerPrompt) {
  EvalSample s;
  s.task = "niah_single_1";
  s.context = "haystack";
  s.input = "What is it?";
  s.answer_prefix = "It is";
  s.max_new_tokens = 128;
  s.metric = "string_match_all";
  const TaskSpec spec = task_spec_for(s);
  const PromptText text = fill_prompt(spec, s, s.context);
  EXPECT_EQ(text.context + text.question + text.answer_prefix, "haystack\nWhat is it? It is");
  EXPECT_EQ(spec.metric, "string_match_all");
  EXPECT_TRUE(spec.single_line);
}

TEST(EvalPrompt, KeepHeadAndTail) {
  const std::vector<TokenId> ids = {1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(keep_head_and_tail(ids, 4), (std::vector<TokenId>{1, 2, 6, 7}));
  EXPECT_EQ(keep_head_and_tail(ids, 3), (std::vector<TokenId>{1, 2, 7}));
  EXPECT_EQ(keep_head_and_tail(ids, 10), ids);
}

TEST(EvalPrompt, MiddleTruncationFitsTheLimit) {
  const ByteTokenizer tokenizer;
  EvalSample s;
  s.task = "hotpotqa";
  s.id = "t1";
  s.input = "Who?";
  s.context = "HEAD-" + std::string(500, 'm') + "-TAIL";
  const TaskSpec spec = task_spec_for(s);
  PromptOptions options;
  const PromptTokens whole = build_prompt(s, spec, tokenizer, options);
  EXPECT_EQ(whole.truncated_tokens, 0);

  options.max_tokens = static_cast<int>(whole.size()) - 200;
  const PromptTokens cut = build_prompt(s, spec, tokenizer, options);
  EXPECT_LE(cut.size(), static_cast<size_t>(options.max_tokens));
  EXPECT_EQ(cut.truncated_tokens, 200);
  const std::string context = tokenizer.decode(cut.context);
  EXPECT_NE(context.find("HEAD-"), std::string::npos);
  EXPECT_NE(context.find("-TAIL"), std::string::npos);
  EXPECT_EQ(tokenizer.decode(cut.question), tokenizer.decode(whole.question));  // the question stays whole

  options.truncate = false;
  EXPECT_NE(error_of([&] { build_prompt(s, spec, tokenizer, options); }).find("above the limit"), std::string::npos);
  options.truncate = true;
  options.max_tokens = 20;  // less than the template alone
  EXPECT_NE(error_of([&] { build_prompt(s, spec, tokenizer, options); }).find("template and question alone"),
            std::string::npos);
}

TEST(EvalPrompt, TruncationDropsSplitCharacters) {
  const ByteTokenizer tokenizer;
  EvalSample s;
  s.task = "generic";
  s.id = "utf8";
  s.input = "?";
  std::string context;
  for (int i = 0; i < 100; ++i) context += "\xC3\xA9";  // "é", two bytes (two tokens) each
  s.context = context;
  PromptOptions options;
  const TaskSpec spec = task_spec_for(s);
  options.max_tokens = static_cast<int>(build_prompt(s, spec, tokenizer, options).size()) - 51;
  const PromptTokens cut = build_prompt(s, spec, tokenizer, options);
  const std::string text = tokenizer.decode(cut.context);
  // Every "é" left is whole: the byte count between the template parts is even.
  size_t pairs = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '\xC3' && text[i + 1] == '\xA9') ++pairs;
  }
  size_t high = 0;
  for (char c : text) high += (static_cast<unsigned char>(c) >= 0x80) ? 1 : 0;
  EXPECT_EQ(high, 2 * pairs);
  EXPECT_LE(cut.size(), static_cast<size_t>(options.max_tokens));
}

}  // namespace
}  // namespace lkv::eval
