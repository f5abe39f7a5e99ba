// Ground truth for LookaheadKV training (src/lookahead/ground_truth.h) on tiny synthetic models:
// it equals the mean attention of the greedy response's rows computed in one pass over
// prompt + response, stops before a stop token, and leaves the prompt cache bit-identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "eviction/scoring.h"
#include "lookahead/ground_truth.h"
#include "lookahead_test_util.h"

namespace lkv {
namespace {

constexpr int kPrompt = 16;

// Every probability row of the listed layers, keyed by (layer, head, row).
class RowRecorder final : public AttentionObserver {
 public:
  explicit RowRecorder(std::vector<int> layers) : layers_(std::move(layers)) {}
  bool wants_probs(int layer) const override { return std::count(layers_.begin(), layers_.end(), layer) > 0; }
  void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) override {
    std::lock_guard<std::mutex> lock(mutex_);
    rows_[{layer, head, row}] = std::vector<float>(probs, probs + n_entries);
  }
  const std::vector<float>& row(int layer, int head, int row) const { return rows_.at({layer, head, row}); }

 private:
  std::vector<int> layers_;
  std::mutex mutex_;
  std::map<std::tuple<int, int, int>, std::vector<float>> rows_;
};

struct Prefilled {
  KVCache cache;
  std::vector<float> logits;
};

Prefilled prefill_with_logits(Transformer& t, const std::vector<int32_t>& tokens) {
  Prefilled p{t.make_cache(), {}};
  t.forward(Batch::from_tokens(tokens, 0), p.cache, &p.logits);
  return p;
}

class LookaheadGroundTruth : public ::testing::TestWithParam<std::string> {};

TEST_P(LookaheadGroundTruth, MatchesOnePassOverPromptAndResponse) {
  test::TinyModel tm = test::tiny_model(GetParam(), GgmlType::Q8_0, "gt");
  const Model& model = *tm.model;
  const HParams& hp = model.hparams;
  Transformer t(model, 2);
  t.set_exact_math(true);
  const std::vector<int32_t> prompt = test::prompt_tokens(kPrompt, hp.n_vocab);
  Prefilled p = prefill_with_logits(t, prompt);
  const KVCache before = p.cache;

  GroundTruthOptions options;
  options.max_response = 5;
  const GroundTruth gt = compute_ground_truth(t, p.cache, p.logits, options);
  ASSERT_EQ(gt.response.size(), 5u);
  EXPECT_FALSE(gt.stopped);
  gt.target.validate();

  // The prompt's cache is as it was.
  ASSERT_EQ(p.cache.next_position(), before.next_position());
  for (int il = 0; il < hp.n_layer; ++il) {
    ASSERT_EQ(p.cache.n_entries(il), before.n_entries(il)) << il;
    const size_t bytes = sizeof(float) * static_cast<size_t>(before.n_entries(il) * hp.head_dim);
    for (int h = 0; h < hp.n_head_kv; ++h) {
      EXPECT_EQ(std::memcmp(p.cache.keys(il, h), before.keys(il, h), bytes), 0) << il;
      EXPECT_EQ(std::memcmp(p.cache.values(il, h), before.values(il, h), bytes), 0) << il;
    }
  }

  // One pass over prompt + response from an empty cache: the response is greedy, and its rows'
  // mean attention over the prompt, reduced and normalized, is the ground truth. Exact-math mode
  // computes a row the same way in a batch as in decode, so only the float sums differ.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), gt.response.begin(), gt.response.end());
  KVCache cache = t.make_cache();
  RowRecorder recorder(gt.target.layers);
  std::vector<float> logits;
  t.forward(Batch::from_tokens(all, 0, /*all_logits=*/true), cache, &logits, &recorder);
  for (size_t i = 1; i < gt.response.size(); ++i) {
    const float* row = logits.data() + (kPrompt - 1 + i) * static_cast<size_t>(hp.n_vocab);
    EXPECT_EQ(std::max_element(row, row + hp.n_vocab) - row, gt.response[i]) << i;
  }
  const float* first = logits.data() + (kPrompt - 1) * static_cast<size_t>(hp.n_vocab);
  EXPECT_EQ(std::max_element(first, first + hp.n_vocab) - first, gt.response[0]);

  for (size_t k = 0; k < gt.target.layers.size(); ++k) {
    const int il = gt.target.layers[k];
    const int n = gt.target.n_entries[k];
    ASSERT_EQ(n, kPrompt);
    std::vector<float> heads(static_cast<size_t>(hp.n_head) * n, 0.0f);
    for (int h = 0; h < hp.n_head; ++h) {
      for (size_t r = 0; r < gt.response.size(); ++r) {
        const std::vector<float>& probs = recorder.row(il, h, kPrompt + static_cast<int>(r));
        for (int j = 0; j < n; ++j) heads[static_cast<size_t>(h * n + j)] += probs[static_cast<size_t>(j)] / 5.0f;
      }
    }
    std::vector<float> g(static_cast<size_t>(hp.n_head_kv) * n);
    reduce_query_groups(heads.data(), hp.n_head, hp.n_head_kv, n, Reduction::Mean, g.data());
    for (int h = 0; h < hp.n_head_kv; ++h) {
      float sum = 0.0f;
      for (int j = 0; j < n; ++j) sum += g[static_cast<size_t>(h * n + j)];
      for (int j = 0; j < n; ++j) {
        EXPECT_NEAR(gt.target.g[k][static_cast<size_t>(h * n + j)], g[static_cast<size_t>(h * n + j)] / sum, 1e-6)
            << "layer " << il << ", KV head " << h << ", entry " << j;
      }
    }
  }
}

TEST_P(LookaheadGroundTruth, StopsBeforeAStopToken) {
  test::TinyModel tm = test::tiny_model(GetParam(), GgmlType::Q8_0, "gt_stop");
  const Model& model = *tm.model;
  Transformer t(model, 1);
  Prefilled p = prefill_with_logits(t, test::prompt_tokens(kPrompt, model.hparams.n_vocab));
  GroundTruthOptions options;
  options.max_response = 6;
  const GroundTruth full = compute_ground_truth(t, p.cache, p.logits, options);
  ASSERT_EQ(full.response.size(), 6u);

  // Stopping on the third token keeps the tokens before its first occurrence.
  options.stop_tokens = {full.response[2]};
  const GroundTruth cut = compute_ground_truth(t, p.cache, p.logits, options);
  const size_t expected = static_cast<size_t>(std::find(full.response.begin(), full.response.end(), full.response[2]) -
                                              full.response.begin());
  EXPECT_TRUE(cut.stopped);
  EXPECT_EQ(cut.response, std::vector<int32_t>(full.response.begin(), full.response.begin() + static_cast<std::ptrdiff_t>(expected)));

  // A stop token first: no response, so no ground truth.
  options.stop_tokens = {full.response[0]};
  const GroundTruth none = compute_ground_truth(t, p.cache, p.logits, options);
  EXPECT_TRUE(none.response.empty());
  EXPECT_TRUE(none.target.layers.empty());
}

INSTANTIATE_TEST_SUITE_P(LookaheadGroundTruth, LookaheadGroundTruth, ::testing::Values("gemma3", "llama", "qwen2"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace lkv
