// pyramidkv (Cai et al. 2024, "PyramidKV: Dynamic KV Cache Compression based on Pyramidal
// Information Funneling"): SnapKV's scores and protected window, with per-layer budgets falling
// linearly with depth over the evicted layers (PyramidSchedule, β = 20); uniform when the prompt
// is too short for the pyramid.
#include "eviction/factory.h"
#include "eviction/window_scorer.h"
#include "util/error.h"

namespace lkv::detail {

std::shared_ptr<const EvictionPolicy> make_pyramidkv(const PolicyOptions& options) {
  reject_unused(options, {"window", "kernel", "pooling", "reduction", "beta"});
  PolicyParams p = base_params(options);
  p.window = int_option(options.window, 32, 1, "--window");
  p.pooling = options.pooling.value_or(Pooling::Max);
  p.kernel = kernel_option(options.kernel, 7);
  p.reduction = options.reduction.value_or(Reduction::Mean);
  p.beta = options.beta.value_or(20.0);
  if (!(p.beta >= 1.0)) fail("--beta {} is invalid: PyramidKV's slope parameter must be at least 1", p.beta);
  check_protected_below_budget(p, p.window, "observation window", "--window");
  ProtectionRule protect;
  protect.recent = p.window;
  const int window = p.window;
  return std::make_shared<EvictionPolicy>(p, [window] { return std::make_unique<WindowAttentionScorer>(window); },
                                          std::make_shared<PyramidSchedule>(p.window, p.beta), protect,
                                          std::vector<std::string>{"window", "kernel", "pooling", "reduction", "beta"});
}

}  // namespace lkv::detail
