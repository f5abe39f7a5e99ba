// The forward pass of a decoder-only transformer over a batch of rows.
//
// One call runs m rows (a prefill chunk, one decode token, or rows of input embeddings such as
// lookahead tokens) through every layer, appends their keys and values to the KV cache and
// returns logits for the requested rows. Attention of each row covers the cache entries at
// positions up to its own (and, in sliding-window layers, within the window).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "kvcache/kv_cache.h"
#include "model/forward_hooks.h"
#include "model/model.h"
#include "tensor/thread_pool.h"

namespace lkv {

// The linear projections of a transformer block, in the order LoRA adapters index them.
enum class Projection : int { Q = 0, K, V, O, Gate, Up, Down };
inline constexpr int kProjectionCount = 7;

// LoRA (Hu et al. 2021) on some projections of every layer: y = W·x + scale·B·(A·x), with
// scale = alpha / rank. It acts only on the rows of batches that carry it (LookaheadKV's lookahead
// rows). The adapter loader (src/lookahead/adapter.h) checks shapes against the model; the
// forward pass checks them again as an invariant.
struct LoraMatrix {
  std::vector<float> a;  // [rank × n_in], row-major; empty: the projection is not adapted
  std::vector<float> b;  // [n_out × rank], row-major
  bool empty() const { return a.empty(); }
};

struct LoraWeights {
  int rank = 0;
  float scale = 0.0f;                                            // alpha / rank
  std::vector<std::array<LoraMatrix, kProjectionCount>> layers;  // [n_layer][projection]
};

struct Batch {
  std::vector<int32_t> tokens;         // m token ids, or empty when `embeddings` is used
  const float* embeddings = nullptr;   // m rows of n_embd input hidden states (already scaled)
  int n_rows = 0;                      // m
  std::vector<int32_t> positions;      // m increasing positions above the cache's last one
  std::vector<int32_t> logit_rows;     // rows whose logits are returned, in this order
  const LoraWeights* lora = nullptr;   // applied to every row of this batch; nullptr: base model only
  // The caller drops these rows again with KVCache::truncate_from right after the call (lookahead
  // rows). Sliding-window layers then skip their trim, so the truncation restores the cache exactly.
  bool transient = false;

  // A batch of tokens at consecutive positions starting at first_position; logits for the last row.
  static Batch from_tokens(const std::vector<int32_t>& tokens, int32_t first_position, bool all_logits = false);
};

class Transformer {
 public:
  Transformer(const Model& model, int n_threads);
  ~Transformer();

  const Model& model() const { return model_; }
  ThreadPool& pool() { return *pool_; }

  // Exact-math mode: every projection uses the scalar double-accumulation reference (no activation
  // quantization) and GELU is computed in f32 instead of through llama.cpp's fp16 table. Slow;
  // tests use it to compare the pass against a float64 reference.
  void set_exact_math(bool enabled) { exact_math_ = enabled; }

  // A KV cache shaped for this model, storing K/V as f32 (default) or f16.
  KVCache make_cache(KVCacheType type = KVCacheType::F32) const;

  // Runs the batch. logits receives logit_rows.size() × n_vocab values (may be null when no logits
  // are requested). Throws lkv::Error on invalid tokens or positions.
  void forward(const Batch& batch, KVCache& cache, std::vector<float>* logits, AttentionObserver* observer = nullptr);

 private:
  void embed(const Batch& batch, float* x);
  void project(const WeightView& w, const float* x, int64_t m, float* y);
  void attention(int layer, int m, const int32_t* positions, const float* q, const KVCache& cache, float* out,
                 AttentionObserver* observer);

  const Model& model_;
  std::unique_ptr<ThreadPool> pool_;
  bool exact_math_ = false;
  // Scratch buffers reused across calls, sized for the largest batch seen.
  std::vector<float> x_, h_, q_, k_, v_, attn_, proj_, gate_, up_;
  // Per worker thread: one attention tile's probabilities and query bookkeeping.
  struct AttentionScratch {
    std::vector<float> probs;
    std::vector<const float*> q;
    std::vector<float*> out;
    std::vector<int> lo, hi, head, row;
  };
  std::vector<AttentionScratch> attn_scratch_;
};

}  // namespace lkv
