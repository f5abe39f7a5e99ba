// Activation rows in the formats the matmul kernels consume.
//
// Like ggml, a matmul converts each f32 activation row once into the "vec-dot" format of the weight
// type (Q8_0 for Q8_0, Q8_1 for Q4_0/Q5_0/Q4_1/Q5_1, Q8_K for the K-quants, f32 for float weights)
// and the kernels then work on integer blocks. ggml pairs Q4_0/Q5_0 with Q8_0; Q8_1 has the same
// codes and scales plus block sums, which let the kernels skip the sign trick. The codes and scales
// equal ggml's, but the layout is ours. Each row stores its codes contiguously and then its scales
// as f32, so SIMD loads of the codes are aligned and scales need no fp16 conversion.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/types.h"

namespace lkv {

enum class ActFormat { F32, Q8_0, Q8_1, Q8_K };

// Row layout (n elements; every region starts at a 32-byte multiple):
//   F32:  x[n] f32
//   Q8_0: q[n] int8 | d[n/32] f32
//   Q8_1: q[n] int8 | d[n/32] f32 | s[n/32] f32, with s = d · Σq of the block
//   Q8_K: q[n] int8 | d[n/256] f32 | bsums[n/16] int16, with bsums[g] = Σq over elements 16g..16g+15
struct ActLayout {
  size_t scale_offset = 0;  // bytes from row start to d
  size_t aux_offset = 0;    // bytes from row start to s or bsums
  size_t row_stride = 0;    // bytes between rows, a multiple of 64
};

ActLayout act_layout(ActFormat format, int64_t n);

// View of m activation rows in one buffer, as passed to the kernels.
struct ActRows {
  const uint8_t* base = nullptr;
  size_t stride = 0;
  size_t scale_offset = 0;
  size_t aux_offset = 0;

  const uint8_t* row(int64_t i) const { return base + static_cast<size_t>(i) * stride; }
  const int8_t* q(int64_t i) const { return reinterpret_cast<const int8_t*>(row(i)); }
  const float* x(int64_t i) const { return reinterpret_cast<const float*>(row(i)); }
  const float* d(int64_t i) const { return reinterpret_cast<const float*>(row(i) + scale_offset); }
  const float* s(int64_t i) const { return reinterpret_cast<const float*>(row(i) + aux_offset); }
  const int16_t* bsums(int64_t i) const { return reinterpret_cast<const int16_t*>(row(i) + aux_offset); }
};

// Activation format that pairs with a weight type.
ActFormat act_format_for(GgmlType weight_type);

// Block length of a format's scales (1 for F32).
int64_t act_block_size(ActFormat format);

// Encodes one row of n elements (a multiple of the format's block size) into dst, which has
// act_layout(format, n).row_stride bytes and is 32-byte aligned. The SIMD and scalar versions give
// identical bytes.
void quantize_act_row(ActFormat format, const float* x, int64_t n, uint8_t* dst);
void quantize_act_row_scalar(ActFormat format, const float* x, int64_t n, uint8_t* dst);

}  // namespace lkv
