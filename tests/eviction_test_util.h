// Helpers for the eviction tests: cheap fake caches and random per-head scores, so the budget and
// selection arithmetic can be swept over thousands of shapes without a model.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "eviction/types.h"
#include "kvcache/kv_cache.h"

namespace lkv::test {

// A cache with n entries (positions first .. first+n−1) in every layer and random K/V. swa_every:
// when > 0, layers with index % swa_every != swa_every − 1 are sliding-window layers of `window`
// (Gemma 3's pattern for swa_every = 6).
inline KVCache fake_cache(int n_layer, int n_head_kv, int head_dim, int n, uint32_t seed = 1, int swa_every = 0,
                          int window = 0, int32_t first = 0) {
  KVCacheShape shape;
  shape.n_layer = n_layer;
  shape.n_head_kv = n_head_kv;
  shape.head_dim = head_dim;
  shape.sliding_window = swa_every > 0 ? window : 0;
  shape.layer_is_swa.assign(static_cast<size_t>(n_layer), false);
  if (swa_every > 0) {
    for (int l = 0; l < n_layer; ++l) shape.layer_is_swa[static_cast<size_t>(l)] = (l % swa_every) != swa_every - 1;
  }
  KVCache cache(shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t width = static_cast<size_t>(n_head_kv) * head_dim;
  std::vector<float> k(static_cast<size_t>(n) * width), v(k.size());
  std::vector<int32_t> pos(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = first + i;
  for (int l = 0; l < n_layer; ++l) {
    for (float& x : k) x = dist(rng);
    for (float& x : v) x = dist(rng);
    if (n > 0) cache.append(l, k.data(), v.data(), pos.data(), n);
    if (n > 0) cache.trim_window(l, pos.back());
  }
  return cache;
}

// Random per-query-head scores shaped for `layers` of the cache.
inline HeadScores random_scores(const KVCache& cache, const std::vector<int>& layers, int n_head, uint32_t seed) {
  HeadScores s;
  s.layers = layers;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (int l : layers) {
    std::vector<float> row(static_cast<size_t>(n_head) * cache.n_entries(l));
    for (float& x : row) x = dist(rng);
    s.layer_scores.push_back(std::move(row));
  }
  return s;
}

}  // namespace lkv::test
