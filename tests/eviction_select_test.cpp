// Scoring and selection pieces on hand-made data: pooling, the GQA reduction, top-k with
// protected tokens, and the window attention against a direct computation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "eviction/policy.h"
#include "eviction/registry.h"
#include "eviction/scoring.h"
#include "eviction/select.h"
#include "eviction_test_util.h"

namespace lkv {
namespace {

TEST(EvictionScoring, PoolingPadsLikeTorch) {
  std::vector<float> s = {9, 1, 0, 0, 5, 0, 0, 2};
  std::vector<float> m = s;
  pool_scores(m.data(), 1, 7, Pooling::Max, 3);  // entries 0 and 7 are outside the pooled range
  EXPECT_EQ(m, (std::vector<float>{9, 1, 1, 5, 5, 5, 0, 2}));
  std::vector<float> a = s;
  pool_scores(a.data(), 0, 8, Pooling::Avg, 3);
  EXPECT_FLOAT_EQ(a[0], (9 + 1) / 3.0f);  // zero padding counts in the divisor
  EXPECT_FLOAT_EQ(a[4], 5 / 3.0f);
  EXPECT_FLOAT_EQ(a[7], 2 / 3.0f);
  std::vector<float> none = s;
  pool_scores(none.data(), 0, 8, Pooling::None, 7);
  EXPECT_EQ(none, s);
}

// Two query heads share one KV head and want different keys: head 0 attends mostly to key 1 and
// somewhat to key 3; head 1 to keys 3 and 7. With budget 2, the mean (the default) keeps what the
// group attends to most on average: keys 3 and 7 (0.375 each, key 1 only 0.25). The max keeps
// each head's strongest keys, 7 (0.55) and 1 (0.50), over the shared key 3 (0.45).
TEST(EvictionScoring, GqaReductionMeanVersusMax) {
  const int n = 8;
  const std::vector<float> heads = {
      0.00f, 0.50f, 0.00f, 0.30f, 0.00f, 0.00f, 0.00f, 0.20f,  // query head 0
      0.00f, 0.00f, 0.00f, 0.45f, 0.00f, 0.00f, 0.00f, 0.55f,  // query head 1
  };
  std::vector<float> mean(n), mx(n);
  reduce_query_groups(heads.data(), 2, 1, n, Reduction::Mean, mean.data());
  reduce_query_groups(heads.data(), 2, 1, n, Reduction::Max, mx.data());
  EXPECT_EQ(select_entries(mean.data(), n, 2, {}), (std::vector<int32_t>{3, 7}));
  EXPECT_EQ(select_entries(mx.data(), n, 2, {}), (std::vector<int32_t>{1, 7}));

  // Through a policy: 4 query heads over 2 KV heads, each KV head's group disagreeing the same way.
  for (Reduction r : {Reduction::Mean, Reduction::Max}) {
    PolicyOptions o;
    o.name = "h2o";
    o.budget = 2;
    o.window = 0;
    o.reduction = r;
    const auto policy = make_policy(o);
    KVCache cache = test::fake_cache(1, 2, 4, n, 1);
    HeadScores hs;
    hs.layers = {0};
    hs.layer_scores.push_back(heads);
    hs.layer_scores[0].insert(hs.layer_scores[0].end(), heads.begin(), heads.end());
    const KeptIndices kept = policy->select(cache, {0}, 2, &hs);
    const std::vector<int32_t> want = r == Reduction::Mean ? std::vector<int32_t>{3, 7} : std::vector<int32_t>{1, 7};
    EXPECT_EQ(kept[0][0], want) << reduction_name(r);
    EXPECT_EQ(kept[0][1], want) << reduction_name(r);
  }
}

TEST(EvictionSelect, ProtectedTokensComeFirst) {
  std::vector<float> s(20, 0.0f);
  s[7] = 5.0f;
  s[12] = 4.0f;
  EXPECT_EQ(select_entries(s.data(), 20, 6, {2, 2}), (std::vector<int32_t>{0, 1, 7, 12, 18, 19}));
  EXPECT_EQ(select_entries(s.data(), 20, 3, {2, 4}), (std::vector<int32_t>{0, 1, 19}));  // sinks win, then recent
  EXPECT_EQ(select_entries(s.data(), 20, 3, {0, 8}), (std::vector<int32_t>{17, 18, 19}));
  EXPECT_EQ(select_entries(nullptr, 20, 4, {1, 0}), (std::vector<int32_t>{0, 17, 18, 19}));
  EXPECT_EQ(select_entries(s.data(), 5, 9, {}), (std::vector<int32_t>{0, 1, 2, 3, 4}));
}

TEST(EvictionScoring, WindowAttentionMatchesSoftmax) {
  const int n_head = 4, n_kv = 2, hd = 8, n = 40, rows = 5;
  KVCache cache = test::fake_cache(1, n_kv, hd, n, 17);
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 0.5f);
  std::vector<float> q(static_cast<size_t>(rows) * n_head * hd);
  for (float& x : q) x = dist(rng);
  std::vector<int32_t> pos = {30, 31, 35, 38, 39};
  HeadScores out;
  out.layers = {0};
  out.layer_scores.emplace_back(static_cast<size_t>(n_head) * n, 0.0f);
  ThreadPool pool(2);
  add_attention_columns(cache, {{0, q.data(), pos.data(), rows}}, n_head, pool, out);
  for (int h = 0; h < n_head; ++h) {
    std::vector<double> want(n, 0.0);
    for (int r = 0; r < rows; ++r) {
      std::vector<double> logit;
      double mx = -1e300;
      for (int j = 0; j <= pos[static_cast<size_t>(r)]; ++j) {
        double d = 0;
        for (int i = 0; i < hd; ++i) d += q[(static_cast<size_t>(r) * n_head + h) * hd + i] * cache.keys(0, h / 2)[j * hd + i];
        logit.push_back(d);
        mx = std::max(mx, d);
      }
      double sum = 0;
      for (double& l : logit) sum += (l = std::exp(l - mx));
      for (size_t j = 0; j < logit.size(); ++j) want[j] += logit[j] / sum;
    }
    for (int j = 0; j < n; ++j) EXPECT_NEAR(out.layer_scores[0][static_cast<size_t>(h) * n + j], want[static_cast<size_t>(j)], 1e-5);
  }
}

}  // namespace
}  // namespace lkv
