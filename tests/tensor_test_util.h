// Helpers shared by the tensor kernel tests: random data, quantized weight matrices and decoding of
// the internal activation rows.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "tensor/act_quant.h"
#include "tensor/block_formats.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace lkv::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// n_out rows of n_in random values with a per-row scale spread over two orders of magnitude and a
// few outliers, quantized to type.
inline std::vector<uint8_t> random_weights(GgmlType type, int64_t n_out, int64_t n_in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> row_scale(0.05f, 5.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t row_bytes = row_size(type, n_in);
  std::vector<uint8_t> data(row_bytes * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    const float s = row_scale(rng);
    for (float& x : row) x = s * normal(rng);
    row[static_cast<size_t>(r % n_in)] *= 6.0f;  // an outlier per row
    quantize_row(type, row.data(), data.data() + static_cast<size_t>(r) * row_bytes, n_in);
  }
  return data;
}

// Converted activation rows in a 64-byte aligned buffer.
struct ActBuffer {
  ActFormat format = ActFormat::F32;
  int64_t n = 0;
  ActLayout layout;
  std::vector<uint8_t> storage;
  uint8_t* base = nullptr;

  ActBuffer(ActFormat f, const float* x, int64_t m, int64_t n_in, bool simd) : format(f), n(n_in) {
    layout = act_layout(f, n_in);
    storage.resize(layout.row_stride * static_cast<size_t>(m) + 64);
    base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
    for (int64_t i = 0; i < m; ++i) {
      uint8_t* row = base + static_cast<size_t>(i) * layout.row_stride;
      if (simd) {
        quantize_act_row(f, x + i * n_in, n_in, row);
      } else {
        quantize_act_row_scalar(f, x + i * n_in, n_in, row);
      }
    }
  }

  ActRows rows() const {
    ActRows a;
    a.base = base;
    a.stride = layout.row_stride;
    a.scale_offset = layout.scale_offset;
    a.aux_offset = layout.aux_offset;
    return a;
  }

  // The values the kernels see: d · q per element (x itself for F32).
  std::vector<float> decoded(int64_t m) const {
    const ActRows a = rows();
    const int64_t block = act_block_size(format);
    std::vector<float> out(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t k = 0; k < n; ++k) {
        out[static_cast<size_t>(i * n + k)] =
            format == ActFormat::F32 ? a.x(i)[k] : a.d(i)[k / block] * static_cast<float>(a.q(i)[k]);
      }
    }
    return out;
  }
};

}  // namespace lkv::test
