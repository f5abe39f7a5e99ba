// Budget arithmetic as an invariant, swept over prompt lengths, budgets, windows, layer counts and
// GQA ratios on fake caches: what is kept must be what the schedule asked for.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "eviction/budget.h"
#include "eviction/registry.h"
#include "eviction/select.h"
#include "eviction_test_util.h"
#include "util/error.h"

namespace lkv {
namespace {

const std::vector<int> kLengths = {1, 2, 3, 5, 8, 31, 32, 33, 64, 100, 257, 1000, 4099};
const std::vector<int> kBudgets = {1, 2, 4, 5, 9, 33, 64, 100, 128, 1000, 5000};

// One policy × cache × budget: selection and compaction, checked against the schedule.
void check_policy_on_cache(const EvictionPolicy& policy, KVCache cache, int n_head, int budget, uint32_t seed) {
  SCOPED_TRACE(::testing::Message() << policy.name() << " n=" << cache.n_entries(cache.shape().n_layer - 1)
                                    << " budget=" << budget << " layers=" << cache.shape().n_layer
                                    << " kv_heads=" << cache.shape().n_head_kv << " q_heads=" << n_head);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  const std::vector<int> budgets = policy.layer_budgets(cache, layers, budget);
  ASSERT_EQ(budgets.size(), layers.size());
  HeadScores scores = test::random_scores(cache, layers, n_head, seed);
  const bool scored = policy.make_scorer() != nullptr;
  const KeptIndices kept = policy.select(cache, layers, budget, scored ? &scores : nullptr);
  std::vector<int> n_before;
  for (int l = 0; l < cache.shape().n_layer; ++l) n_before.push_back(cache.n_entries(l));
  const size_t swa_bytes = cache.bytes_swa_layers();
  const int32_t next = cache.next_position();
  cache.compact(kept);

  const int n_kv = cache.shape().n_head_kv;
  size_t expected_global = 0;
  for (size_t li = 0; li < layers.size(); ++li) {
    const int l = layers[li];
    const int n = n_before[static_cast<size_t>(l)];
    const int want = std::min(budgets[li], n);
    EXPECT_EQ(cache.n_entries(l), want) << "layer " << l;
    EXPECT_LE(cache.n_entries(l), n);
    if (n > 0) EXPECT_GT(cache.n_entries(l), 0);
    expected_global += static_cast<size_t>(n_kv) * want * cache.shape().head_dim * 2 * sizeof(float);
    for (int h = 0; h < n_kv; ++h) {
      const int32_t* pos = cache.positions(l, h);
      for (int i = 1; i < cache.n_entries(l); ++i) ASSERT_LT(pos[i - 1], pos[i]);
      const Protection p = policy.protection().at(budgets[li]);
      if (want < n) {
        // Protected tokens survive: the sinks, then the most recent entries.
        const int sinks = std::min(p.sinks, want);
        for (int j = 0; j < sinks; ++j) EXPECT_EQ(pos[j], j);
        const int recent = std::min(p.recent, want - sinks);
        for (int j = 0; j < recent; ++j) EXPECT_EQ(pos[want - 1 - j], n - 1 - j);
      }
    }
  }
  EXPECT_EQ(cache.bytes_global_layers(), expected_global);
  EXPECT_EQ(cache.bytes_swa_layers(), swa_bytes);  // sliding-window layers are never evicted
  EXPECT_EQ(cache.next_position(), next);  // eviction never renumbers
}

std::vector<std::shared_ptr<const EvictionPolicy>> policies_for_budget(int budget) {
  std::vector<std::shared_ptr<const EvictionPolicy>> out;
  for (const std::string& name : {"streamingllm", "h2o", "snapkv", "pyramidkv", "laq", "laq++"}) {
    PolicyOptions o;
    o.name = name;
    o.budget = budget;
    try {
      out.push_back(make_policy(o));
    } catch (const Error&) {
      // A budget the policy's protected tokens fill (window or sinks ≥ budget); PolicyRegistry
      // tests that the error is raised. Use a small window so the arithmetic is still covered.
      if (name == std::string("streamingllm")) {
        o.sinks = budget - 1;
      } else if (name == std::string("h2o")) {
        continue;
      } else {
        o.window = std::max(0, budget - 1);
        if (o.window == 0 && name != std::string("laq") && name != std::string("laq++")) continue;
      }
      out.push_back(make_policy(o));
    }
  }
  return out;
}

TEST(EvictionInvariants, KeptCountsFollowSchedule) {
  struct Shape {
    int n_layer, n_head_kv, n_gqa, swa_every, window;
  };
  const std::vector<Shape> shapes = {{1, 1, 1, 0, 0}, {2, 1, 4, 0, 0}, {3, 3, 3, 0, 0}, {5, 2, 2, 0, 0}, {7, 1, 4, 6, 8}};
  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    for (int n : kLengths) {
      const KVCache cache = test::fake_cache(s.n_layer, s.n_head_kv, 4, n, seed++, s.swa_every, s.window);
      for (int budget : kBudgets) {
        for (const auto& policy : policies_for_budget(budget)) {
          check_policy_on_cache(*policy, cache, s.n_head_kv * s.n_gqa, budget, seed++);
        }
      }
    }
  }
}

TEST(EvictionInvariants, RatioBudgetIsPromptFraction) {
  for (int n : kLengths) {
    for (double r : {0.01, 0.1, 0.25, 0.5, 0.999, 1.0}) {
      const int b = resolve_budget(std::nullopt, r, n);
      EXPECT_GE(b, 1);
      EXPECT_LE(b, n);
      EXPECT_LE(std::abs(b - r * n), 1.0) << "n=" << n << " r=" << r;
    }
  }
  // A ratio-derived budget smaller than the window keeps the most recent entries.
  PolicyOptions o;
  o.name = "snapkv";
  o.ratio = 0.05;
  const auto policy = make_policy(o);
  KVCache cache = test::fake_cache(2, 1, 4, 200, 9);
  const auto layers = EvictionPolicy::evicted_layers(cache);
  const int budget = policy->budget_for(200);
  EXPECT_EQ(budget, 10);
  HeadScores scores = test::random_scores(cache, layers, 2, 3);
  cache.compact(policy->select(cache, layers, budget, &scores));
  for (int l : layers) {
    ASSERT_EQ(cache.n_entries(l), 10);
    EXPECT_EQ(cache.positions(l, 0)[0], 190);
  }
}

TEST(PolicyPyramid, BudgetsSumToUniformTotal) {
  for (int n_layer : {1, 2, 3, 7, 18, 30, 32, 62}) {
    for (int window : {1, 8, 32}) {
      for (double beta : {1.0, 2.0, 20.0}) {
        const PyramidSchedule pyramid(window, beta);
        for (int budget : {1, 2, 33, 64, 100, 128, 512, 2048}) {
          for (int n : {10, 100, 1000, 8192}) {
            const std::vector<int> b = pyramid.layer_budgets(budget, n, n_layer);
            ASSERT_EQ(static_cast<int>(b.size()), n_layer);
            EXPECT_EQ(std::accumulate(b.begin(), b.end(), int64_t{0}), int64_t{n_layer} * budget)
                << "L=" << n_layer << " w=" << window << " beta=" << beta << " B=" << budget << " n=" << n;
            if (pyramid.falls_back(budget, n, n_layer)) {
              for (int x : b) EXPECT_EQ(x, budget);
              continue;
            }
            for (size_t i = 1; i < b.size(); ++i) EXPECT_LE(b[i], b[i - 1]);
            EXPECT_LE(b.front(), n);
            EXPECT_GE(b.back(), window);
            // Endpoints w + 2(B−w) − (B−w)/β (first layer) and w + (B−w)/β (last), up to rounding.
            const double rest = budget - window;
            EXPECT_NEAR(b.back(), window + rest / beta, 1.0);
            EXPECT_NEAR(b.front(), window + 2 * rest - rest / beta, 1.0);
          }
        }
      }
    }
  }
}

TEST(PolicyStreamingLLM, SinksAreNeverEvicted) {
  for (int sinks : {0, 1, 4, 16}) {
    for (int n : {20, 100, 3000}) {
      for (int budget : {sinks + 1, sinks + 3, 50, 200}) {
        PolicyOptions o;
        o.name = "streamingllm";
        o.budget = budget;
        o.sinks = sinks;
        const auto policy = make_policy(o);
        KVCache cache = test::fake_cache(3, 2, 4, n, 5);
        const auto layers = EvictionPolicy::evicted_layers(cache);
        cache.compact(policy->select(cache, layers, budget, nullptr));
        for (int l : layers) {
          for (int h = 0; h < 2; ++h) {
            const int kept = cache.n_entries(l);
            ASSERT_EQ(kept, std::min(budget, n));
            for (int j = 0; j < std::min(sinks, kept); ++j) EXPECT_EQ(cache.positions(l, h)[j], j);
            EXPECT_EQ(cache.positions(l, h)[kept - 1], n - 1);
            if (kept < n) EXPECT_EQ(cache.positions(l, h)[sinks], n - (budget - sinks));
          }
        }
      }
    }
  }
}

TEST(EvictionInvariants, LargeBudgetKeepsEverything) {
  for (const auto& policy : policies_for_budget(100)) {
    KVCache cache = test::fake_cache(4, 2, 4, 100, 21);
    const auto layers = EvictionPolicy::evicted_layers(cache);
    HeadScores scores = test::random_scores(cache, layers, 4, 1);
    const KeptIndices kept = policy->select(cache, layers, 100, &scores);
    for (const auto& layer : kept) EXPECT_TRUE(layer.empty()) << policy->name();
  }
}

}  // namespace
}  // namespace lkv
