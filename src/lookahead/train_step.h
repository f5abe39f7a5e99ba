// Loss and gradient of one training example for the LookaheadKV module (DESIGN.md §6).
//
// Forward: the m lookahead rows (embeddings × the model's embedding scale, at positions
// n .. n+m−1 after the example's prompt cache) run through the layers up to the last evicted one,
// with LoRA on and every activation the backward pass needs saved. Their attention covers the
// prompt's cache entries, which are constants because the prompt is computed without the module,
// and causally the other lookahead rows. In the last evicted layer only the attention is computed; nothing after it
// reaches the loss.
// Loss: loss.h, from the attention of the lookahead rows over the prompt entries in each evicted
// layer. Backward: from the loss through attention (over the cache and among lookahead rows),
// RoPE, QK-norm, the norms (Gemma's four per block), the projections (frozen base weights,
// trainable LoRA), the gated FFN and the residuals down to the embeddings.
//
// Math is exact in the sense of backward.h: f32 (T = float) or f64 (T = double) activations,
// weights dequantized without activation quantization, exact GELU. The inference scoring pass runs
// the fast path (quantized activations, table GELU); the two agree to about 1e-2 of the top score on
// quantized models and far closer in exact-math mode (tested).
// Memory: per layer about m·(6·d + 4·q_width + 4·kv_width + 3·n_ff) values plus the attention
// probabilities m·n_head·(n + m).
#pragma once

#include <vector>

#include "kvcache/kv_cache.h"
#include "lookahead/backward.h"
#include "lookahead/loss.h"
#include "lookahead/params.h"
#include "model/model.h"

namespace lkv {

template <typename T>
class LookaheadStep {
 public:
  // The model and layout must outlive the step. pool may be null (single thread).
  LookaheadStep(const Model& model, const ParamLayout& layout, ThreadPool* pool);
  ~LookaheadStep();
  LookaheadStep(const LookaheadStep&) = delete;
  LookaheadStep& operator=(const LookaheadStep&) = delete;

  // Returns the loss of one example for the flat parameters `params` (layout.size() values) and
  // adds its gradient to `dparams` when non-null. `prompt` contains exactly the example's prompt
  // (no lookahead rows) and is not modified. Throws lkv::Error when the target does not match it.
  double run(const T* params, const KVCache& prompt, const ImportanceTarget& target, T* dparams);

  // From the last run, per target layer: s_h[j] = (1/m) Σ_i A_h[i, j] over the prompt entries,
  // [n_head × n_entries].
  const std::vector<std::vector<T>>& head_scores() const { return scores_; }

 private:
  struct Acts;
  void forward_layer(int il, bool full, const T* params, const KVCache& prompt, const int32_t* positions);
  void backward_layer(int il, bool full, const T* params, T* dparams, const int32_t* positions, const T* dprob,
                      std::vector<T>& dx);

  const Model& model_;
  const ParamLayout& layout_;
  ThreadPool* pool_;
  int m_ = 0;
  std::vector<Acts> acts_;                 // one per layer up to the last evicted one
  std::vector<T> residual_;                // [m × n_embd], the residual stream between layers
  std::vector<std::vector<T>> scores_;     // per target layer [n_head × n]
  std::vector<std::vector<T>> dprob_;      // per target layer [n_head × n]: ∂L/∂A[i, h, j] for every row i
};

extern template class LookaheadStep<float>;
extern template class LookaheadStep<double>;

}  // namespace lkv
