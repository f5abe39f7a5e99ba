#include "model/ops.h"

#include <cmath>
#include <vector>

#include "tensor/quantize.h"

namespace lkv::ops {

void rms_norm(const float* x, const float* weight, float* y, int n, float eps) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + static_cast<double>(eps)));
  for (int i = 0; i < n; ++i) y[i] = x[i] * scale * weight[i];
}

void rope(float* x, int n_heads, int head_dim, int n_rot, int32_t position, float base, float freq_scale,
          RopeStyle style) {
  const int half = n_rot / 2;
  // Angles are computed in double, because at 32K positions a float angle loses several bits.
  // Each thread keeps the tables of its last (position, base, scale, n_rot), since a layer rotates
  // Q and K of the same position back to back. The frequencies depend only on base and n_rot.
  struct Tables {
    std::vector<double> freq;
    std::vector<float> cos, sin;
    double freq_base = 0.0;
    int freq_rot = -1;
    int32_t position = -1;
    float base = 0.0f, scale = 0.0f;
    int n_rot = -1;
  };
  thread_local Tables t;
  if (t.freq_rot != n_rot || t.freq_base != static_cast<double>(base)) {
    t.freq.resize(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i) {
      t.freq[static_cast<size_t>(i)] = std::pow(static_cast<double>(base), -2.0 * i / static_cast<double>(n_rot));
    }
    t.freq_base = static_cast<double>(base);
    t.freq_rot = n_rot;
    t.n_rot = -1;  // the angles below depend on the frequencies
  }
  if (t.position != position || t.base != base || t.scale != freq_scale || t.n_rot != n_rot) {
    t.cos.resize(static_cast<size_t>(half));
    t.sin.resize(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i) {
      const double theta = static_cast<double>(position) * freq_scale * t.freq[static_cast<size_t>(i)];
      t.cos[static_cast<size_t>(i)] = static_cast<float>(std::cos(theta));
      t.sin[static_cast<size_t>(i)] = static_cast<float>(std::sin(theta));
    }
    t.position = position, t.base = base, t.scale = freq_scale, t.n_rot = n_rot;
  }
  const std::vector<float>& cos_table = t.cos;
  const std::vector<float>& sin_table = t.sin;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const int a = style == RopeStyle::Norm ? 2 * i : i;
      const int b = style == RopeStyle::Norm ? 2 * i + 1 : i + half;
      const float c = cos_table[static_cast<size_t>(i)], s = sin_table[static_cast<size_t>(i)];
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

float gelu_tanh_fp16_table(float x) {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = fp32_to_fp16(gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(i))));
    return t;
  }();
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(table[fp32_to_fp16(x)]);
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

void gated_activation(const float* gate, const float* up, float* out, int64_t n, FfnActivation act, bool fp16_gelu) {
  if (act == FfnActivation::GeluTanh && fp16_gelu) {
    for (int64_t i = 0; i < n; ++i) out[i] = gelu_tanh_fp16_table(gate[i]) * up[i];
  } else if (act == FfnActivation::GeluTanh) {
    for (int64_t i = 0; i < n; ++i) out[i] = gelu_tanh(gate[i]) * up[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
  }
}

}  // namespace lkv::ops
