// Selection: from per-KV-head scores, protected tokens and a layer budget to kept entry indices.
#pragma once

#include <cstdint>
#include <vector>

namespace lkv {

// Entries kept regardless of their scores: the first `sinks` and the last `recent` entries.
struct Protection {
  int sinks = 0;
  int recent = 0;
};

// Indices (increasing) of the entries one KV head keeps out of n, exactly min(budget, n) of them:
//  * budget ≥ n: every entry;
//  * protected entries first: the first `sinks`, then the last `recent`; when they outnumber the
//    budget, sinks win, then the most recent (this is how a --ratio budget smaller than the
//    observation window behaves, and a prompt shorter than the window);
//  * the rest of the budget goes to the highest scores among the unprotected entries, ties to the
//    later entry. scores (n values) may be null: the most recent unprotected entries are taken.
// budget must be ≥ 1.
std::vector<int32_t> select_entries(const float* scores, int n, int budget, Protection protection);

}  // namespace lkv
