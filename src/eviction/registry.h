// Policies by name, with their parameters validated.
//
// make_policy() fills each policy's published defaults, rejects contradictory or meaningless
// options with a message that names the value and the fix, and returns an immutable policy that
// any number of sessions may share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eviction/policy.h"
#include "eviction/types.h"

namespace lkv {

// Names make_policy() accepts: full, streamingllm, h2o, snapkv, pyramidkv, laq, laq++, lookaheadkv.
const std::vector<std::string>& policy_names();

// Builds the named policy. Throws lkv::Error for an unknown name (listing the valid ones), a
// missing or doubled budget, a budget ≤ 0, a ratio outside (0, 1], an option the policy does not
// use, or an even pooling kernel. Protected tokens that fill an explicit budget (window or sinks
// ≥ budget) are an error too. `full` accepts and ignores a budget or ratio, so sweeps can pass
// one budget list to every policy.
std::shared_ptr<const EvictionPolicy> make_policy(const PolicyOptions& options);

// Parses a policy with options in one word, for sweeps that list several variants:
// "NAME" or "NAME:KEY=VALUE:KEY=VALUE...", with the keys window, kernel, pooling, sinks, beta,
// draft-length, prompt-queries and reduction (as the generate flags without "--"). Example:
// "lookaheadkv:window=8:kernel=7". Throws lkv::Error naming the item for an unknown key or a
// malformed value. Budget, ratio and adapter are not part of a spec.
PolicyOptions parse_policy_spec(const std::string& spec);

}  // namespace lkv
