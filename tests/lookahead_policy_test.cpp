// The `lookaheadkv` eviction policy: options and their errors, loading its module against the
// model, and eviction on tiny synthetic models of each architecture. The kept entries must be the
// top-B of the scoring pass's scores averaged over each KV head's query group, and a budget at or
// above the prompt length must leave the cache bit-identical to `full`.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "eviction/policy.h"
#include "eviction/registry.h"
#include "lookahead/policy.h"
#include "lookahead/scoring.h"
#include "lookahead_test_util.h"
#include "util/error.h"

namespace lkv {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

LookaheadConfig small_config() {
  LookaheadConfig c;
  c.n_lookahead = 5;
  c.rank = 4;
  c.alpha = 8.0f;
  return c;
}

TEST(LookaheadPolicy, NeedsAnAdapter) {
  PolicyOptions o;
  o.name = "lookaheadkv";
  o.budget = 16;
  EXPECT_NE(error_of([&] { make_policy(o); }).find("--adapter FILE"), std::string::npos);
  o.adapter_path = "some.gguf";  // named but not loaded
  EXPECT_NE(error_of([&] { make_policy(o); }).find("load_policy_adapter"), std::string::npos);

  PolicyOptions snap;
  snap.name = "snapkv";
  snap.budget = 64;
  snap.adapter_path = "module.gguf";
  EXPECT_NE(error_of([&] { make_policy(snap); }).find("--adapter does not apply to policy snapkv"), std::string::npos);
}

TEST(LookaheadPolicy, DefaultsAndLoading) {
  test::TinyModel tiny = test::tiny_model("llama", GgmlType::F32, "policy");
  const LookaheadAdapter adapter = test::random_adapter(*tiny.model, small_config(), 3);
  test::TempFile file("lookahead_policy_adapter.gguf");
  adapter.save(file.path());

  PolicyOptions o;
  o.name = "lookaheadkv";
  o.budget = 8;
  o.adapter_path = file.path();
  load_policy_adapter(o, *tiny.model);
  ASSERT_NE(o.adapter, nullptr);
  EXPECT_EQ(o.adapter->embeddings, adapter.embeddings);
  const auto policy = make_policy(o);
  const nlohmann::json j = policy->params_json();
  EXPECT_EQ(j["name"], "lookaheadkv");
  EXPECT_EQ(j["window"], 0);
  EXPECT_EQ(j["kernel"], 1);
  EXPECT_EQ(j["pooling"], "none");
  EXPECT_EQ(j["adapter"], file.path());
  EXPECT_TRUE(policy->evicts());

  // A module for another model is refused with the file named.
  test::TinyModel other = test::tiny_model("qwen3", GgmlType::F32, "policy_other");
  PolicyOptions wrong = o;
  wrong.adapter = nullptr;
  const std::string msg = error_of([&] { load_policy_adapter(wrong, *other.model); });
  EXPECT_NE(msg.find(file.path()), std::string::npos) << msg;

  PolicyOptions missing = o;
  missing.adapter = nullptr;
  missing.adapter_path = "/nonexistent/module.gguf";
  EXPECT_NE(error_of([&] { load_policy_adapter(missing, *tiny.model); }).find("/nonexistent/module.gguf"),
            std::string::npos);
}

class LookaheadPolicyArch : public ::testing::TestWithParam<std::string> {};

TEST_P(LookaheadPolicyArch, KeepsTopBudgetOfTheScores) {
  test::TinyModel tiny = test::tiny_model(GetParam(), GgmlType::F32, "policy_evict");
  const Model& model = *tiny.model;
  const HParams& hp = model.hparams;
  auto adapter = std::make_shared<const LookaheadAdapter>(test::random_adapter(model, small_config(), 5));
  const int n = 20, budget = 7;
  const KVCache prompt = test::prefill(model, test::prompt_tokens(n, hp.n_vocab), false);

  PolicyOptions o;
  o.name = "lookaheadkv";
  o.budget = budget;
  o.adapter = adapter;
  const auto policy = make_policy(o);
  Transformer tr(model, 1);
  KVCache cache = prompt;
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  ASSERT_FALSE(layers.empty());

  // The expected selection, from the scores directly.
  KVCache scratch = prompt;
  HeadScores scores = zero_head_scores(scratch, layers, hp.n_head);
  add_lookahead_scores(tr, scratch, *adapter, scores);

  auto scorer = policy->make_scorer();
  ScoreContext ctx{tr, cache, layers, 0, n, nullptr, budget, nullptr};
  const EvictionReport report = policy->evict(scorer.get(), ctx);
  EXPECT_TRUE(report.applied);
  const int group = hp.n_head / hp.n_head_kv;
  for (size_t li = 0; li < layers.size(); ++li) {
    const int l = layers[li];
    ASSERT_EQ(cache.n_entries(l), budget) << "layer " << l;
    for (int g = 0; g < hp.n_head_kv; ++g) {
      std::vector<double> s(static_cast<size_t>(n), 0.0);
      for (int h = g * group; h < (g + 1) * group; ++h) {
        for (int j = 0; j < n; ++j) s[static_cast<size_t>(j)] += scores.layer_scores[li][static_cast<size_t>(h * n + j)];
      }
      std::vector<int32_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return s[static_cast<size_t>(a)] > s[static_cast<size_t>(b)]; });
      std::vector<int32_t> want(order.begin(), order.begin() + budget);
      std::sort(want.begin(), want.end());
      std::vector<int32_t> got(cache.positions(l, g), cache.positions(l, g) + budget);
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << "layer " << l << " KV head " << g;
    }
  }

  // At or above the prompt length nothing changes, bit for bit.
  o.budget = n;
  const auto whole = make_policy(o);
  KVCache kept = prompt;
  auto scorer2 = whole->make_scorer();
  ScoreContext ctx2{tr, kept, layers, 0, n, nullptr, n, nullptr};
  EXPECT_FALSE(whole->evict(scorer2.get(), ctx2).applied);
  for (int l = 0; l < hp.n_layer; ++l) {
    ASSERT_EQ(kept.n_entries(l), prompt.n_entries(l));
    for (int g = 0; g < hp.n_head_kv; ++g) {
      const size_t bytes = sizeof(float) * static_cast<size_t>(hp.head_dim) * static_cast<size_t>(kept.n_entries(l));
      EXPECT_EQ(std::memcmp(kept.keys(l, g), prompt.keys(l, g), bytes), 0);
      EXPECT_EQ(std::memcmp(kept.values(l, g), prompt.values(l, g), bytes), 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, LookaheadPolicyArch, ::testing::ValuesIn(test::all_archs()));

}  // namespace
}  // namespace lkv
