// Shared fixtures for the LookaheadKV tests: tiny synthetic models with a prefilled prompt cache, a
// lookahead module whose LoRA B matrices are non-zero (a fresh module has B = 0, which would leave
// every A gradient at zero and hide mistakes in it), and a random ground truth.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lookahead/adapter.h"
#include "lookahead/loss.h"
#include "lookahead/rng.h"
#include "model/model.h"
#include "model/transformer.h"
#include "synthetic_model.h"

namespace lkv::test {

struct TinyModel {
  std::unique_ptr<TempFile> file;
  std::unique_ptr<Model> model;
};

// Writes and loads a synthetic model; `edit` may change it before it is written.
inline TinyModel tiny_model(const std::string& arch, GgmlType type, const std::string& tag,
                            const std::function<void(SyntheticModel&)>& edit = {}) {
  SyntheticModel synthetic(synthetic_spec(arch, type));
  if (edit) edit(synthetic);
  TinyModel t;
  t.file = std::make_unique<TempFile>("lookahead_" + tag + "_" + arch + "_" + type_name(static_cast<uint32_t>(type)) + ".gguf");
  synthetic.write(t.file->path());
  t.model = Model::load(t.file->path());
  return t;
}

// Deterministic prompt tokens in [0, n_vocab).
inline std::vector<int32_t> prompt_tokens(int n, int n_vocab, uint64_t seed = 99) {
  Rng rng(seed);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.below(static_cast<uint64_t>(n_vocab)));
  return tokens;
}

// Prefills `tokens` into a fresh cache, in chunks of `chunk` rows.
inline KVCache prefill(const Model& model, const std::vector<int32_t>& tokens, bool exact, int chunk = 1 << 30,
                       int n_threads = 1) {
  Transformer t(model, n_threads);
  t.set_exact_math(exact);
  KVCache cache = t.make_cache();
  std::vector<float> logits;
  for (size_t begin = 0; begin < tokens.size(); begin += static_cast<size_t>(chunk)) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(chunk));
    Batch b = Batch::from_tokens(std::vector<int32_t>(tokens.begin() + static_cast<std::ptrdiff_t>(begin),
                                                      tokens.begin() + static_cast<std::ptrdiff_t>(end)),
                                 static_cast<int32_t>(begin));
    t.forward(b, cache, &logits);
  }
  return cache;
}

// A module with every LoRA B filled with values of about b_scale / sqrt(rank), so the adapter
// changes the lookahead rows noticeably and every LoRA matrix has a gradient.
inline LookaheadAdapter random_adapter(const Model& model, const LookaheadConfig& config, uint64_t seed,
                                       float b_scale = 0.5f) {
  LookaheadAdapter a = LookaheadAdapter::create(model, config, seed);
  Rng rng(seed + 1000);
  const float bound = b_scale / std::sqrt(static_cast<float>(config.rank));
  for (auto& layer : a.lora.layers) {
    for (LoraMatrix& mat : layer) {
      for (float& v : mat.b) v = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
    }
  }
  return a;
}

// Ground truth for the evicted (global) layers of `cache`: random positive weights, normalized.
inline ImportanceTarget random_target(const KVCache& cache, uint64_t seed) {
  ImportanceTarget t;
  t.n_head_kv = cache.shape().n_head_kv;
  Rng rng(seed);
  for (int il = 0; il < cache.shape().n_layer; ++il) {
    if (cache.is_swa(il)) continue;
    const int n = cache.n_entries(il);
    t.layers.push_back(il);
    t.n_entries.push_back(n);
    std::vector<float> g(static_cast<size_t>(t.n_head_kv) * n);
    for (int h = 0; h < t.n_head_kv; ++h) {
      double sum = 0.0;
      for (int j = 0; j < n; ++j) sum += (g[static_cast<size_t>(h) * n + j] = static_cast<float>(0.05 + rng.uniform()));
      for (int j = 0; j < n; ++j) g[static_cast<size_t>(h) * n + j] = static_cast<float>(g[static_cast<size_t>(h) * n + j] / sum);
    }
    t.g.push_back(std::move(g));
  }
  return t;
}

inline const std::vector<std::string>& all_archs() {
  static const std::vector<std::string> archs = {"gemma3", "llama", "qwen2", "qwen3"};
  return archs;
}

}  // namespace lkv::test
