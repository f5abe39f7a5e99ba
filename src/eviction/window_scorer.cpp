#include "eviction/window_scorer.h"

#include <algorithm>

#include "util/error.h"
#include "util/timer.h"

namespace lkv {

void add_captured_attention(const QueryCapture& capture, int rows, ScoreContext& ctx, HeadScores& out) {
  std::vector<LayerQueries> queries;
  for (int l : ctx.layers) queries.push_back(capture.last_rows(l, rows));
  add_attention_columns(ctx.cache, queries, ctx.transformer.model().hparams.n_head, ctx.transformer.pool(), out);
}

AttentionObserver* WindowAttentionScorer::prefill_observer(Transformer& transformer, const std::vector<int>& layers,
                                                           int32_t begin, int32_t end) {
  capture_ = std::make_unique<QueryCapture>(transformer.model().hparams, layers, std::max(begin, end - window_), end);
  return capture_.get();
}

void WindowAttentionScorer::score(ScoreContext& ctx, HeadScores& out) {
  if (!capture_) fail("the observation-window scorer has no captured queries: attach its prefill observer first");
  Timer t;
  add_captured_attention(*capture_, window_, ctx, out);
  if (ctx.timings) ctx.timings->capture_ms += t.elapsed_ms();
}

}  // namespace lkv
