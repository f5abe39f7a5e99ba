// full: no eviction, the reference every other policy is compared with.
#include "eviction/factory.h"

namespace lkv::detail {

std::shared_ptr<const EvictionPolicy> make_full(const PolicyOptions& options) {
  reject_unused(options, {});
  PolicyParams p;
  p.name = "full";
  // A budget or ratio is accepted and recorded but has no effect, so a sweep can pass the same
  // budgets to every policy; still reject values that would be errors elsewhere.
  if (options.budget || options.ratio) p = base_params(options);
  return std::make_shared<EvictionPolicy>(p, ScorerFactory{}, nullptr, ProtectionRule{}, std::vector<std::string>{});
}

}  // namespace lkv::detail
