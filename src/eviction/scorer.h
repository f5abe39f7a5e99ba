// The scorer interface: how a policy turns a prefilled cache into per-entry importance.
//
// A scorer instance serves one request: the session asks it for a prefill observer before the
// prompt is prefilled, then calls score() once the whole prompt is in the cache. Scorers differ
// only in how they score (window attention, accumulated column sums, draft queries, and later
// LookaheadKV's learned rows); budgets, protected tokens, pooling, GQA reduction and selection
// are the policy's (policy.h), shared by all of them.
#pragma once

#include <cstdint>
#include <vector>

#include "eviction/types.h"
#include "kvcache/kv_cache.h"
#include "model/forward_hooks.h"
#include "model/transformer.h"

namespace lkv {

// What a scorer may use once the prompt is prefilled.
struct ScoreContext {
  Transformer& transformer;
  KVCache& cache;
  std::vector<int> layers;                          // evicted layers, increasing
  int32_t segment_begin = 0;                        // positions of the newest prefilled segment
  int32_t segment_end = 0;                          // (the prompt, or the latest turn)
  const std::vector<float>* last_logits = nullptr;  // logits of the segment's last row
  int budget = 0;                                   // the resolved uniform budget
  EvictionTimings* timings = nullptr;               // scorers add capture and draft time here
};

class Scorer {
 public:
  virtual ~Scorer() = default;

  // Observer to attach to the prefill of positions [begin, end) into a cache of `transformer`'s
  // model; nullptr when nothing needs capturing. Owned by the scorer and valid until the next call.
  virtual AttentionObserver* prefill_observer(Transformer& transformer, const std::vector<int>& layers,
                                              int32_t begin, int32_t end) {
    return nullptr;
  }

  // Adds per-query-head scores to `out`, which arrives shaped for ctx.layers (n_head × n_entries
  // zeros per layer). A scorer may run extra forward rows on ctx.transformer: on ctx.cache as long
  // as it drops them again with truncate_from (LookaheadKV's lookahead rows), or on a copy (LAQ's
  // draft). It must leave ctx.cache as it found it and must not consume what it captured, so one
  // prefill can be scored at several budgets (the benchmark does this).
  virtual void score(ScoreContext& ctx, HeadScores& out) = 0;
};

}  // namespace lkv
