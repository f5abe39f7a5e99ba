// streamingllm (Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks"):
// keep the first `sinks` tokens (default 4) and the most recent B − sinks. No scores are computed.
// Kept entries keep their original positions, like every policy here. The paper's re-rotation
// of keys to cache slots is not done.
#include "eviction/factory.h"

namespace lkv::detail {

std::shared_ptr<const EvictionPolicy> make_streamingllm(const PolicyOptions& options) {
  reject_unused(options, {"sinks"});
  PolicyParams p = base_params(options);
  p.sinks = int_option(options.sinks, 4, 0, "--sinks");
  check_protected_below_budget(p, p.sinks, "sink count", "--sinks");
  ProtectionRule protect;
  protect.sinks = p.sinks;
  protect.recent_kind = ProtectionRule::Recent::RestOfBudget;
  return std::make_shared<EvictionPolicy>(p, ScorerFactory{}, std::make_shared<UniformSchedule>(), protect,
                                          std::vector<std::string>{"sinks"});
}

}  // namespace lkv::detail
