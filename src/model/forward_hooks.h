// Optional observers of the forward pass, for eviction policies that need attention statistics.
//
// With no observer the forward pass does no extra work. Hooks run inside the pass, some of them on
// worker threads; each documents what it may touch.
#pragma once

#include <cstdint>

namespace lkv {

class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;

  // Queries of a batch in one layer, after QK-norm, RoPE and the query scale:
  // q is [m × n_head × head_dim]. Called on the calling thread, once per layer per batch.
  virtual void on_queries(int layer, const float* q, int m, const int32_t* positions) {}

  // Whether on_probs should be called for this layer (the probabilities cost a callback per row).
  virtual bool wants_probs(int layer) const { return false; }

  // Softmax attention of one query row of query head `head` over the layer's cache entries
  // [0, n_entries) (entries outside the causal or sliding window get probability 0).
  // Called from worker thread `thread` (0 .. pool size − 1); rows of one head may run on
  // different threads at the same time, so accumulate per thread.
  virtual void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) {}
};

}  // namespace lkv
