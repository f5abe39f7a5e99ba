// Attention capture during prefill, for the scorers that need it. Both observers do work only in
// the layers they were given (the evicted ones) and only for what their scorer reads, so a prefill
// without a policy runs with no observer at all and pays nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "eviction/scoring.h"
#include "eviction/types.h"
#include "kvcache/kv_cache.h"
#include "model/forward_hooks.h"
#include "model/hparams.h"

namespace lkv {

// Keeps the queries of the rows at positions [begin, end) in the listed layers (SnapKV's
// observation window, LAQ's draft rows). Memory: layers × rows × n_head × head_dim floats.
class QueryCapture final : public AttentionObserver {
 public:
  QueryCapture(const HParams& hp, std::vector<int> layers, int32_t begin, int32_t end);

  void on_queries(int layer, const float* q, int m, const int32_t* positions) override;

  // The last `last` captured rows of a captured layer (fewer if fewer were captured).
  LayerQueries last_rows(int layer, int last) const;
  int rows(int layer) const;
  const std::vector<int>& layers() const { return layers_; }

 private:
  struct Rows {
    std::vector<float> q;        // [n × n_head × head_dim]
    std::vector<int32_t> pos;    // [n]
  };
  int row_width_;
  int32_t begin_, end_;
  std::vector<int> layers_;
  std::vector<int> slot_;        // layer → index into rows_, −1 when not captured
  std::vector<Rows> rows_;
};

// H2O's statistic: Σ_i A[i, j] over every prefilled query row i, per query head. It is accumulated
// from the forward pass's own probabilities (on_probs) into one accumulator per worker thread, so
// no n × n matrix is held and threads never share a write. Memory: threads × layers × n_head × n
// floats. Float sums keep the per-row cost to one vectorized add over the entries; their rounding
// (relative 1e-4 or less at 8K rows) is far below the gaps that decide the ranking.
class ColumnSumCapture final : public AttentionObserver {
 public:
  ColumnSumCapture(const HParams& hp, std::vector<int> layers, int n_threads);

  bool wants_probs(int layer) const override;
  void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) override;

  // Adds the merged sums to out (shaped for the same layers, n = the cache's current entries).
  void merge_into(const KVCache& cache, HeadScores& out) const;

 private:
  int n_head_;
  std::vector<int> layers_;
  std::vector<int> slot_;
  // acc_[thread][slot × n_head + head] grows to the largest n_entries seen by that thread.
  std::vector<std::vector<std::vector<float>>> acc_;
};

}  // namespace lkv
