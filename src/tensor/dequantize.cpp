// Scalar decoders for every block format; the reference that the SIMD kernels are tested against.
#include <cstring>

#include "tensor/block_formats.h"
#include "tensor/float_convert.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void dequantize_q4_0(const BlockQ4_0* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    for (int k = 0; k < kQK / 2; ++k) {
      dst[k] = d * static_cast<float>((blocks[b].qs[k] & 15) - 8);
      dst[k + 16] = d * static_cast<float>((blocks[b].qs[k] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const BlockQ4_1* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    const float m = fp16_to_fp32_fast(blocks[b].m);
    for (int k = 0; k < kQK / 2; ++k) {
      dst[k] = d * static_cast<float>(blocks[b].qs[k] & 15) + m;
      dst[k + 16] = d * static_cast<float>(blocks[b].qs[k] >> 4) + m;
    }
  }
}

void dequantize_q5_0(const BlockQ5_0* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    const uint32_t qh = load_u32(blocks[b].qh);
    for (int k = 0; k < kQK / 2; ++k) {
      const int lo = (blocks[b].qs[k] & 15) | static_cast<int>(((qh >> k) & 1) << 4);
      const int hi = (blocks[b].qs[k] >> 4) | static_cast<int>(((qh >> (k + 16)) & 1) << 4);
      dst[k] = d * static_cast<float>(lo - 16);
      dst[k + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

void dequantize_q5_1(const BlockQ5_1* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    const float m = fp16_to_fp32_fast(blocks[b].m);
    const uint32_t qh = load_u32(blocks[b].qh);
    for (int k = 0; k < kQK / 2; ++k) {
      const int lo = (blocks[b].qs[k] & 15) | static_cast<int>(((qh >> k) & 1) << 4);
      const int hi = (blocks[b].qs[k] >> 4) | static_cast<int>(((qh >> (k + 16)) & 1) << 4);
      dst[k] = d * static_cast<float>(lo) + m;
      dst[k + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

void dequantize_q8_0(const BlockQ8_0* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    for (int k = 0; k < kQK; ++k) dst[k] = d * static_cast<float>(blocks[b].qs[k]);
  }
}

void dequantize_q8_1(const BlockQ8_1* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK) {
    const float d = fp16_to_fp32_fast(blocks[b].d);
    for (int k = 0; k < kQK; ++k) dst[k] = d * static_cast<float>(blocks[b].qs[k]);
  }
}

void dequantize_q4_k(const BlockQ4_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ4_K& block = blocks[b];
    const float d = fp16_to_fp32_fast(block.d);
    const float dmin = fp16_to_fp32_fast(block.dmin);
    const KScales scales = unpack_k_scales(block.scales);
    for (int chunk = 0; chunk < 4; ++chunk) {
      const uint8_t* qs = block.qs + 32 * chunk;
      const int s_lo = 2 * chunk;
      const int s_hi = 2 * chunk + 1;
      for (int l = 0; l < 32; ++l) {
        dst[l] = d * scales.sc[s_lo] * static_cast<float>(qs[l] & 15) - dmin * scales.m[s_lo];
        dst[l + 32] = d * scales.sc[s_hi] * static_cast<float>(qs[l] >> 4) - dmin * scales.m[s_hi];
      }
      dst += 64;
    }
  }
}

void dequantize_q5_k(const BlockQ5_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ5_K& block = blocks[b];
    const float d = fp16_to_fp32_fast(block.d);
    const float dmin = fp16_to_fp32_fast(block.dmin);
    const KScales scales = unpack_k_scales(block.scales);
    for (int chunk = 0; chunk < 4; ++chunk) {
      const uint8_t* qs = block.qs + 32 * chunk;
      const int s_lo = 2 * chunk;
      const int s_hi = 2 * chunk + 1;
      for (int l = 0; l < 32; ++l) {
        const int q_lo = (qs[l] & 15) | (((block.qh[l] >> s_lo) & 1) << 4);
        const int q_hi = (qs[l] >> 4) | (((block.qh[l] >> s_hi) & 1) << 4);
        dst[l] = d * scales.sc[s_lo] * static_cast<float>(q_lo) - dmin * scales.m[s_lo];
        dst[l + 32] = d * scales.sc[s_hi] * static_cast<float>(q_hi) - dmin * scales.m[s_hi];
      }
      dst += 64;
    }
  }
}

// Each half of 128 elements uses ql[64], qh[32] and scales[8]. For l < 32 the four elements l,
// l + 32, l + 64, l + 96 take their low 4 bits from ql[l] low, ql[l + 32] low, ql[l] high and
// ql[l + 32] high, and their top 2 bits from bit pairs 0–1, 2–3, 4–5, 6–7 of qh[l]. Each run of 16
// consecutive elements has its own int8 scale.
void dequantize_q6_k(const BlockQ6_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ6_K& block = blocks[b];
    const float d = fp16_to_fp32_fast(block.d);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = block.ql + 64 * half;
      const uint8_t* qh = block.qh + 32 * half;
      const int8_t* sc = block.scales + 8 * half;
      for (int l = 0; l < 32; ++l) {
        const int q0 = (ql[l] & 15) | (((qh[l] >> 0) & 3) << 4);
        const int q1 = (ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4);
        const int q2 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        const int q3 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
        const int s = l / 16;
        dst[l] = d * sc[s] * static_cast<float>(q0 - 32);
        dst[l + 32] = d * sc[s + 2] * static_cast<float>(q1 - 32);
        dst[l + 64] = d * sc[s + 4] * static_cast<float>(q2 - 32);
        dst[l + 96] = d * sc[s + 6] * static_cast<float>(q3 - 32);
      }
      dst += 128;
    }
  }
}

void dequantize_q8_k(const BlockQ8_K* blocks, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQKK) {
    for (int k = 0; k < kQKK; ++k) dst[k] = blocks[b].d * static_cast<float>(blocks[b].qs[k]);
  }
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const TypeTraits& traits = type_traits(type);
  if (traits.type_size == 0 || n < 0 || n % traits.block_size != 0) {
    fail("dequantize_row: cannot decode {} elements of type {}", n,
         type_name(static_cast<uint32_t>(type)));
  }
  const int64_t n_blocks = n / traits.block_size;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32_fast(h[i]);
      return;
    }
    case GgmlType::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32_inline(h[i]);
      return;
    }
    case GgmlType::Q4_0: return dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n_blocks);
    case GgmlType::Q4_1: return dequantize_q4_1(static_cast<const BlockQ4_1*>(src), dst, n_blocks);
    case GgmlType::Q5_0: return dequantize_q5_0(static_cast<const BlockQ5_0*>(src), dst, n_blocks);
    case GgmlType::Q5_1: return dequantize_q5_1(static_cast<const BlockQ5_1*>(src), dst, n_blocks);
    case GgmlType::Q8_0: return dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n_blocks);
    case GgmlType::Q8_1: return dequantize_q8_1(static_cast<const BlockQ8_1*>(src), dst, n_blocks);
    case GgmlType::Q4_K: return dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, n_blocks);
    case GgmlType::Q5_K: return dequantize_q5_k(static_cast<const BlockQ5_K*>(src), dst, n_blocks);
    case GgmlType::Q6_K: return dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, n_blocks);
    case GgmlType::Q8_K: return dequantize_q8_k(static_cast<const BlockQ8_K*>(src), dst, n_blocks);
    default:
      fail("dequantize_row: type {} has no decoder", type_name(static_cast<uint32_t>(type)));
  }
}

}  // namespace lkv
