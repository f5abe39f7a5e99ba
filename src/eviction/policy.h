// An eviction policy: a scorer composed with a budget schedule, protected tokens, pooling and the
// GQA reduction. Policies differ only in how they are put together. Each one is built in its own
// file (full.cpp, streamingllm.cpp, h2o.cpp, snapkv.cpp, pyramidkv.cpp, laq.cpp) and found by
// name through registry.h.
//
// One eviction step: score (per query head) → pool along the prompt, over the unprotected entries
// → reduce over each KV head's query group → per-layer budgets from the schedule → select per KV
// head → one KVCache::compact. Only global layers are evicted; sliding-window layers keep their
// window. A layer whose budget reaches its entry count is left whole, so a budget at or above the
// prompt length changes nothing (bit-identical to `full`).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eviction/budget.h"
#include "eviction/scorer.h"
#include "eviction/select.h"
#include "eviction/types.h"

namespace lkv {

// Protected-token rule for a layer budget b: the first `sinks` entries, plus the most recent
// `recent` (Fixed), b/2 (HalfBudget, H2O's recent half) or b − sinks (RestOfBudget, StreamingLLM).
struct ProtectionRule {
  enum class Recent { Fixed, HalfBudget, RestOfBudget };
  int sinks = 0;
  Recent recent_kind = Recent::Fixed;
  int recent = 0;

  Protection at(int layer_budget) const;
};

using ScorerFactory = std::function<std::unique_ptr<Scorer>()>;

class EvictionPolicy {
 public:
  // scorer may be empty (no scores: protection fills the budget, as in StreamingLLM); schedule
  // null means the policy never evicts (full).
  EvictionPolicy(PolicyParams params, ScorerFactory scorer, std::shared_ptr<const BudgetSchedule> schedule,
                 ProtectionRule protection, std::vector<std::string> used_options);

  const std::string& name() const { return params_.name; }
  const PolicyParams& params() const { return params_; }
  bool evicts() const { return schedule_ != nullptr; }
  const BudgetSchedule* schedule() const { return schedule_.get(); }
  const ProtectionRule& protection() const { return protection_; }

  // The policy's name, budget or ratio, schedule and the parameters it uses, for --json output and
  // eval config files.
  nlohmann::json params_json() const;

  // A fresh scorer for one request; nullptr when the policy needs no scores.
  std::unique_ptr<Scorer> make_scorer() const;

  // The layers a policy evicts in this cache: every layer that is not a sliding-window layer.
  static std::vector<int> evicted_layers(const KVCache& cache);

  // The uniform budget for a cache that has seen n_tokens tokens.
  int budget_for(int n_tokens) const;

  // Per-layer budgets for `layers` of this cache (schedule applied to the current entry counts).
  std::vector<int> layer_budgets(const KVCache& cache, const std::vector<int>& layers, int budget) const;

  // Pooling, GQA reduction and selection: kept indices for compact(). head_scores may be null for
  // policies without a scorer; its rows are pooled in place. Layers within budget stay empty.
  KeptIndices select(const KVCache& cache, const std::vector<int>& layers, int budget, HeadScores* head_scores,
                     EvictionTimings* timings = nullptr) const;

  // The whole step on ctx.cache: score with `scorer` (from make_scorer(), fed by its prefill
  // observer), select, compact. On an error the cache is unchanged. Fills the report, timings
  // included.
  EvictionReport evict(Scorer* scorer, ScoreContext& ctx) const;

 private:
  PolicyParams params_;
  ScorerFactory scorer_factory_;
  std::shared_ptr<const BudgetSchedule> schedule_;
  ProtectionRule protection_;
  std::vector<std::string> used_options_;
};

}  // namespace lkv
