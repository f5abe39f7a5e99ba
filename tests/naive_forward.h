// A deliberately plain forward pass in double precision, the independent reference for the
// engine's transformer in the synthetic-model tests.
//
// It implements each architecture's rules directly (listed in naive_forward.cpp) and shares no code
// with src/model. It reads the metadata keys and tensors itself, dequantizes every weight once to
// double, and computes the whole sequence with full causal attention, plus the sliding-window mask
// in Gemma's local layers. Only the GGUF reader and the scalar dequantizers from src/tensor are
// reused, and they have tests of their own.
// Non-goals: speed (every position attends with a plain loop), batching, KV caches, eviction.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/reader.h"

namespace lkv::test {

// Deliberate departures from the architecture. The tests use them to show that a comparison with
// the engine would notice each kind of mistake (a reference that cannot tell the variants apart
// would prove nothing about them).
struct NaiveMutation {
  bool ignore_sliding_window = false;  // every layer attends to the whole prefix
  bool swap_rope_pairing = false;      // NORM pairs for NEOX models and the reverse
  bool global_rope_base_everywhere = false;  // Gemma's local layers use the file's base, not 10000
};

struct NaiveLogits {
  int n_vocab = 0;
  std::vector<double> values;  // [n_tokens × n_vocab]: row t contains the logits after token t

  const double* row(size_t t) const { return values.data() + t * static_cast<size_t>(n_vocab); }
};

// Runs tokens at positions 0 .. n-1 and returns the logits of every position. Throws lkv::Error for
// an unsupported architecture or a missing tensor.
NaiveLogits naive_forward(const gguf::File& file, const std::vector<int32_t>& tokens, const NaiveMutation& mutation = {});

}  // namespace lkv::test
