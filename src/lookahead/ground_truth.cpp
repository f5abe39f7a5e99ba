#include "lookahead/ground_truth.h"

#include <algorithm>

#include "eviction/scoring.h"
#include "util/error.h"

namespace lkv {

namespace {

int32_t greedy(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Sums each decode row's attention over the prompt entries of the evicted layers. A decode batch
// has one row, and each query head's row runs in one task, so heads write disjoint sums and the
// order of additions is fixed.
class ResponseAttention final : public AttentionObserver {
 public:
  ResponseAttention(const KVCache& cache, int n_head, const std::vector<int>& layers)
      : n_head_(n_head), slot_(static_cast<size_t>(cache.shape().n_layer), -1) {
    for (size_t k = 0; k < layers.size(); ++k) {
      slot_[static_cast<size_t>(layers[k])] = static_cast<int>(k);
      n_prompt_.push_back(cache.n_entries(layers[k]));
      sums_.emplace_back(static_cast<size_t>(n_head) * n_prompt_.back(), 0.0);
    }
  }

  bool wants_probs(int layer) const override { return slot_[static_cast<size_t>(layer)] >= 0; }

  void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) override {
    const size_t k = static_cast<size_t>(slot_[static_cast<size_t>(layer)]);
    const int n = n_prompt_[k];
    LKV_CHECK(n <= n_entries);
    double* s = sums_[k].data() + static_cast<size_t>(head) * n;
    for (int j = 0; j < n; ++j) s[j] += probs[j];
  }

  int n_prompt(size_t k) const { return n_prompt_[k]; }
  const std::vector<double>& sums(size_t k) const { return sums_[k]; }
  int n_head() const { return n_head_; }

 private:
  int n_head_;
  std::vector<int> slot_;
  std::vector<int> n_prompt_;
  std::vector<std::vector<double>> sums_;  // per layer [n_head × n_prompt]
};

}  // namespace

GroundTruth compute_ground_truth(Transformer& transformer, KVCache& cache, const std::vector<float>& last_logits,
                                 const GroundTruthOptions& options) {
  const HParams& hp = transformer.model().hparams;
  if (options.max_response < 1) fail("response limit {} is invalid; use at least 1 token (default 128)", options.max_response);
  if (static_cast<int>(last_logits.size()) != hp.n_vocab) {
    fail("prompt logits contain {} values, but the vocabulary has {}; pass the logits of the prompt's last row",
         last_logits.size(), hp.n_vocab);
  }
  std::vector<int> layers;
  for (int il = 0; il < hp.n_layer; ++il) {
    if (!cache.is_swa(il)) layers.push_back(il);
  }
  const int32_t n = cache.next_position();
  ResponseAttention attention(cache, hp.n_head, layers);
  GroundTruth out;
  auto is_stop = [&](int32_t t) {
    return std::find(options.stop_tokens.begin(), options.stop_tokens.end(), t) != options.stop_tokens.end();
  };

  try {
    int32_t next = greedy(last_logits);
    std::vector<float> logits;
    while (static_cast<int>(out.response.size()) < options.max_response) {
      if (is_stop(next)) {
        out.stopped = true;
        break;
      }
      out.response.push_back(next);
      // Feeding the token yields its attention row; the logits (for the next token) are not needed
      // after the last one.
      Batch b = Batch::from_tokens({next}, n + static_cast<int32_t>(out.response.size()) - 1);
      b.transient = true;
      const bool last = static_cast<int>(out.response.size()) == options.max_response;
      if (last) b.logit_rows.clear();
      transformer.forward(b, cache, last ? nullptr : &logits, &attention);
      if (!last) next = greedy(logits);
    }
  } catch (...) {
    cache.truncate_from(n);
    throw;
  }
  cache.truncate_from(n);
  if (out.response.empty()) return out;

  ImportanceTarget& t = out.target;
  t.layers = layers;
  t.n_head_kv = hp.n_head_kv;
  const double inv_len = 1.0 / static_cast<double>(out.response.size());
  for (size_t k = 0; k < layers.size(); ++k) {
    const int np = attention.n_prompt(k);
    std::vector<float> heads(static_cast<size_t>(hp.n_head) * np);
    for (size_t i = 0; i < heads.size(); ++i) heads[i] = static_cast<float>(attention.sums(k)[i] * inv_len);
    std::vector<float> g(static_cast<size_t>(hp.n_head_kv) * np);
    reduce_query_groups(heads.data(), hp.n_head, hp.n_head_kv, np, options.reduction, g.data());
    for (int h = 0; h < hp.n_head_kv; ++h) {
      float* row = g.data() + static_cast<size_t>(h) * np;
      double sum = 0.0;
      for (int j = 0; j < np; ++j) sum += row[j];
      LKV_CHECK(sum > 0.0);
      for (int j = 0; j < np; ++j) row[j] = static_cast<float>(row[j] / sum);
    }
    t.n_entries.push_back(np);
    t.g.push_back(std::move(g));
  }
  return out;
}

}  // namespace lkv
