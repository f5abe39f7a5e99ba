// Ground truth for training the LookaheadKV module (DESIGN.md §6, Ground truth).
//
// For one prompt already prefilled with the full cache, the model's own greedy response y is
// generated (up to max_response tokens, stopping before a stop token). While each response token
// is fed back, its attention rows are read from the forward pass (AttentionObserver::on_probs), so
// no second pass over prompt + y is needed. Per evicted layer and query head,
//   g_h[j] = (1/|y|) Σ_{t in y} A_h[t, j]   over the prompt's cache entries j,
// then reduced over each KV head's query group (mean, or max) and normalized to sum 1.
// The decode steps are transient batches and are truncated afterwards, so the prompt's cache is
// left bit-identical and can be reused for the training forward.
// Non-goals: sampling (greedy only), chat templates and stop-token lookup (the caller passes ids).
#pragma once

#include <cstdint>
#include <vector>

#include "eviction/types.h"
#include "kvcache/kv_cache.h"
#include "lookahead/loss.h"
#include "model/transformer.h"

namespace lkv {

struct GroundTruthOptions {
  int max_response = 128;              // T, the longest response used
  std::vector<int32_t> stop_tokens;    // end-of-turn and end-of-sequence ids; never part of y
  Reduction reduction = Reduction::Mean;
};

struct GroundTruth {
  std::vector<int32_t> response;  // y, without the stop token
  ImportanceTarget target;        // empty (no layers) when the response is empty
  bool stopped = false;           // true: a stop token ended the response; false: the length limit
};

// Computes the ground truth for the prompt in `cache`, whose last row produced `last_logits`
// (n_vocab values). The evicted layers are the cache's global layers. On return, and on an
// exception, the cache contains exactly the prompt again.
GroundTruth compute_ground_truth(Transformer& transformer, KVCache& cache, const std::vector<float>& last_logits,
                                 const GroundTruthOptions& options);

}  // namespace lkv
