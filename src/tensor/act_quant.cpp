#include "tensor/act_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/block_formats.h"
#include "tensor/float_convert.h"
#include "tensor/simd_avx2.h"
#include "util/error.h"

namespace lkv {

namespace {

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

int nearest(float v) { return static_cast<int>(std::nearbyintf(v)); }

// Q8_0 / Q8_1 block: d = max|x| / 127 stored through fp16 (as ggml's block has an fp16 d), codes
// round(x · 127 / max|x|) with ties to even (ggml's x86 quantizer rounds the same way).
void quantize_q8_block_scalar(const float* x, int8_t* q, float* d, int* sum) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
  int total = 0;
  for (int j = 0; j < kQK; ++j) {
    q[j] = static_cast<int8_t>(nearest(x[j] * inverse));
    total += q[j];
  }
  *d = round_to_fp16(amax / 127.0f);
  *sum = total;
}

// Q8_K super-block as ggml's reference: the first element of largest magnitude maps to −127,
// d = 1 / iscale (f32, possibly negative), all-zero blocks get d = 0.
void quantize_q8_k_block_scalar(const float* x, int8_t* q, float* d, int16_t* bsums) {
  float max = 0.0f;
  for (int j = 0; j < kQKK; ++j) {
    if (std::fabs(x[j]) > std::fabs(max)) max = x[j];
  }
  if (max == 0.0f) {
    std::memset(q, 0, kQKK);
    std::memset(bsums, 0, sizeof(int16_t) * (kQKK / 16));
    *d = 0.0f;
    return;
  }
  const float iscale = -127.0f / max;
  for (int j = 0; j < kQKK; ++j) q[j] = static_cast<int8_t>(std::min(127, nearest(iscale * x[j])));
  for (int g = 0; g < kQKK / 16; ++g) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += q[16 * g + l];
    bsums[g] = static_cast<int16_t>(sum);
  }
  *d = 1.0f / iscale;
}

#if defined(__AVX2__)

// Rounds 8 scaled floats to int32 codes, ties to even.
inline __m256i round_codes(__m256 v) {
  return _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Stores four vectors of 8 int32 codes (each within int8 range) as 32 int8 codes in element order.
inline void store_codes_32(const __m256i parts[4], int8_t* q) {
  const __m256i p01 = _mm256_packs_epi32(parts[0], parts[1]);
  const __m256i p23 = _mm256_packs_epi32(parts[2], parts[3]);
  const __m256i bytes = _mm256_packs_epi16(p01, p23);
  // The packs work per 128-bit lane, leaving 4-element groups in the order 0, 2, 4, 6, 1, 3, 5, 7.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permutevar8x32_epi32(bytes, order));
}

void quantize_q8_block_avx2(const float* x, int8_t* q, float* d, int* sum) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, avx2::abs_ps(v[k]));
  }
  const float max_value = avx2::hmax(amax);
  const float inverse = max_value != 0.0f ? 127.0f / max_value : 0.0f;
  const __m256 scale = _mm256_set1_ps(inverse);

  __m256i parts[4];
  for (int k = 0; k < 4; ++k) parts[k] = round_codes(_mm256_mul_ps(v[k], scale));
  store_codes_32(parts, q);

  const __m256i total = _mm256_add_epi32(_mm256_add_epi32(parts[0], parts[1]),
                                         _mm256_add_epi32(parts[2], parts[3]));
  *d = round_to_fp16(max_value / 127.0f);
  *sum = avx2::hsum_i32(total);
}

void quantize_q8_k_block_avx2(const float* x, int8_t* q, float* d, int16_t* bsums) {
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < kQKK / 8; ++k) amax = _mm256_max_ps(amax, avx2::abs_ps(_mm256_loadu_ps(x + 8 * k)));
  const float max_abs = avx2::hmax(amax);
  if (max_abs == 0.0f) {
    quantize_q8_k_block_scalar(x, q, d, bsums);
    return;
  }

  // The scalar rule keeps the sign of the first element whose magnitude is max_abs.
  const __m256 target = _mm256_set1_ps(max_abs);
  float max = 0.0f;
  for (int k = 0; k < kQKK / 8; ++k) {
    const __m256 xv = _mm256_loadu_ps(x + 8 * k);
    const int mask = _mm256_movemask_ps(_mm256_cmp_ps(avx2::abs_ps(xv), target, _CMP_EQ_OQ));
    if (mask != 0) {
      max = x[8 * k + __builtin_ctz(static_cast<unsigned>(mask))];
      break;
    }
  }

  const float iscale = -127.0f / max;
  const __m256 scale = _mm256_set1_ps(iscale);
  const __m256i limit = _mm256_set1_epi32(127);
  for (int c = 0; c < kQKK / 32; ++c) {
    __m256i parts[4];
    // Clamp to 127 as the scalar code does: the element −max rounds to +127 exactly, but clamping
    // keeps the two paths identical for any input.
    for (int k = 0; k < 4; ++k) {
      parts[k] = _mm256_min_epi32(round_codes(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * c + 8 * k), scale)), limit);
    }
    store_codes_32(parts, q + 32 * c);
    bsums[2 * c] = static_cast<int16_t>(avx2::hsum_i32(_mm256_add_epi32(parts[0], parts[1])));
    bsums[2 * c + 1] = static_cast<int16_t>(avx2::hsum_i32(_mm256_add_epi32(parts[2], parts[3])));
  }
  *d = 1.0f / iscale;
}

#endif  // __AVX2__

using Q8BlockFn = void (*)(const float*, int8_t*, float*, int*);
using Q8KBlockFn = void (*)(const float*, int8_t*, float*, int16_t*);

void quantize_with(ActFormat format, const float* x, int64_t n, uint8_t* dst, Q8BlockFn q8_block,
                   Q8KBlockFn q8_k_block) {
  const ActLayout layout = act_layout(format, n);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + layout.scale_offset);
  switch (format) {
    case ActFormat::F32:
      std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case ActFormat::Q8_0:
      for (int64_t b = 0; b < n / kQK; ++b) {
        int sum;
        q8_block(x + kQK * b, q + kQK * b, d + b, &sum);
      }
      return;
    case ActFormat::Q8_1: {
      auto* s = reinterpret_cast<float*>(dst + layout.aux_offset);
      for (int64_t b = 0; b < n / kQK; ++b) {
        int sum;
        q8_block(x + kQK * b, q + kQK * b, d + b, &sum);
        s[b] = d[b] * static_cast<float>(sum);
      }
      return;
    }
    case ActFormat::Q8_K: {
      auto* bsums = reinterpret_cast<int16_t*>(dst + layout.aux_offset);
      for (int64_t b = 0; b < n / kQKK; ++b) {
        q8_k_block(x + kQKK * b, q + kQKK * b, d + b, bsums + 16 * b);
      }
      return;
    }
  }
}

}  // namespace

ActLayout act_layout(ActFormat format, int64_t n) {
  const auto count = static_cast<size_t>(n);
  ActLayout layout;
  switch (format) {
    case ActFormat::F32:
      layout.row_stride = round_up(count * sizeof(float), 64);
      return layout;
    case ActFormat::Q8_0:
      layout.scale_offset = round_up(count, 32);
      layout.row_stride = round_up(layout.scale_offset + count / kQK * sizeof(float), 64);
      return layout;
    case ActFormat::Q8_1:
      layout.scale_offset = round_up(count, 32);
      layout.aux_offset = round_up(layout.scale_offset + count / kQK * sizeof(float), 32);
      layout.row_stride = round_up(layout.aux_offset + count / kQK * sizeof(float), 64);
      return layout;
    case ActFormat::Q8_K:
      layout.scale_offset = round_up(count, 32);
      layout.aux_offset = round_up(layout.scale_offset + count / kQKK * sizeof(float), 32);
      layout.row_stride = round_up(layout.aux_offset + count / 16 * sizeof(int16_t), 64);
      return layout;
  }
  return layout;
}

ActFormat act_format_for(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return ActFormat::F32;
    case GgmlType::Q8_0:
      return ActFormat::Q8_0;
    // Q4_0 and Q5_0 pair with Q8_0 in ggml. Q8_1 rows carry the same codes and scales plus the block
    // sums, which let the kernels use the unsigned codes instead of the sign trick.
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return ActFormat::Q8_1;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return ActFormat::Q8_K;
    default:
      fail("no activation format for weight type {}", type_name(static_cast<uint32_t>(weight_type)));
  }
}

int64_t act_block_size(ActFormat format) {
  switch (format) {
    case ActFormat::F32: return 1;
    case ActFormat::Q8_0:
    case ActFormat::Q8_1: return kQK;
    case ActFormat::Q8_K: return kQKK;
  }
  return 1;
}

void quantize_act_row_scalar(ActFormat format, const float* x, int64_t n, uint8_t* dst) {
  quantize_with(format, x, n, dst, quantize_q8_block_scalar, quantize_q8_k_block_scalar);
}

void quantize_act_row(ActFormat format, const float* x, int64_t n, uint8_t* dst) {
#if defined(__AVX2__)
  quantize_with(format, x, n, dst, quantize_q8_block_avx2, quantize_q8_k_block_avx2);
#else
  quantize_act_row_scalar(format, x, n, dst);
#endif
}

}  // namespace lkv
