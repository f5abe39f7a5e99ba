// The observation-window scorer shared by SnapKV, PyramidKV and LAQ's compressed draft copy:
// score_j = Σ over the last w prompt queries of A[i, j] (SnapKV, Li et al. 2024).
//
// The window's queries are captured during prefill (on_queries, global layers, last w rows only)
// and their attention over the whole cache is recomputed afterwards: w × n dot products per query
// head and layer, instead of asking the prefill for n × n probabilities.
#pragma once

#include <memory>

#include "eviction/capture.h"
#include "eviction/scorer.h"

namespace lkv {

class WindowAttentionScorer final : public Scorer {
 public:
  explicit WindowAttentionScorer(int window) : window_(window) {}

  AttentionObserver* prefill_observer(Transformer& transformer, const std::vector<int>& layers, int32_t begin,
                                      int32_t end) override;
  // A segment shorter than the window uses all of its rows as queries.
  void score(ScoreContext& ctx, HeadScores& out) override;

 private:
  int window_;
  std::unique_ptr<QueryCapture> capture_;
};

// Adds Σ_rows A[row, j] for the last `rows` captured rows of each of ctx.layers to out.
void add_captured_attention(const QueryCapture& capture, int rows, ScoreContext& ctx, HeadScores& out);

}  // namespace lkv
