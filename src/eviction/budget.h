// Budgets: from --budget / --ratio to entries kept per layer.
//
// The uniform budget B is entries kept per KV head in every evicted layer, protected tokens
// included. A schedule spreads L·B entries over the evicted layers: uniformly, or PyramidKV's
// linear fall with depth. Schedules know nothing about scores, so any scorer composes with any
// schedule.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eviction/types.h"

namespace lkv {

// B for a cache that has seen n_tokens tokens: the explicit budget, or round(ratio · n_tokens) with
// at least 1. Throws lkv::Error when neither or both are set.
int resolve_budget(const std::optional<int>& budget, const std::optional<double>& ratio, int n_tokens);

class BudgetSchedule {
 public:
  virtual ~BudgetSchedule() = default;
  virtual std::string name() const = 0;
  // Budgets for n_layers evicted layers in depth order (first = closest to the input), given the
  // uniform budget and the fewest entries any of those layers holds. The sum is n_layers · budget.
  // A layer whose budget reaches its entry count is left whole by the selection.
  virtual std::vector<int> layer_budgets(int budget, int min_entries, int n_layers) const = 0;
};

class UniformSchedule final : public BudgetSchedule {
 public:
  std::string name() const override { return "uniform"; }
  std::vector<int> layer_budgets(int budget, int min_entries, int n_layers) const override;
};

// PyramidKV (Cai et al. 2024): with window w, the first evicted layer gets w + 2(B−w) − (B−w)/β,
// the last w + (B−w)/β, linear in between, so the total equals the uniform one. Rounding keeps the
// exact total (largest remainders). Falls back to uniform when the first layer's budget would
// exceed the entries held (the prompt is too short for a pyramid) or B ≤ w.
class PyramidSchedule final : public BudgetSchedule {
 public:
  PyramidSchedule(int window, double beta);
  std::string name() const override { return "pyramid"; }
  std::vector<int> layer_budgets(int budget, int min_entries, int n_layers) const override;
  // Whether layer_budgets falls back to uniform for these arguments.
  bool falls_back(int budget, int min_entries, int n_layers) const;

 private:
  int window_;
  double beta_;
};

}  // namespace lkv
