// Internal to src/eviction: the per-policy factories registry.cpp dispatches to, and the option
// checks they share.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include "eviction/policy.h"
#include "eviction/types.h"

namespace lkv::detail {

// name, budget and ratio checked: exactly one of them, budget > 0, ratio in (0, 1].
PolicyParams base_params(const PolicyOptions& options);
// Rejects any option outside `allowed` (names as in PolicyOptions: window, kernel, pooling, sinks,
// beta, draft_length, prompt_queries, reduction, adapter).
void reject_unused(const PolicyOptions& options, std::initializer_list<std::string_view> allowed);
// The option if set (checked ≥ min_value), else the default.
int int_option(const std::optional<int>& value, int fallback, int min_value, const char* flag);
// Odd kernel ≥ 1.
int kernel_option(const std::optional<int>& value, int fallback);
// Protected tokens must leave room in an explicit budget.
void check_protected_below_budget(const PolicyParams& params, int protected_tokens, const char* what, const char* flag);

std::shared_ptr<const EvictionPolicy> make_full(const PolicyOptions& options);
std::shared_ptr<const EvictionPolicy> make_streamingllm(const PolicyOptions& options);
std::shared_ptr<const EvictionPolicy> make_h2o(const PolicyOptions& options);
std::shared_ptr<const EvictionPolicy> make_snapkv(const PolicyOptions& options);
std::shared_ptr<const EvictionPolicy> make_pyramidkv(const PolicyOptions& options);
std::shared_ptr<const EvictionPolicy> make_laq(const PolicyOptions& options, bool plus);
// Defined in src/lookahead/policy.cpp, next to the scorer it builds.
std::shared_ptr<const EvictionPolicy> make_lookaheadkv(const PolicyOptions& options);

}  // namespace lkv::detail
