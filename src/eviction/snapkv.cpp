// snapkv (Li et al. 2024, "SnapKV: LLM Knows What You Are Looking for Before Generation"):
// observation window w = 32 (the last w prompt queries); score_j = Σ over the window of A[i, j];
// 1-D pooling with kernel 7 (max by default) over the entries before the window; keep the window
// plus the top B − w of the rest. Window, kernel, pooling and the GQA reduction are options.
#include "eviction/factory.h"
#include "eviction/window_scorer.h"

namespace lkv::detail {

std::shared_ptr<const EvictionPolicy> make_snapkv(const PolicyOptions& options) {
  reject_unused(options, {"window", "kernel", "pooling", "reduction"});
  PolicyParams p = base_params(options);
  p.window = int_option(options.window, 32, 1, "--window");
  p.pooling = options.pooling.value_or(Pooling::Max);
  p.kernel = kernel_option(options.kernel, 7);
  p.reduction = options.reduction.value_or(Reduction::Mean);
  check_protected_below_budget(p, p.window, "observation window", "--window");
  ProtectionRule protect;
  protect.recent = p.window;
  const int window = p.window;
  return std::make_shared<EvictionPolicy>(p, [window] { return std::make_unique<WindowAttentionScorer>(window); },
                                          std::make_shared<UniformSchedule>(), protect,
                                          std::vector<std::string>{"window", "kernel", "pooling", "reduction"});
}

}  // namespace lkv::detail
