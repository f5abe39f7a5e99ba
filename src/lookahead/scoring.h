// LookaheadKV's scoring pass (DESIGN.md §6, Scoring pass).
//
// After the prompt is prefilled with the adapter off, the m lookahead embeddings run as one extra
// batch at positions n .. n+m−1 with LoRA on, attending causally to the prompt's cache and to each
// other. In each evicted layer and query head, the score of prompt entry j is
//   s_h[j] = (1/m) Σ_i A_h[i, j],
// read from the forward pass's own softmax rows (AttentionObserver::on_probs). The lookahead
// entries are then dropped again, leaving the cache bit-identical to its state before the pass
// (the batch is marked transient, so sliding-window layers do not trim the prompt's window).
// Cost: one m-row chunk on the fast batched path, no output head.
// Non-goals: pooling, GQA reduction and selection, which the eviction policy applies to these
// per-query-head scores like any other scorer's (src/eviction/policy.h).
#pragma once

#include <memory>

#include "eviction/scorer.h"
#include "eviction/types.h"
#include "kvcache/kv_cache.h"
#include "lookahead/adapter.h"
#include "model/transformer.h"

namespace lkv {

// Adds s_h[j] for every layer in out.layers, query head h and cache entry j < n (n = the layer's
// entries when the call starts) to out.layer_scores ([n_head × n] per layer, already shaped, as
// Scorer::score receives it). The cache must hold the prompt (and possibly earlier turns) and no
// rows beyond. On return, and on an exception, it contains exactly what it contained before. Throws
// lkv::Error when the adapter does not fit the model or `out` is shaped for another cache.
void add_lookahead_scores(Transformer& transformer, KVCache& cache, const LookaheadAdapter& adapter, HeadScores& out);

// A HeadScores of zeros shaped for `layers` of this cache.
HeadScores zero_head_scores(const KVCache& cache, const std::vector<int>& layers, int n_head);

// The `lookaheadkv` scorer for the eviction framework: add_lookahead_scores on the context's cache,
// with the extra chunk's time booked as capture time. It needs no prefill observer.
class LookaheadScorer final : public Scorer {
 public:
  explicit LookaheadScorer(std::shared_ptr<const LookaheadAdapter> adapter);
  void score(ScoreContext& ctx, HeadScores& out) override;

 private:
  std::shared_ptr<const LookaheadAdapter> adapter_;
};

}  // namespace lkv
