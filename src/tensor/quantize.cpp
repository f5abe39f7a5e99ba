// Reference quantizers: per-block scales from the block's range and round-to-nearest codes.
//
// Goals: correct codes for every weight format so tests and synthetic models can be built. Non-goal:
// llama.cpp's error-minimizing scale search (its quantize tool gives lower error on real weights).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/block_formats.h"
#include "tensor/float_convert.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

int round_to_int(float v) { return static_cast<int>(std::lrintf(v)); }

// Element of largest magnitude, sign kept (ggml's "max" for the symmetric 4/5-bit formats).
float signed_absmax(const float* x, int n) {
  float best = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(best)) best = x[i];
  }
  return best;
}

float absmax(const float* x, int n) {
  float best = 0.0f;
  for (int i = 0; i < n; ++i) best = std::max(best, std::fabs(x[i]));
  return best;
}

// Symmetric formats: the extreme element maps to code 0 (value −half·d), so d = max / −half and
// q = round(x / d) + half, clamped to [0, 2·half − 1].
template <int kHalf>
void symmetric_codes(const float* x, uint16_t* d_out, int* codes) {
  const float max = signed_absmax(x, kQK);
  const float d = max / -static_cast<float>(kHalf);
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = fp32_to_fp16_fast(d);
  for (int j = 0; j < kQK; ++j) {
    codes[j] = std::clamp(round_to_int(x[j] * inverse) + kHalf, 0, 2 * kHalf - 1);
  }
}

// Asymmetric formats: x ≈ d · q + min with q in [0, levels − 1].
template <int kLevels>
void asymmetric_codes(const float* x, uint16_t* d_out, uint16_t* m_out, int* codes) {
  const float min = *std::min_element(x, x + kQK);
  const float max = *std::max_element(x, x + kQK);
  const float d = (max - min) / static_cast<float>(kLevels - 1);
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = fp32_to_fp16_fast(d);
  *m_out = fp32_to_fp16_fast(min);
  for (int j = 0; j < kQK; ++j) {
    codes[j] = std::clamp(round_to_int((x[j] - min) * inverse), 0, kLevels - 1);
  }
}

void pack_nibbles(const int* codes, uint8_t* qs) {
  for (int k = 0; k < kQK / 2; ++k) {
    qs[k] = static_cast<uint8_t>((codes[k] & 15) | ((codes[k + 16] & 15) << 4));
  }
}

void pack_fifth_bits(const int* codes, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kQK; ++j) bits |= static_cast<uint32_t>((codes[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, sizeof bits);
}

void quantize_q4_0(const float* x, BlockQ4_0* blocks, int64_t n_blocks) {
  int codes[kQK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    symmetric_codes<8>(x, &blocks[b].d, codes);
    pack_nibbles(codes, blocks[b].qs);
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* blocks, int64_t n_blocks) {
  int codes[kQK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    asymmetric_codes<16>(x, &blocks[b].d, &blocks[b].m, codes);
    pack_nibbles(codes, blocks[b].qs);
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* blocks, int64_t n_blocks) {
  int codes[kQK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    symmetric_codes<16>(x, &blocks[b].d, codes);
    pack_nibbles(codes, blocks[b].qs);
    pack_fifth_bits(codes, blocks[b].qh);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* blocks, int64_t n_blocks) {
  int codes[kQK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    asymmetric_codes<32>(x, &blocks[b].d, &blocks[b].m, codes);
    pack_nibbles(codes, blocks[b].qs);
    pack_fifth_bits(codes, blocks[b].qh);
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    const float d = absmax(x, kQK) / 127.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = fp32_to_fp16_fast(d);
    for (int j = 0; j < kQK; ++j) blocks[b].qs[j] = static_cast<int8_t>(round_to_int(x[j] * inverse));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK) {
    const float d = absmax(x, kQK) / 127.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const int q = round_to_int(x[j] * inverse);
      blocks[b].qs[j] = static_cast<int8_t>(q);
      sum += q;
    }
    blocks[b].d = fp32_to_fp16_fast(d);
    blocks[b].s = fp32_to_fp16_fast(d * static_cast<float>(sum));
  }
}

// Q4_K / Q5_K: each sub-block of 32 gets x ≈ scale · q − min with min ≥ 0 (minus the sub-block
// minimum, or 0 when all values are positive). The 8 scales and 8 mins are then coded as 6-bit
// multiples of the super-block's d and dmin. Codes are chosen against the scales as finally stored.
template <int kLevels>
void k_quant_codes(const float* x, uint16_t* d_out, uint16_t* dmin_out, uint8_t* packed_scales,
                   int* codes) {
  float scale[8];
  float min[8];
  for (int s = 0; s < 8; ++s) {
    const float* sub = x + 32 * s;
    const float lo = std::min(0.0f, *std::min_element(sub, sub + 32));
    const float hi = *std::max_element(sub, sub + 32);
    scale[s] = std::max(0.0f, (hi - lo) / static_cast<float>(kLevels - 1));
    min[s] = -lo;
  }
  const float d = round_to_fp16(*std::max_element(scale, scale + 8) / 63.0f);
  const float dmin = round_to_fp16(*std::max_element(min, min + 8) / 63.0f);
  *d_out = fp32_to_fp16_fast(d);
  *dmin_out = fp32_to_fp16_fast(dmin);

  KScales coded;
  for (int s = 0; s < 8; ++s) {
    coded.sc[s] = static_cast<uint8_t>(d > 0.0f ? std::clamp(round_to_int(scale[s] / d), 0, 63) : 0);
    coded.m[s] = static_cast<uint8_t>(dmin > 0.0f ? std::clamp(round_to_int(min[s] / dmin), 0, 63) : 0);
  }
  pack_k_scales(coded, packed_scales);

  for (int s = 0; s < 8; ++s) {
    const float step = d * coded.sc[s];
    const float offset = dmin * coded.m[s];
    for (int l = 0; l < 32; ++l) {
      const int q = step > 0.0f ? round_to_int((x[32 * s + l] + offset) / step) : 0;
      codes[32 * s + l] = std::clamp(q, 0, kLevels - 1);
    }
  }
}

// Codes are ordered by element; chunk c packs sub-blocks 2c (low nibbles) and 2c + 1 (high).
void pack_k_nibbles(const int* codes, uint8_t* qs) {
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      qs[32 * chunk + l] = static_cast<uint8_t>((codes[64 * chunk + l] & 15) |
                                                ((codes[64 * chunk + 32 + l] & 15) << 4));
    }
  }
}

void quantize_q4_k(const float* x, BlockQ4_K* blocks, int64_t n_blocks) {
  int codes[kQKK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK) {
    k_quant_codes<16>(x, &blocks[b].d, &blocks[b].dmin, blocks[b].scales, codes);
    pack_k_nibbles(codes, blocks[b].qs);
  }
}

void quantize_q5_k(const float* x, BlockQ5_K* blocks, int64_t n_blocks) {
  int codes[kQKK];
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK) {
    k_quant_codes<32>(x, &blocks[b].d, &blocks[b].dmin, blocks[b].scales, codes);
    pack_k_nibbles(codes, blocks[b].qs);
    std::memset(blocks[b].qh, 0, sizeof blocks[b].qh);
    for (int chunk = 0; chunk < 4; ++chunk) {
      for (int l = 0; l < 32; ++l) {
        const int lo_bit = (codes[64 * chunk + l] >> 4) & 1;
        const int hi_bit = (codes[64 * chunk + 32 + l] >> 4) & 1;
        blocks[b].qh[l] |= static_cast<uint8_t>((lo_bit << (2 * chunk)) | (hi_bit << (2 * chunk + 1)));
      }
    }
  }
}

// Q6_K: each sub-block of 16 is symmetric (its extreme value maps to code 0, i.e. q − 32 = −32),
// and the 16 sub-block scales are int8 multiples of the super-block's d.
void quantize_q6_k(const float* x, BlockQ6_K* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK) {
    BlockQ6_K& block = blocks[b];
    float scale[16];
    float largest = 0.0f;
    for (int s = 0; s < 16; ++s) {
      scale[s] = signed_absmax(x + 16 * s, 16) / -32.0f;
      largest = std::max(largest, std::fabs(scale[s]));
    }
    const float d = round_to_fp16(largest / 127.0f);
    block.d = fp32_to_fp16_fast(d);

    int codes[kQKK];
    for (int s = 0; s < 16; ++s) {
      const int sc = d > 0.0f ? std::clamp(round_to_int(scale[s] / d), -127, 127) : 0;
      block.scales[s] = static_cast<int8_t>(sc);
      const float step = d * static_cast<float>(sc);
      for (int l = 0; l < 16; ++l) {
        const int q = step != 0.0f ? round_to_int(x[16 * s + l] / step) : 0;
        codes[16 * s + l] = std::clamp(q + 32, 0, 63);
      }
    }

    for (int half = 0; half < 2; ++half) {
      const int* c = codes + 128 * half;
      uint8_t* ql = block.ql + 64 * half;
      uint8_t* qh = block.qh + 32 * half;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((c[l] & 15) | ((c[l + 64] & 15) << 4));
        ql[l + 32] = static_cast<uint8_t>((c[l + 32] & 15) | ((c[l + 96] & 15) << 4));
        qh[l] = static_cast<uint8_t>((c[l] >> 4) | ((c[l + 32] >> 4) << 2) | ((c[l + 64] >> 4) << 4) |
                                     ((c[l + 96] >> 4) << 6));
      }
    }
  }
}

// As ggml's Q8_K reference: the signed extreme value maps to −127 and d = 1 / iscale may be
// negative; an all-zero block gets d = 0.
void quantize_q8_k(const float* x, BlockQ8_K* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK) {
    BlockQ8_K& block = blocks[b];
    const float max = signed_absmax(x, kQKK);
    if (max == 0.0f) {
      block.d = 0.0f;
      std::memset(block.qs, 0, sizeof block.qs);
      std::memset(block.bsums, 0, sizeof block.bsums);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) {
      block.qs[j] = static_cast<int8_t>(std::min(127, round_to_int(iscale * x[j])));
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += block.qs[16 * g + l];
      block.bsums[g] = static_cast<int16_t>(sum);
    }
    block.d = 1.0f / iscale;
  }
}

}  // namespace

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  const TypeTraits& traits = type_traits(type);
  if (traits.type_size == 0 || n < 0 || n % traits.block_size != 0) {
    fail("quantize_row: cannot encode {} elements as type {}", n, type_name(static_cast<uint32_t>(type)));
  }
  const int64_t n_blocks = n / traits.block_size;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16_fast(src[i]);
      return;
    }
    case GgmlType::BF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16_inline(src[i]);
      return;
    }
    case GgmlType::Q4_0: return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n_blocks);
    case GgmlType::Q4_1: return quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), n_blocks);
    case GgmlType::Q5_0: return quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), n_blocks);
    case GgmlType::Q5_1: return quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), n_blocks);
    case GgmlType::Q8_0: return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n_blocks);
    case GgmlType::Q8_1: return quantize_q8_1(src, static_cast<BlockQ8_1*>(dst), n_blocks);
    case GgmlType::Q4_K: return quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), n_blocks);
    case GgmlType::Q5_K: return quantize_q5_k(src, static_cast<BlockQ5_K*>(dst), n_blocks);
    case GgmlType::Q6_K: return quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), n_blocks);
    case GgmlType::Q8_K: return quantize_q8_k(src, static_cast<BlockQ8_K*>(dst), n_blocks);
    default:
      fail("quantize_row: type {} has no encoder", type_name(static_cast<uint32_t>(type)));
  }
}

}  // namespace lkv
