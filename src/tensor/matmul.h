// Matrix products of f32 activations with (quantized) weight matrices.
//
// A weight matrix in GGUF has shape [n_in, n_out]: n_out rows of n_in contiguous elements. The
// products here compute Y = X · Wᵀ for a batch of m activation rows, the layout of both prefill
// (m = chunk length) and decode (m = 1).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/thread_pool.h"
#include "tensor/types.h"

namespace lkv {

struct WeightView {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;  // n_out rows of row_bytes each
  int64_t n_in = 0;            // ne[0]
  int64_t n_out = 0;           // ne[1]
  size_t row_bytes = 0;
};

// Y[m, n_out] = X[m, n_in] · Wᵀ. X has row stride n_in and Y row stride n_out (both f32).
// Multi-threaded over the pool; the fast path quantizes X once to the weight type's activation
// format (Q8_0 / Q8_1 / Q8_K) like llama.cpp, so results differ from matmul_reference by the
// activation rounding only.
void matmul(const WeightView& w, const float* x, int64_t m, float* y, ThreadPool& pool);

// Same product with Y restricted to output rows [row_begin, row_end) of W, written densely with row
// stride (row_end - row_begin). Used for the output head when only a few logits are needed.
void matmul_rows(const WeightView& w, int64_t row_begin, int64_t row_end, const float* x, int64_t m,
                 float* y, ThreadPool& pool);

// Plain scalar reference: dequantizes each weight row and accumulates in double. Slow; for tests.
void matmul_reference(const WeightView& w, const float* x, int64_t m, float* y);

}  // namespace lkv
