// The eval sweep on a tiny synthetic Gemma 3 model (sliding-window and global layers): results
// folders per configuration, fidelity to the full cache, resuming an interrupted run, refusing a
// folder of another configuration, split-question mode, MT-Bench turns, and report rendering on a
// hand-written results folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "eval/report.h"
#include "eval/results.h"
#include "eval/runner.h"
#include "lookahead_test_util.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Predictions without their timings, which differ from run to run.
std::vector<json> read_predictions(const fs::path& path);

std::vector<json> read_lines(const fs::path& path) {
  std::vector<json> out;
  std::istringstream lines(read_text(path));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::vector<json> read_predictions(const fs::path& path) {
  std::vector<json> out = read_lines(path);
  for (json& p : out) p.erase("timings_ms");
  return out;
}

// A scratch folder under the test temp directory, removed on destruction.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& name) {
    path = fs::temp_directory_path() / ("lkv_eval_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

// Words of the synthetic vocabulary ("p3" … "p95"), so the prompt is one token per word.
std::string words(int first, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += fmt::format("{}p{}", i ? " " : "", 3 + (first + i) % 90);
  return text;
}

class EvalRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A context of 1024 fits the prompts without truncation: the templates' English text becomes
    // many tokens in the synthetic vocabulary.
    tiny_ = test::tiny_model("gemma3", GgmlType::F32, "eval_runner", [](test::SyntheticModel& m) { m.spec().n_ctx = 1024; });
    tokenizer_ = Tokenizer::from_gguf(*tiny_.model->file);
    LookaheadConfig config;
    config.n_lookahead = 4;
    config.rank = 2;
    adapter_ = std::make_shared<const LookaheadAdapter>(LookaheadAdapter::create(*tiny_.model, config, 5));
    data_ = scratch_.path / "synthqa.jsonl";
    std::string lines;
    for (int i = 0; i < 3; ++i) {
      lines += json{{"_id", fmt::format("s{}", i)},
                    {"context", words(i * 7, 90)},
                    {"input", words(i, 3)},
                    {"answers", {words(i * 7 + 5, 1)}}}
                   .dump() +
               "\n";
    }
    write_text(data_, lines);
  }

  EvalOptions options(int samples) const {
    EvalOptions o;
    o.model_path = tiny_.file->path();
    o.data = {data_.string()};
    o.policies = {"streamingllm", "h2o", "snapkv", "pyramidkv", "laq", "lookaheadkv"};
    o.budgets = {40, 1000};
    o.out_dir = (scratch_.path / "out").string();
    o.samples = samples;
    o.threads = 1;
    o.max_new_tokens = 4;
    o.adapter_path = "fresh.gguf";
    return o;
  }

  fs::path set_dir() const {
    return scratch_.path / "out" / fs::path(tiny_.file->path()).stem() / fmt::format("synthqa@{}", tiny_.model->hparams.n_ctx_train);
  }

  ScratchDir scratch_{"runner"};
  test::TinyModel tiny_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<const LookaheadAdapter> adapter_;
  fs::path data_;
};

TEST_F(EvalRunnerTest, SweepWritesEveryConfiguration) {
  const EvalSummary summary = run_eval(options(2), *tiny_.model, *tokenizer_, adapter_);
  EXPECT_EQ(summary.config_dirs.size(), 1u + 6u * 2u);
  EXPECT_EQ(summary.predictions_written, 2 * 13);
  EXPECT_EQ(summary.samples_prefilled, 2);
  for (const std::string& dir : summary.config_dirs) {
    ASSERT_TRUE(fs::exists(fs::path(dir) / "config.json")) << dir;
    const std::vector<json> predictions = read_lines(fs::path(dir) / "predictions.jsonl");
    ASSERT_EQ(predictions.size(), 2u) << dir;
    const json metrics = read_json_file((fs::path(dir) / "metrics.json").string());
    EXPECT_TRUE(metrics["complete"].get<bool>()) << dir;
    EXPECT_EQ(metrics["n"], 2) << dir;
    for (const json& p : predictions) {
      EXPECT_TRUE(p.contains("prediction") && p.contains("score") && p.contains("timings_ms")) << p.dump();
      EXPECT_EQ(p["evicted_prompt_tokens"], p["prompt_tokens"]);  // question in the prompt by default
    }
  }
  const fs::path set = set_dir();
  // The full cache agrees with itself; a budget above the prompt evicts nothing and reuses its answer.
  EXPECT_DOUBLE_EQ(read_json_file((set / "full" / "metrics.json").string())["fidelity"]["rouge_l"].get<double>(), 100.0);
  for (const json& p : read_lines(set / "snapkv-b1000" / "predictions.jsonl")) {
    EXPECT_FALSE(p["eviction_applied"].get<bool>());
    EXPECT_TRUE(p["fidelity"]["exact"].get<bool>());
  }
  for (const json& p : read_lines(set / "snapkv-b40" / "predictions.jsonl")) {
    EXPECT_TRUE(p["eviction_applied"].get<bool>());
    EXPECT_LT(p["kv_bytes_after_eviction"].get<size_t>(),
              read_lines(set / "full" / "predictions.jsonl")[0]["kv_bytes_after_eviction"].get<size_t>());
  }
  const json config = read_json_file((set / "lookaheadkv-b40" / "config.json").string());
  EXPECT_EQ(config["policy"]["name"], "lookaheadkv");
  EXPECT_EQ(config["question"], "in_prompt");
  EXPECT_TRUE(config["adapter"].contains("parameters_fnv1a64"));
  EXPECT_EQ(config["run"]["samples"], 2);
}

TEST_F(EvalRunnerTest, ResumeSkipsFinishedSamples) {
  EvalOptions o = options(2);
  o.policies = {"snapkv", "h2o"};
  run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  const fs::path snap = set_dir() / "snapkv-b40" / "predictions.jsonl";
  const std::string before = read_text(snap);
  const std::vector<json> before_predictions = read_predictions(snap);

  // Same command: nothing to do.
  EvalSummary again = run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  EXPECT_EQ(again.predictions_written, 0);
  EXPECT_EQ(again.samples_prefilled, 0);
  EXPECT_EQ(again.predictions_reused, 2 * 5);
  EXPECT_EQ(read_text(snap), before);

  // A run killed while writing: the last line of one configuration is cut off.
  const std::string cut = before.substr(0, before.find('\n') + 1) + before.substr(before.find('\n') + 1, 20);
  write_text(snap, cut);
  EvalSummary repaired = run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  EXPECT_EQ(repaired.predictions_written, 1);
  EXPECT_EQ(repaired.samples_prefilled, 1);
  EXPECT_EQ(read_predictions(snap), before_predictions);  // greedy decoding gives the same line again

  // More samples: only the new one runs, in every configuration.
  EvalOptions three = o;
  three.samples = 3;
  EvalSummary more = run_eval(three, *tiny_.model, *tokenizer_, adapter_);
  EXPECT_EQ(more.predictions_written, 5);
  EXPECT_EQ(more.predictions_reused, 2 * 5);
  EXPECT_EQ(read_json_file((set_dir() / "h2o-b40" / "metrics.json").string())["n"], 3);
}

TEST_F(EvalRunnerTest, OtherConfigurationIsNotOverwritten) {
  EvalOptions o = options(1);
  o.policies = {"snapkv"};
  o.budgets = {40};
  run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  const fs::path full = set_dir() / "full" / "predictions.jsonl";
  const std::string before = read_text(full);
  const std::string config_before = read_text(set_dir() / "full" / "config.json");

  o.split_question = true;
  const std::string e = error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, adapter_); });
  EXPECT_NE(e.find((set_dir() / "full").string()), std::string::npos) << e;
  EXPECT_NE(e.find("different configuration"), std::string::npos) << e;
  EXPECT_NE(e.find("question"), std::string::npos) << e;
  EXPECT_EQ(read_text(full), before);
  EXPECT_EQ(read_text(set_dir() / "full" / "config.json"), config_before);

  // A non-empty folder without config.json is not taken over either.
  o.split_question = false;
  o.budgets = {48};
  write_text(set_dir() / "snapkv-b48" / "notes.txt", "mine");
  const std::string foreign = error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, adapter_); });
  EXPECT_NE(foreign.find("without config.json"), std::string::npos) << foreign;
  EXPECT_EQ(read_text(set_dir() / "snapkv-b48" / "notes.txt"), "mine");
}

TEST_F(EvalRunnerTest, SplitQuestionPrefillsQuestionAfterEviction) {
  EvalOptions o = options(1);
  o.policies = {"snapkv"};
  o.budgets = {40};
  o.split_question = true;
  run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  const json p = read_lines(set_dir() / "snapkv-b40" / "predictions.jsonl").at(0);
  EXPECT_LT(p["evicted_prompt_tokens"].get<int>(), p["prompt_tokens"].get<int>());
  EXPECT_GT(p["timings_ms"]["question_prefill"].get<double>(), 0.0);
  EXPECT_EQ(read_json_file((set_dir() / "snapkv-b40" / "config.json").string())["question"], "after_eviction");
}

TEST_F(EvalRunnerTest, PolicyVariantsGetOwnFolders) {
  EvalOptions o = options(1);
  o.policies = {"snapkv", "snapkv:window=8:kernel=3"};
  o.budgets = {40};
  const EvalSummary summary = run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  EXPECT_EQ(summary.config_dirs.size(), 3u);
  const fs::path variant = set_dir() / "snapkv_window=8_kernel=3-b40";
  ASSERT_TRUE(fs::exists(variant / "metrics.json"));
  const json config = read_json_file((variant / "config.json").string());
  EXPECT_EQ(config["policy"]["window"], 8);
  EXPECT_EQ(config["policy"]["kernel"], 3);
  EXPECT_EQ(config["policy_spec"], "snapkv:window=8:kernel=3");
  EXPECT_EQ(read_json_file((variant / "metrics.json").string())["policy"], "snapkv:window=8:kernel=3");
  EXPECT_EQ(read_json_file((set_dir() / "snapkv-b40" / "config.json").string())["policy"]["window"], 32);

  o.policies = {"snapkv:size=3"};
  EXPECT_NE(error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, adapter_); }).find("unknown option 'size'"),
            std::string::npos);
}

TEST_F(EvalRunnerTest, MtBenchTurnsContinueTheirOwnConversation) {
  const fs::path questions = scratch_.path / "question.jsonl";
  write_text(questions, json{{"question_id", 1}, {"category", "writing"}, {"turns", {words(0, 30), words(5, 5)}}}.dump() +
                            "\n");
  EvalOptions o = options(0);
  o.data = {"mtbench:" + questions.string()};
  o.policies = {"snapkv", "streamingllm"};
  o.budgets = {40};
  run_eval(o, *tiny_.model, *tokenizer_, adapter_);
  const fs::path set = scratch_.path / "out" / fs::path(tiny_.file->path()).stem() / "mt_bench";
  const json full = read_lines(set / "full" / "predictions.jsonl").at(0);
  ASSERT_EQ(full["turns"].size(), 2u);
  EXPECT_DOUBLE_EQ(full["score"].get<double>(), 1.0);
  const json snap = read_lines(set / "snapkv-b40" / "predictions.jsonl").at(0);
  ASSERT_EQ(snap["turns"].size(), 2u);
  EXPECT_LE(snap["turns"][1]["generated_tokens"].size(), 4u);
  EXPECT_TRUE(read_json_file((set / "snapkv-b40" / "config.json").string())["chat"].get<bool>());
}

TEST_F(EvalRunnerTest, InputErrorsBeforeAnyWork) {
  EvalOptions o = options(1);
  o.data = {"ruler:niah_single_1@4K"};
  o.haystack_dir = "builtin";
  const std::string too_long = error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, adapter_); });
  EXPECT_NE(too_long.find(fmt::format("context is {} tokens", tiny_.model->hparams.n_ctx_train)), std::string::npos)
      << too_long;

  o = options(1);
  o.budgets = {16};  // snapkv's 32-token window fills it
  const std::string budget = error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, adapter_); });
  EXPECT_NE(budget.find("policy snapkv at budget 16"), std::string::npos) << budget;

  o = options(1);
  const std::string no_adapter = error_of([&] { run_eval(o, *tiny_.model, *tokenizer_, nullptr); });
  EXPECT_NE(no_adapter.find("--adapter"), std::string::npos) << no_adapter;
  EXPECT_FALSE(fs::exists(scratch_.path / "out"));
}

// metrics.json as run_eval writes it, for the report tests.
void write_metrics(const fs::path& root, const std::string& task, const std::string& policy, int budget, double score,
                   double rouge, bool complete = true) {
  json m = {{"model", "tiny"}, {"task", task}, {"policy", policy}, {"score", score},
            {"fidelity", {{"rouge_l", rouge}, {"exact_match", rouge / 2}, {"common_prefix_tokens", 3}}},
            {"n", complete ? 4 : 2}, {"requested", 4}, {"complete", complete}};
  if (policy != "full") m["budget"] = budget;
  const fs::path dir = root / "tiny" / task / config_folder_name(policy, budget);
  fs::create_directories(dir);
  write_json_file((dir / "metrics.json").string(), m);
}

TEST(EvalReport, RendersTablesAndPlot) {
  ScratchDir scratch("report");
  write_metrics(scratch.path, "a@1024", "full", 0, 90, 100);
  write_metrics(scratch.path, "b@1024", "full", 0, 70, 100);
  write_metrics(scratch.path, "a@1024", "snapkv", 64, 50, 40);
  write_metrics(scratch.path, "b@1024", "snapkv", 64, 70, 60);
  write_metrics(scratch.path, "a@1024", "snapkv", 128, 80, 80);
  write_metrics(scratch.path, "b@1024", "snapkv", 128, 60, 70, false);
  write_metrics(scratch.path, "a@1024", "h2o", 64, 10, 20);
  write_metrics(scratch.path, "c@2048", "full", 0, 40, 100);
  write_metrics(scratch.path, "c@2048", "snapkv", 64, 20, 30);

  const std::vector<ResultRow> rows = collect_results(scratch.path.string());
  ASSERT_EQ(rows.size(), 9u);
  const std::string md = render_markdown(rows, {"report-tiny.svg"});
  EXPECT_NE(md.find("## tiny"), std::string::npos) << md;
  EXPECT_NE(md.find("![score against budget, tiny](report-tiny.svg)"), std::string::npos) << md;
  EXPECT_NE(md.find("| policy | budget | a@1024 | b@1024 | average |"), std::string::npos) << md;
  EXPECT_NE(md.find("| full | – | 90.0 | 70.0 | 80.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| h2o | 64 | 10.0 | – | 10.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| snapkv | 64 | 50.0 | 70.0 | 60.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| snapkv | 128 | 80.0 | 60.0* | 70.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| snapkv | 64 | 40 / 20 | 60 / 30 | 50.0 |"), std::string::npos) << md;
  // Each prompt length gets its own tables and averages.
  EXPECT_NE(md.find("### Score at 1024 tokens (samples per task: up to 4)"), std::string::npos) << md;
  EXPECT_NE(md.find("### Score at 2048 tokens"), std::string::npos) << md;
  EXPECT_LT(md.find("### Score at 1024 tokens"), md.find("### Score at 2048 tokens"));
  EXPECT_NE(md.find("| policy | budget | c@2048 | average |"), std::string::npos) << md;
  EXPECT_NE(md.find("| snapkv | 64 | 20.0 | 20.0 |"), std::string::npos) << md;
  // Rows follow the policy order full, streamingllm, h2o, snapkv, ...
  EXPECT_LT(md.find("| full |"), md.find("| h2o |"));
  EXPECT_LT(md.find("| h2o |"), md.find("| snapkv | 64 |"));

  const std::string svg = render_svg(rows, "tiny");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(">a@1024<"), std::string::npos);
  EXPECT_NE(svg.find(">average @1024<"), std::string::npos);
  EXPECT_NE(svg.find(">average @2048<"), std::string::npos);
  // The full-cache line: once in the legend and once in each of the five panels.
  size_t full_lines = 0;
  const std::string full_line = "stroke=\"black\" stroke-dasharray=\"5,3\"";
  for (size_t at = svg.find(full_line); at != std::string::npos; at = svg.find(full_line, at + 1)) ++full_lines;
  EXPECT_EQ(full_lines, 6u);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">snapkv<"), std::string::npos);

  // The output folder is created when missing.
  const fs::path md_path = scratch.path / "reports" / "r.md";
  const std::vector<std::string> written = write_report(scratch.path.string(), md_path.string());
  ASSERT_EQ(written.size(), 2u);
  EXPECT_TRUE(fs::exists(scratch.path / "reports" / "r-tiny.svg"));
  EXPECT_NE(read_text(md_path).find("(r-tiny.svg)"), std::string::npos);
}

TEST(EvalReport, EmptyFolderIsAnError) {
  ScratchDir scratch("report_empty");
  EXPECT_NE(error_of([&] { collect_results(scratch.path.string()); }).find("no metrics.json"), std::string::npos);
  EXPECT_NE(error_of([&] { collect_results((scratch.path / "none").string()); }).find("not found"), std::string::npos);
}

}  // namespace
}  // namespace lkv::eval
