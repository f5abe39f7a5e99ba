// LookaheadKV's training target and loss (DESIGN.md §6, Ground truth and Loss).
//
// Notation: n prompt cache entries of one evicted layer; s_h[j] = (1/m) Σ_i A_h[i, j], the mean
// attention of the m lookahead rows of query head h over entry j; s[j] the mean of s_h over the
// query heads that share one KV head; ŝ = s / Σ_j s[j] (the lookahead rows also attend to each
// other, so s sums to less than 1); g the ground truth of that KV head, summing to 1. The loss of
// one example is the mean over evicted layers and KV heads of
//   KL(g ‖ ŝ) = Σ_j g[j]·(log g[j] − log(ŝ[j] + ε)),  ε = kKlEpsilon,
// with 0·log 0 = 0. The ε keeps the loss finite when a score underflows. At 1e-8 it is far below
// any score that matters, since 1/n ≥ 3e-5 up to 32K entries.
#pragma once

#include <vector>

namespace lkv {

inline constexpr double kKlEpsilon = 1e-8;

// Ground truth of one training example: per evicted layer and KV head, a distribution over the
// layer's prompt cache entries.
struct ImportanceTarget {
  std::vector<int> layers;            // evicted layers, increasing
  int n_head_kv = 0;
  std::vector<int> n_entries;         // per listed layer: its prompt cache entries
  std::vector<std::vector<float>> g;  // [layers][n_head_kv × n_entries]; each row sums to 1

  // Throws lkv::Error naming the layer and head when sizes disagree, or a row is negative,
  // non-finite or does not sum to 1 within 1e-3.
  void validate() const;
};

// weight · Σ over the KV heads of one layer of KL(g ‖ ŝ). s_heads is [n_head × n], g is
// [n_head_kv × n]. When ds_heads is non-null, adds ∂(weight · Σ KL)/∂s_heads to it ([n_head × n]).
// Computed in double whatever T is.
template <typename T>
double layer_kl(const T* s_heads, const float* g, int n_head, int n_head_kv, int n, double weight, T* ds_heads);

}  // namespace lkv
