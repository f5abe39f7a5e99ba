// h2o (Zhang et al. 2023, "H2O: Heavy-Hitter Oracle"): score_j = Σ_i A[i, j] over every prompt
// query, accumulated during prefill from the forward pass's own probabilities (ColumnSumCapture,
// per-thread accumulators, no n × n matrix); keep the most recent B/2 entries and the top B − B/2
// of the rest. --window sets a fixed recent count instead of B/2. The prefill time of an H2O run
// includes the accumulation, which is its capture cost.
//
// In a later turn of a conversation the sums cover that turn's queries only: entries kept from an
// earlier turn lost their earlier sums when that turn was compacted.
#include "eviction/capture.h"
#include "eviction/factory.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv {

namespace {

class ColumnSumScorer final : public Scorer {
 public:
  AttentionObserver* prefill_observer(Transformer& transformer, const std::vector<int>& layers, int32_t begin,
                                      int32_t end) override {
    // The pool is the one the forward pass runs on, so its thread ids index the accumulators.
    capture_ = std::make_unique<ColumnSumCapture>(transformer.model().hparams, layers,
                                                  transformer.pool().size());
    return capture_.get();
  }

  void score(ScoreContext& ctx, HeadScores& out) override {
    if (!capture_) fail("the H2O scorer has no accumulated attention: attach its prefill observer first");
    Timer t;
    capture_->merge_into(ctx.cache, out);
    if (ctx.timings) ctx.timings->capture_ms += t.elapsed_ms();
  }

 private:
  std::unique_ptr<ColumnSumCapture> capture_;
};

}  // namespace

namespace detail {

std::shared_ptr<const EvictionPolicy> make_h2o(const PolicyOptions& options) {
  reject_unused(options, {"window", "kernel", "pooling", "reduction"});
  PolicyParams p = base_params(options);
  p.pooling = options.pooling.value_or(Pooling::None);
  p.kernel = kernel_option(options.kernel, p.pooling == Pooling::None ? 1 : 7);
  p.reduction = options.reduction.value_or(Reduction::Mean);
  ProtectionRule protect;
  std::vector<std::string> used = {"pooling", "kernel", "reduction"};
  if (options.window) {
    p.window = int_option(options.window, 0, 0, "--window");
    check_protected_below_budget(p, p.window, "recent window", "--window");
    protect.recent = p.window;
    used.push_back("window");
  } else {
    protect.recent_kind = ProtectionRule::Recent::HalfBudget;
  }
  return std::make_shared<EvictionPolicy>(p, [] { return std::make_unique<ColumnSumScorer>(); },
                                          std::make_shared<UniformSchedule>(), protect, used);
}

}  // namespace detail
}  // namespace lkv
