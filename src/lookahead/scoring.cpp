#include "lookahead/scoring.h"

#include <algorithm>

#include "util/error.h"
#include "util/timer.h"

namespace lkv {

namespace {

// Keeps each lookahead row's softmax over the prompt entries for the layer whose attention is
// running. Once the layer is done it sums the rows in row order, so the scores do not depend on how
// rows were spread over threads. Memory: m × n_head × n floats for one layer at a time.
class LookaheadCapture final : public AttentionObserver {
 public:
  LookaheadCapture(int n_head, int m, HeadScores& out, std::vector<int> n_prompt, int n_layer)
      : n_head_(n_head), m_(m), out_(out), n_prompt_(std::move(n_prompt)), slot_(static_cast<size_t>(n_layer), -1) {
    for (size_t k = 0; k < out_.layers.size(); ++k) slot_[static_cast<size_t>(out_.layers[k])] = static_cast<int>(k);
  }

  // Called on the calling thread before each layer's attention: the previous layer is complete.
  void on_queries(int layer, const float* q, int m, const int32_t* positions) override {
    flush();
    pending_ = slot_[static_cast<size_t>(layer)];
    if (pending_ >= 0) rows_.assign(static_cast<size_t>(m_) * n_head_ * n_prompt_[static_cast<size_t>(pending_)], 0.0f);
  }

  bool wants_probs(int layer) const override { return slot_[static_cast<size_t>(layer)] >= 0; }

  // Rows and heads write disjoint slices, so concurrent calls need no locking.
  void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) override {
    const int n = n_prompt_[static_cast<size_t>(slot_[static_cast<size_t>(layer)])];
    LKV_CHECK(n <= n_entries && row < m_);
    std::copy(probs, probs + n, rows_.begin() + (static_cast<std::ptrdiff_t>(row) * n_head_ + head) * n);
  }

  // Adds the pending layer's (1/m) Σ_i A_h[i, j] to out.
  void flush() {
    if (pending_ < 0) return;
    const size_t n = static_cast<size_t>(n_prompt_[static_cast<size_t>(pending_)]);
    std::vector<float>& dst = out_.layer_scores[static_cast<size_t>(pending_)];
    std::vector<double> sum(n);
    for (int h = 0; h < n_head_; ++h) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int i = 0; i < m_; ++i) {
        const float* p = rows_.data() + (static_cast<size_t>(i) * n_head_ + h) * n;
        for (size_t j = 0; j < n; ++j) sum[j] += p[j];
      }
      for (size_t j = 0; j < n; ++j) dst[static_cast<size_t>(h) * n + j] += static_cast<float>(sum[j] / m_);
    }
    pending_ = -1;
  }

 private:
  int n_head_, m_;
  HeadScores& out_;
  std::vector<int> n_prompt_;  // per slot
  std::vector<int> slot_;      // layer → index into out.layers, −1 when not scored
  int pending_ = -1;
  std::vector<float> rows_;    // [m × n_head × n] of the pending layer
};

}  // namespace

HeadScores zero_head_scores(const KVCache& cache, const std::vector<int>& layers, int n_head) {
  HeadScores s;
  s.layers = layers;
  for (int il : layers) s.layer_scores.emplace_back(static_cast<size_t>(n_head) * cache.n_entries(il), 0.0f);
  return s;
}

void add_lookahead_scores(Transformer& transformer, KVCache& cache, const LookaheadAdapter& adapter, HeadScores& out) {
  const HParams& hp = transformer.model().hparams;
  adapter.check_compatible(transformer.model(), /*check_fingerprint=*/false);
  if (out.layer_scores.size() != out.layers.size()) {
    fail("score table lists {} layers but contains {} score rows; shape it with zero_head_scores()", out.layers.size(), out.layer_scores.size());
  }
  std::vector<int> n_prompt;
  for (size_t k = 0; k < out.layers.size(); ++k) {
    const int il = out.layers[k];
    if (il < 0 || il >= hp.n_layer || (k > 0 && il <= out.layers[k - 1])) {
      fail("scored layer {} is invalid: layers must increase within [0, {})", il, hp.n_layer);
    }
    n_prompt.push_back(cache.n_entries(il));
    if (out.layer_scores[k].size() != static_cast<size_t>(hp.n_head) * n_prompt.back()) {
      fail("scores of layer {} contain {} values, but the cache needs {} heads × {} entries; shape them with zero_head_scores()", il, out.layer_scores[k].size(),
           hp.n_head, n_prompt.back());
    }
  }
  if (out.layers.empty()) return;

  const int m = adapter.config.n_lookahead;
  LKV_CHECK(adapter.embeddings.size() == static_cast<size_t>(m) * static_cast<size_t>(hp.n_embd));
  const std::vector<float> rows = adapter.input_rows(hp);
  const int32_t first = cache.next_position();
  Batch batch;
  batch.embeddings = rows.data();
  batch.n_rows = m;
  batch.positions.resize(static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) batch.positions[static_cast<size_t>(i)] = first + i;
  batch.lora = &adapter.lora;
  batch.transient = true;

  LookaheadCapture capture(hp.n_head, m, out, std::move(n_prompt), hp.n_layer);
  try {
    transformer.forward(batch, cache, nullptr, &capture);
    capture.flush();
  } catch (...) {
    cache.truncate_from(first);
    throw;
  }
  cache.truncate_from(first);
}

LookaheadScorer::LookaheadScorer(std::shared_ptr<const LookaheadAdapter> adapter) : adapter_(std::move(adapter)) {
  LKV_CHECK(adapter_ != nullptr);
}

void LookaheadScorer::score(ScoreContext& ctx, HeadScores& out) {
  Timer timer;
  add_lookahead_scores(ctx.transformer, ctx.cache, *adapter_, out);
  if (ctx.timings) ctx.timings->capture_ms += timer.elapsed_ms();
}

}  // namespace lkv
