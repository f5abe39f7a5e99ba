// Score arithmetic shared by the scorers: attention of chosen query rows over a layer's cache,
// pooling along the prompt, and the reduction over each KV head's query group.
//
// Notation: A[i, j] is the softmax attention of query i over cache entry j with the
// forward pass's scaling and causal visibility (entries at positions ≤ the query's). Queries come
// already scaled (AttentionObserver::on_queries), so A here equals the forward pass's A.
#pragma once

#include <cstdint>
#include <vector>

#include "eviction/types.h"
#include "kvcache/kv_cache.h"
#include "tensor/thread_pool.h"

namespace lkv {

// Query rows captured for one layer: q is [n_rows × n_head × head_dim], positions [n_rows].
struct LayerQueries {
  int layer = 0;
  const float* q = nullptr;
  const int32_t* positions = nullptr;
  int n_rows = 0;
};

// For every listed layer, query head h and cache entry j: out.layer_scores[i][h × n + j] +=
// Σ_rows A[row, j], with n = cache.n_entries(layer). `out` must already be shaped (zeros or prior
// sums) for out.layers == the listed layers in the same order. Runs (layer, head) tasks on the pool.
void add_attention_columns(const KVCache& cache, const std::vector<LayerQueries>& queries, int n_head,
                           ThreadPool& pool, HeadScores& out);

// Pools scores[begin, end) in place. Values outside the range are neither read nor written, so
// protected entries do not leak into their neighbours' scores (SnapKV pools only the prefix before
// the observation window). kernel must be odd. Pooling::None and kernel 1 change nothing.
void pool_scores(float* scores, int begin, int end, Pooling pooling, int kernel);

// Reduces [n_head × n] query-head scores to [n_head_kv × n] KV-head scores over each group of
// n_head / n_head_kv consecutive query heads.
void reduce_query_groups(const float* head_scores, int n_head, int n_head_kv, int n, Reduction reduction, float* out);

}  // namespace lkv
