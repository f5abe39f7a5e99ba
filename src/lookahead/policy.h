// The `lookaheadkv` eviction policy (DESIGN.md §6): the LookaheadScorer's scores, a uniform
// budget, and top-B selection per KV head. Pooling and a protected recent window are options that
// stay off by default (kernel 1, window 0) until an evaluation shows that they help.
#pragma once

#include "eviction/types.h"
#include "model/model.h"

namespace lkv {

// Loads options.adapter_path (when set and no adapter is attached yet) and checks it against the
// model: same architecture, sizes and base file fingerprint unless check_fingerprint is false.
// Throws lkv::Error naming the file and the mismatch.
void load_policy_adapter(PolicyOptions& options, const Model& model, bool check_fingerprint = true);

}  // namespace lkv
