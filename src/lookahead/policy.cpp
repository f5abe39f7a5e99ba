#include "lookahead/policy.h"

#include "eviction/factory.h"
#include "lookahead/adapter.h"
#include "lookahead/scoring.h"
#include "util/error.h"

namespace lkv {

void load_policy_adapter(PolicyOptions& options, const Model& model, bool check_fingerprint) {
  if (options.adapter || options.adapter_path.empty()) return;
  options.adapter = std::make_shared<const LookaheadAdapter>(
      LookaheadAdapter::load_for(options.adapter_path, model, check_fingerprint));
}

namespace detail {

std::shared_ptr<const EvictionPolicy> make_lookaheadkv(const PolicyOptions& options) {
  reject_unused(options, {"window", "kernel", "pooling", "reduction", "adapter"});
  if (!options.adapter) {
    if (options.adapter_path.empty()) {
      fail("policy lookaheadkv needs a trained module: pass --adapter FILE (the shipped ones are in adapters/)");
    }
    fail("adapter {} was not loaded: call load_policy_adapter() before make_policy()", options.adapter_path);
  }
  PolicyParams p = base_params(options);
  p.window = int_option(options.window, 0, 0, "--window");
  p.kernel = kernel_option(options.kernel, 1);
  p.pooling = options.pooling.value_or(p.kernel > 1 ? Pooling::Max : Pooling::None);
  p.reduction = options.reduction.value_or(Reduction::Mean);
  p.adapter = options.adapter_path.empty() ? std::string("(in memory)") : options.adapter_path;
  check_protected_below_budget(p, p.window, "protected recent window", "--window");
  ProtectionRule protect;
  protect.recent = p.window;
  std::shared_ptr<const LookaheadAdapter> adapter = options.adapter;
  return std::make_shared<EvictionPolicy>(p, [adapter] { return std::make_unique<LookaheadScorer>(adapter); },
                                          std::make_shared<UniformSchedule>(), protect,
                                          std::vector<std::string>{"window", "kernel", "pooling", "reduction", "adapter"});
}

}  // namespace detail
}  // namespace lkv
