// The quick evaluation suite on the two real models: two RULER tasks at 2K tokens, two samples
// each, every policy at budgets 64 and 128. lookaheadkv uses the trained module from adapters/
// when present, else a freshly initialized one. SmolLM2 also runs one MT-Bench question when
// scripts/fetch_mtbench.sh has installed the questions. It checks that the sweep completes and its
// results are consistent, not how good the policies are; the scores are printed as a report.
// Named RealModel so the sanitizer run skips it (eval_runner_test.cpp covers the same code on a
// synthetic model there).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "eval/report.h"
#include "eval/results.h"
#include "eval/runner.h"
#include "model_test_util.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const LookaheadAdapter> adapter_for(const Model& model, const std::string& trained) {
  const std::string path = test::source_path(trained);
  if (fs::exists(path)) return std::make_shared<const LookaheadAdapter>(LookaheadAdapter::load_for(path, model));
  return std::make_shared<const LookaheadAdapter>(LookaheadAdapter::create(model, LookaheadConfig{}, 1));
}

void run_quick_suite(const Model& model, const std::string& model_path, const std::string& trained_adapter,
                     bool with_mtbench) {
  const fs::path out = fs::temp_directory_path() / ("lkv_eval_quick_" + std::to_string(::getpid()));
  fs::remove_all(out);
  auto tokenizer = Tokenizer::from_gguf(*model.file);
  const auto adapter = adapter_for(model, trained_adapter);

  EvalOptions o;
  o.model_path = model_path;
  o.data = {"ruler:niah_single_2@2K", "ruler:qa@2K"};
  o.policies = {"streamingllm", "h2o", "snapkv", "pyramidkv", "laq", "laq++", "lookaheadkv"};
  o.budgets = {64, 128};
  o.out_dir = out.string();
  o.samples = 2;
  o.threads = 2;
  o.haystack_dir = fs::exists(test::source_path("data/haystack")) ? test::source_path("data/haystack") : "builtin";
  if (fs::exists(test::source_path(trained_adapter))) o.adapter_path = trained_adapter;
  const EvalSummary summary = run_eval(o, model, *tokenizer, adapter);
  EXPECT_EQ(summary.config_dirs.size(), 2u * (1 + 7 * 2));
  EXPECT_EQ(summary.predictions_written, 2 * 2 * (1 + 7 * 2));
  EXPECT_EQ(summary.samples_prefilled, 4);

  const std::string mtbench = test::source_path("data/mtbench/question.jsonl");
  if (with_mtbench && fs::exists(mtbench)) {
    EvalOptions m = o;
    m.data = {"mtbench:" + mtbench};
    m.samples = 1;
    m.max_new_tokens = 24;
    m.policies = {"snapkv", "lookaheadkv"};
    m.budgets = {64};
    const EvalSummary chat = run_eval(m, model, *tokenizer, adapter);
    EXPECT_EQ(chat.predictions_written, 3);
  }

  const std::vector<ResultRow> rows = collect_results(out.string());
  for (const ResultRow& r : rows) {
    EXPECT_TRUE(r.complete) << r.task << " " << r.policy << " " << r.budget;
    EXPECT_GE(r.score, 0.0);
    EXPECT_LE(r.score, 100.0);
    if (r.policy == "full") EXPECT_DOUBLE_EQ(r.fidelity_rouge_l, 100.0) << r.task;
  }
  std::cout << render_markdown(rows, {}) << std::endl;
  std::cout << "sweep: " << summary.seconds << " s for " << summary.predictions_written << " predictions\n";
  fs::remove_all(out);
}

TEST(EvalQuickRealModel, GemmaAt2K) {
  LKV_REQUIRE_MODEL(model, test::kGemmaPath);
  run_quick_suite(*model, test::source_path(test::kGemmaPath), "adapters/gemma3-270m.lookahead.gguf", false);
}

TEST(EvalQuickRealModel, SmolLM2At2K) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  run_quick_suite(*model, test::source_path(test::kSmolPath), "adapters/smollm2-135m.lookahead.gguf", true);
}

}  // namespace
}  // namespace lkv::eval
