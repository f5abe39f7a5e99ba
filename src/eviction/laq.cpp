// laq and laq++ (Wang et al. 2025, "Lookahead Q-Cache: Achieving More Consistent KV Eviction via
// Pseudo Query"), the draft-based baseline:
//  1. SnapKV-compress a copy of the cache to the budget B (window min(32, B − 1), the policy's
//     kernel and pooling); only the kept entries are copied (KVCache::compacted_copy);
//  2. greedily decode d = 8 draft tokens on the copy, starting from the full cache's first token
//     (the argmax of the prefill's last logits), recording every draft row's queries in every
//     evicted layer;
//  3. score the full cache: Σ A[i, j] over the draft queries (laq++ adds the last 8 prompt
//     queries), pooling kernel 7 (max), keep the last 8 prompt tokens and the top B − 8 of the rest;
//  4. drop the copy and the draft.
// The timings put steps 1–2 under draft_ms and step 3's attention under capture_ms.
//
// Naming: the LAQ paper scores with the draft (pseudo) queries alone and calls the variant that
// also uses the last prompt queries LAQ++. Here `laq` is the draft-only scoring and `laq++` adds
// the last 8 prompt queries (--prompt-queries). The project's design notes describe a single
// `laq` with the prompt queries included, which is what `laq++` runs.
// Draft queries attend to the prompt entries only: the draft's own keys are not in the full cache.
#include <algorithm>

#include "eviction/factory.h"
#include "eviction/window_scorer.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv {

namespace {

constexpr int kDraftSnapWindow = 32;

// Greedy choice, ties to the lowest id (as the engine's sampler; engine/ sits above eviction/).
int32_t greedy_token(const float* logits, int n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

class DraftScorer final : public Scorer {
 public:
  DraftScorer(PolicyParams params) : params_(std::move(params)) {}

  AttentionObserver* prefill_observer(Transformer& transformer, const std::vector<int>& layers, int32_t begin,
                                      int32_t end) override {
    const int rows = std::max(kDraftSnapWindow, params_.prompt_queries);
    capture_ = std::make_unique<QueryCapture>(transformer.model().hparams, layers, std::max(begin, end - rows), end);
    return capture_.get();
  }

  void score(ScoreContext& ctx, HeadScores& out) override {
    if (!capture_) fail("the LAQ scorer has no captured prompt queries: attach its prefill observer first");
    if (!ctx.last_logits || ctx.last_logits->empty()) fail("LAQ needs the prefill's last logits to start its draft");
    const HParams& hp = ctx.transformer.model().hparams;
    Timer t;

    // 1. The compressed copy, selected exactly as snapkv would at this budget.
    const int snap_window = std::clamp(ctx.budget - 1, 1, kDraftSnapWindow);
    PolicyParams snap = params_;
    snap.name = "snapkv (LAQ draft copy)";
    snap.window = snap_window;
    ProtectionRule protect;
    protect.recent = snap_window;
    const EvictionPolicy snap_policy(snap, ScorerFactory{}, std::make_shared<UniformSchedule>(), protect, {});
    HeadScores snap_scores;
    snap_scores.layers = ctx.layers;
    for (int l : ctx.layers) snap_scores.layer_scores.emplace_back(static_cast<size_t>(hp.n_head) * ctx.cache.n_entries(l), 0.0f);
    add_captured_attention(*capture_, snap_window, ctx, snap_scores);
    KVCache draft_cache = ctx.cache.compacted_copy(snap_policy.select(ctx.cache, ctx.layers, ctx.budget, &snap_scores));

    // 2. The greedy draft on the copy.
    const int32_t first = ctx.cache.next_position();
    QueryCapture draft_queries(hp, ctx.layers, first, first + params_.draft_length);
    int32_t token = greedy_token(ctx.last_logits->data(), hp.n_vocab);
    std::vector<float> logits;
    for (int i = 0; i < params_.draft_length; ++i) {
      Batch batch = Batch::from_tokens({token}, first + i);
      const bool last = i + 1 == params_.draft_length;
      if (last) batch.logit_rows.clear();  // the last draft row is needed for its queries only
      ctx.transformer.forward(batch, draft_cache, last ? nullptr : &logits, &draft_queries);
      if (!last) token = greedy_token(logits.data(), hp.n_vocab);
    }
    if (ctx.timings) ctx.timings->draft_ms += t.elapsed_ms();

    // 3. Draft (and for laq++ the last prompt) queries over the full cache.
    t.reset();
    add_captured_attention(draft_queries, params_.draft_length, ctx, out);
    if (params_.prompt_queries > 0) add_captured_attention(*capture_, params_.prompt_queries, ctx, out);
    if (ctx.timings) ctx.timings->capture_ms += t.elapsed_ms();
  }

 private:
  PolicyParams params_;
  std::unique_ptr<QueryCapture> capture_;
};

}  // namespace

namespace detail {

std::shared_ptr<const EvictionPolicy> make_laq(const PolicyOptions& options, bool plus) {
  if (plus) {
    reject_unused(options, {"window", "kernel", "pooling", "reduction", "draft_length", "prompt_queries"});
  } else {
    reject_unused(options, {"window", "kernel", "pooling", "reduction", "draft_length"});
  }
  PolicyParams p = base_params(options);
  p.window = int_option(options.window, 8, 0, "--window");
  p.pooling = options.pooling.value_or(Pooling::Max);
  p.kernel = kernel_option(options.kernel, 7);
  p.reduction = options.reduction.value_or(Reduction::Mean);
  p.draft_length = int_option(options.draft_length, 8, 1, "--draft-length");
  if (p.draft_length > 256) fail("--draft-length {} is too long: LAQ drafts a few tokens (default 8, at most 256)", p.draft_length);
  p.prompt_queries = plus ? int_option(options.prompt_queries, 8, 1, "--prompt-queries") : 0;
  check_protected_below_budget(p, p.window, "protected recent window", "--window");
  ProtectionRule protect;
  protect.recent = p.window;
  std::vector<std::string> used = {"window", "kernel", "pooling", "reduction", "draft_length"};
  if (plus) used.push_back("prompt_queries");
  return std::make_shared<EvictionPolicy>(p, [p] { return std::make_unique<DraftScorer>(p); },
                                          std::make_shared<UniformSchedule>(), protect, used);
}

}  // namespace detail
}  // namespace lkv
