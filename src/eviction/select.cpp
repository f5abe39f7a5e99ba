#include "eviction/select.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace lkv {

std::vector<int32_t> select_entries(const float* scores, int n, int budget, Protection protection) {
  LKV_CHECK(budget >= 1 && n >= 0 && protection.sinks >= 0 && protection.recent >= 0);
  std::vector<int32_t> kept;
  if (budget >= n) {
    kept.resize(static_cast<size_t>(n));
    std::iota(kept.begin(), kept.end(), 0);
    return kept;
  }

  const int sinks = std::min(protection.sinks, budget);
  const int recent = std::min(protection.recent, budget - sinks);  // budget < n, so these fit
  const int cand_begin = sinks;
  const int cand_end = n - recent;
  const int free = budget - sinks - recent;
  kept.reserve(static_cast<size_t>(budget));
  for (int j = 0; j < sinks; ++j) kept.push_back(j);

  if (free > 0) {
    std::vector<int32_t> cand(static_cast<size_t>(cand_end - cand_begin));
    std::iota(cand.begin(), cand.end(), cand_begin);
    if (scores) {
      // Higher score first; ties to the later entry, so the order is total and deterministic.
      auto better = [scores](int32_t a, int32_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a > b); };
      std::nth_element(cand.begin(), cand.begin() + (free - 1), cand.end(), better);
      cand.resize(static_cast<size_t>(free));
      std::sort(cand.begin(), cand.end());
    } else {
      cand.erase(cand.begin(), cand.end() - free);
    }
    kept.insert(kept.end(), cand.begin(), cand.end());
  }

  for (int j = cand_end; j < n; ++j) kept.push_back(j);
  LKV_CHECK(static_cast<int>(kept.size()) == budget);
  return kept;
}

}  // namespace lkv
