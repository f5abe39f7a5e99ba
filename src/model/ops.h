// Row-wise operations of the forward pass: RMSNorm, RoPE, activations, softmax.
#pragma once

#include <cstdint>

#include "model/hparams.h"

namespace lkv::ops {

// y = x / sqrt(mean(x²) + eps) ⊙ weight, for one row of n values (in place allowed). The mean is
// accumulated in double, as ggml does.
void rms_norm(const float* x, const float* weight, float* y, int n, float eps);

// Rotates the first n_rot dimensions of each of n_heads vectors of length head_dim at one position.
// theta_i = position · freq_scale · base^(-2i / n_rot).
void rope(float* x, int n_heads, int head_dim, int n_rot, int32_t position, float base, float freq_scale,
          RopeStyle style);

// out[i] = act(gate[i]) · up[i] for n values. With fp16_gelu, GELU is evaluated the way llama.cpp's
// CPU backend does by default: the input rounded to fp16 and the result read from a 65536-entry
// fp16 table (inputs at or below -10 give 0, at or above 10 give x). It moves each value by about
// 1e-3 relative and brings the logits within llama.cpp's own rounding.
void gated_activation(const float* gate, const float* up, float* out, int64_t n, FfnActivation act, bool fp16_gelu);

float gelu_tanh(float x);
float gelu_tanh_fp16_table(float x);
float silu(float x);

}  // namespace lkv::ops
