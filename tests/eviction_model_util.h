// Helpers for eviction tests on real models: one prefill that feeds several policies' captures,
// and an observer that masks cache entries out of attention.
#pragma once

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eviction/registry.h"
#include "lookahead/adapter.h"
#include "model/fanout_observer.h"
#include "model/forward_hooks.h"
#include "model/transformer.h"
#include "model_test_util.h"

namespace lkv::test {

using ::lkv::FanoutObserver;

// Hides chosen entries of chosen layers and KV heads from attention; entries past the end of a
// mask (appended later, e.g. decoded tokens) stay visible.
class MaskObserver final : public AttentionObserver {
 public:
  MaskObserver(int n_layer, int n_head_kv) : n_head_kv_(n_head_kv), masks_(static_cast<size_t>(n_layer * n_head_kv)) {}
  std::vector<uint8_t>& mask(int layer, int kv_head) { return masks_[static_cast<size_t>(layer * n_head_kv_ + kv_head)]; }
  const uint8_t* entry_mask(int layer, int kv_head, int n_entries) override {
    std::vector<uint8_t>& m = mask(layer, kv_head);
    if (m.empty()) return nullptr;
    if (static_cast<int>(m.size()) < n_entries) m.resize(static_cast<size_t>(n_entries), 1);
    return m.data();
  }

 private:
  int n_head_kv_;
  std::vector<std::vector<uint8_t>> masks_;
};

inline std::string opticks_text() {
  std::ifstream in(source_path("data/opticks_opening.txt"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// lookaheadkv gets a freshly initialized module for `model` (seed 1), which the invariants hold for
// as well as for a trained one.
inline std::shared_ptr<const EvictionPolicy> policy_named(const std::string& name, int budget,
                                                          const Model* model = nullptr) {
  PolicyOptions o;
  o.name = name;
  o.budget = budget;
  if (name == "lookaheadkv" && model) {
    o.adapter = std::make_shared<const LookaheadAdapter>(LookaheadAdapter::create(*model, LookaheadConfig{}, 1));
  }
  return make_policy(o);
}

}  // namespace lkv::test
