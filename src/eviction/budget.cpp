#include "eviction/budget.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace lkv {

int resolve_budget(const std::optional<int>& budget, const std::optional<double>& ratio, int n_tokens) {
  if (budget && ratio) fail("both a budget ({}) and a ratio ({}) were given; use one of them", *budget, *ratio);
  if (budget) return *budget;
  if (!ratio) fail("no budget: give --budget N (entries per KV head) or --ratio R (kept fraction in (0, 1])");
  const double b = std::round(*ratio * static_cast<double>(n_tokens));
  return std::max(1, static_cast<int>(std::min(b, static_cast<double>(n_tokens))));
}

std::vector<int> UniformSchedule::layer_budgets(int budget, int /*min_entries*/, int n_layers) const {
  return std::vector<int>(static_cast<size_t>(std::max(0, n_layers)), budget);
}

PyramidSchedule::PyramidSchedule(int window, double beta) : window_(window), beta_(beta) {
  LKV_CHECK(window >= 0 && beta >= 1.0);
}

bool PyramidSchedule::falls_back(int budget, int min_entries, int n_layers) const {
  if (n_layers <= 1 || budget <= window_) return true;
  const double rest = static_cast<double>(budget - window_);
  const double bottom = window_ + 2.0 * rest - rest / beta_;
  return std::ceil(bottom) > static_cast<double>(min_entries);
}

std::vector<int> PyramidSchedule::layer_budgets(int budget, int min_entries, int n_layers) const {
  if (falls_back(budget, min_entries, n_layers)) return UniformSchedule().layer_budgets(budget, min_entries, n_layers);
  const double rest = static_cast<double>(budget - window_);
  const double top = rest / beta_;
  const double bottom = 2.0 * rest - top;
  const double step = (bottom - top) / static_cast<double>(n_layers - 1);
  // Real-valued shares above the window sum to n_layers · rest; floor them and hand the missing
  // units to the largest remainders (earlier layers first on ties) to keep the total exact.
  std::vector<double> share(static_cast<size_t>(n_layers));
  std::vector<int> out(static_cast<size_t>(n_layers));
  int64_t assigned = 0;
  for (int k = 0; k < n_layers; ++k) {
    share[static_cast<size_t>(k)] = bottom - step * k;
    out[static_cast<size_t>(k)] = static_cast<int>(std::floor(share[static_cast<size_t>(k)]));
    assigned += out[static_cast<size_t>(k)];
  }
  const int64_t target = static_cast<int64_t>(n_layers) * (budget - window_);
  std::vector<int> order(static_cast<size_t>(n_layers));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return share[static_cast<size_t>(a)] - out[static_cast<size_t>(a)] > share[static_cast<size_t>(b)] - out[static_cast<size_t>(b)];
  });
  for (int64_t missing = target - assigned, i = 0; missing > 0; --missing, ++i) ++out[static_cast<size_t>(order[static_cast<size_t>(i % n_layers)])];
  for (int& b : out) b += window_;
  return out;
}

}  // namespace lkv
