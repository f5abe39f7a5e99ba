// Differentiable pieces of a transformer block, for training the LookaheadKV module
// (DESIGN.md §6, Backward).
//
// Each *_forward function computes what the inference pass (src/model) computes for a batch of m
// rows, and each *_backward function takes the gradient of the loss with respect to the outputs and
// adds (+=) the gradients with respect to the inputs and the trainable parameters. Base weights and
// the prompt's KV cache are constants: no gradient is formed for them.
//
// Precision. T = float is the trainer's path: f32 activations, weights dequantized row by row to
// f32 (no activation quantization), exact GELU. T = double runs the same code in double precision
// (weights and cache promoted from their stored values) so finite-difference checks can resolve
// relative errors near 1e-8. Only T = float and T = double are instantiated.
//
// Threading. Functions that take a ThreadPool* spread their work over it (nullptr: the calling
// thread). Results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "model/hparams.h"
#include "tensor/matmul.h"
#include "tensor/thread_pool.h"

namespace lkv::grad {

// RMSNorm of one row: y = x · inv · w with inv = 1 / sqrt(mean(x²) + eps); y may alias x. Returns
// inv, which the backward pass needs.
template <typename T>
T rms_norm_forward(const T* x, const float* w, T* y, int n, float eps);
// dx += ∂L/∂x from dy = ∂L/∂y, given the forward's input x and inv. dx must not alias dy.
template <typename T>
void rms_norm_backward(const T* x, const float* w, T inv, const T* dy, T* dx, int n);

// RoPE on n_heads vectors of head_dim at one position, with the angles of ops::rope. inverse = true
// rotates by the opposite angles: the transpose of the rotation, which is its backward pass.
template <typename T>
void rope(T* x, int n_heads, int head_dim, int n_rot, int32_t position, float base, float freq_scale, RopeStyle style,
          bool inverse);

// out = act(gate) ⊙ up over n values (exact GELU-tanh or SiLU).
template <typename T>
void gated_forward(const T* gate, const T* up, T* out, int64_t n, FfnActivation act);
// dgate += dout ⊙ up ⊙ act'(gate), dup += dout ⊙ act(gate).
template <typename T>
void gated_backward(const T* gate, const T* up, const T* dout, T* dgate, T* dup, int64_t n, FfnActivation act);

// Products with a frozen (possibly quantized) weight matrix W [n_out rows × n_in], dequantized
// once per call. For float they run on the engine's f32 matmul kernels (no activation
// quantization), for double in plain loops. y [m × n_out] = x [m × n_in] · Wᵀ.
template <typename T>
void matmul_xwt(const WeightView& w, const T* x, int m, T* y, ThreadPool* pool);
// dx [m × n_in] += dy [m × n_out] · W.
template <typename T>
void matmul_add_dyw(const WeightView& w, const T* dy, int m, T* dx, ThreadPool* pool);

// A projection with an optional LoRA adapter: y = x·Wᵀ + (x·Aᵀ·scale)·Bᵀ, A [rank × n_in],
// B [n_out × rank]. a == nullptr: no adapter.
template <typename T>
struct LoraRef {
  const T* a = nullptr;
  const T* b = nullptr;
  int rank = 0;
  T scale = 0;
};
template <typename T>
struct LoraGrad {
  T* a = nullptr;  // [rank × n_in], += ; may be null when a is null
  T* b = nullptr;  // [n_out × rank], +=
};
// y [m × n_out] = the projection of x [m × n_in]; t [m × rank] receives x·Aᵀ·scale (saved for the
// backward pass; unused without an adapter).
template <typename T>
void projection_forward(const WeightView& w, const LoraRef<T>& lora, const T* x, int m, T* y, T* t, ThreadPool* pool);
// dx [m × n_in] += dy·W + (dy·B)·A·scale; grad.b += dyᵀ·t; grad.a += scale·(dy·B)ᵀ·x.
// dx may be null when the input's gradient is not needed.
template <typename T>
void projection_backward(const WeightView& w, const LoraRef<T>& lora, const T* x, const T* t, const T* dy, int m,
                         T* dx, const LoraGrad<T>& grad, ThreadPool* pool);

// Attention of m new rows at increasing positions over one layer's constant cache entries (earlier
// positions) and, causally, over each other, as Transformer::attention computes it after the new
// rows' keys are appended. With window > 0, a row at position p attends to positions
// p − window + 1 .. p only.
struct AttentionShape {
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int window = 0;
};
// One KV head's cache entries: keys and values [n × head_dim] (after RoPE), positions [n].
struct CacheHead {
  const float* keys = nullptr;
  const float* values = nullptr;
  const int32_t* positions = nullptr;
  int n = 0;
};
template <typename T>
struct AttentionSaved {
  int m = 0;
  int n_cache = 0;
  // Probabilities [m × n_head × (n_cache + m)] of row i and head h over the cache entries, then
  // over the new rows. Entries hidden by the causal or sliding-window mask get zero.
  std::vector<T> probs;
  const T* row(int i, int h, int n_head) const {
    return probs.data() + (static_cast<size_t>(i) * n_head + h) * static_cast<size_t>(n_cache + m);
  }
};
// Computes out [m × n_head × hd] from q [m × n_head × hd] (after QK-norm, RoPE and the query
// scale) and k, v [m × n_kv × hd] (after QK-norm and RoPE). cache has one entry per KV head, all
// with the same n.
template <typename T>
void attention_forward(const AttentionShape& shape, const std::vector<CacheHead>& cache, const int32_t* positions, int m,
                       const T* q, const T* k, const T* v, T* out, AttentionSaved<T>& saved, ThreadPool* pool);
// Adds the gradients with respect to q, k and v from dout (null when the output is unused) and
// from dprob_cache (may be null). dprob_cache [n_head × n_cache] is added to ∂L/∂A[i, h, j] of every
// row i, which is the form of a loss that reads Σ_i A[i, h, j] over the cache entries j.
template <typename T>
void attention_backward(const AttentionShape& shape, const std::vector<CacheHead>& cache, int m, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dout, const T* dprob_cache,
                        T* dq, T* dk, T* dv, ThreadPool* pool);

}  // namespace lkv::grad
