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

  // Optional mask over the cache entries of one layer and KV head: entries j with mask[j] == 0 are
  // left out of every query's attention (as if evicted, without moving anything). The returned
  // array must hold at least n_entries bytes and stay valid until the layer's attention is done;
  // nullptr (the default) masks nothing. Called on the calling thread, once per layer, KV head and
  // batch, before the attention of that layer starts. Tests use it to compare a pruned cache with
  // the full cache minus the evicted entries.
  virtual const uint8_t* entry_mask(int layer, int kv_head, int n_entries) { return nullptr; }
};

}  // namespace lkv
