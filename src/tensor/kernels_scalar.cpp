// Scalar kernels: one dot product per (activation row, weight row) with integer sums per block, the
// same arithmetic the SIMD kernels perform in vector registers.
#include <array>
#include <cstring>

#include "tensor/block_formats.h"
#include "tensor/float_convert.h"
#include "tensor/kernels.h"

namespace lkv {

namespace {

using DotFn = float (*)(const uint8_t* w, const ActRows& a, int64_t row, int64_t n);

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Signed 4- or 5-bit code of element j of a Q4_0 / Q5_0 style block (offset not yet removed).
int nibble_code(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4); }

float dot_q4_0(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += (nibble_code(blocks[b].qs, j) - 8) * q[kQK * b + j];
    acc += fp16_to_fp32_fast(blocks[b].d) * d[b] * static_cast<float>(sum);
  }
  return acc;
}

float dot_q5_0(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ5_0*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = load_u32(blocks[b].qh);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const int code = nibble_code(blocks[b].qs, j) | static_cast<int>(((qh >> j) & 1) << 4);
      sum += (code - 16) * q[kQK * b + j];
    }
    acc += fp16_to_fp32_fast(blocks[b].d) * d[b] * static_cast<float>(sum);
  }
  return acc;
}

float dot_q8_0(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += blocks[b].qs[j] * q[kQK * b + j];
    acc += fp16_to_fp32_fast(blocks[b].d) * d[b] * static_cast<float>(sum);
  }
  return acc;
}

// Σ (dw · qw + m) · (da · qa) = dw · da · Σ qw · qa + m · s, with s = da · Σ qa from the Q8_1 row.
float dot_q4_1(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_1*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  const float* s = a.s(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += nibble_code(blocks[b].qs, j) * q[kQK * b + j];
    acc += fp16_to_fp32_fast(blocks[b].d) * d[b] * static_cast<float>(sum) +
           fp16_to_fp32_fast(blocks[b].m) * s[b];
  }
  return acc;
}

float dot_q5_1(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ5_1*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  const float* s = a.s(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = load_u32(blocks[b].qh);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const int code = nibble_code(blocks[b].qs, j) | static_cast<int>(((qh >> j) & 1) << 4);
      sum += code * q[kQK * b + j];
    }
    acc += fp16_to_fp32_fast(blocks[b].d) * d[b] * static_cast<float>(sum) +
           fp16_to_fp32_fast(blocks[b].m) * s[b];
  }
  return acc;
}

// Q4_K / Q5_K: the min term −dmin · da · Σ_s m[s] · Σ_{sub-block s} qa uses the activation's
// per-16 sums, so only the scale term touches the weight codes.
template <bool kFifthBit, typename Block>
float dot_q45_k(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const Block*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  const int16_t* bsums = a.bsums(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const Block& block = blocks[b];
    const KScales scales = unpack_k_scales(block.scales);
    const int8_t* qa = q + kQKK * b;
    int sum = 0;
    int sum_min = 0;
    for (int chunk = 0; chunk < 4; ++chunk) {
      int sum_lo = 0;
      int sum_hi = 0;
      for (int l = 0; l < 32; ++l) {
        int code_lo = block.qs[32 * chunk + l] & 15;
        int code_hi = block.qs[32 * chunk + l] >> 4;
        if constexpr (kFifthBit) {
          code_lo |= ((block.qh[l] >> (2 * chunk)) & 1) << 4;
          code_hi |= ((block.qh[l] >> (2 * chunk + 1)) & 1) << 4;
        }
        sum_lo += code_lo * qa[64 * chunk + l];
        sum_hi += code_hi * qa[64 * chunk + 32 + l];
      }
      sum += scales.sc[2 * chunk] * sum_lo + scales.sc[2 * chunk + 1] * sum_hi;
    }
    for (int s = 0; s < 8; ++s) sum_min += scales.m[s] * (bsums[16 * b + 2 * s] + bsums[16 * b + 2 * s + 1]);
    acc += fp16_to_fp32_fast(block.d) * d[b] * static_cast<float>(sum) -
           fp16_to_fp32_fast(block.dmin) * d[b] * static_cast<float>(sum_min);
  }
  return acc;
}

float dot_q6_k(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  const int8_t* q = a.q(row);
  const float* d = a.d(row);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const BlockQ6_K& block = blocks[b];
    int codes[kQKK];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = block.ql + 64 * half;
      const uint8_t* qh = block.qh + 32 * half;
      int* c = codes + 128 * half;
      for (int l = 0; l < 32; ++l) {
        c[l] = (ql[l] & 15) | (((qh[l] >> 0) & 3) << 4);
        c[l + 32] = (ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4);
        c[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        c[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
      }
    }
    const int8_t* qa = q + kQKK * b;
    int sum = 0;
    for (int s = 0; s < 16; ++s) {
      int sub = 0;
      for (int l = 0; l < 16; ++l) sub += (codes[16 * s + l] - 32) * qa[16 * s + l];
      sum += block.scales[s] * sub;
    }
    acc += fp16_to_fp32_fast(block.d) * d[b] * static_cast<float>(sum);
  }
  return acc;
}

template <typename Decode>
float dot_float(const uint8_t* w, const ActRows& a, int64_t row, int64_t n, Decode decode) {
  const float* x = a.x(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n; ++k) acc += decode(w, k) * x[k];
  return acc;
}

float dot_f32(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  return dot_float(w, a, row, n, [](const uint8_t* p, int64_t k) {
    float v;
    std::memcpy(&v, p + 4 * k, sizeof v);
    return v;
  });
}

float dot_f16(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  return dot_float(w, a, row, n, [](const uint8_t* p, int64_t k) {
    uint16_t h;
    std::memcpy(&h, p + 2 * k, sizeof h);
    return fp16_to_fp32_fast(h);
  });
}

float dot_bf16(const uint8_t* w, const ActRows& a, int64_t row, int64_t n) {
  return dot_float(w, a, row, n, [](const uint8_t* p, int64_t k) {
    uint16_t h;
    std::memcpy(&h, p + 2 * k, sizeof h);
    return bf16_to_fp32_inline(h);
  });
}

template <DotFn Dot>
struct ScalarTile {
  template <int MR, int NR>
  struct Kernel {
    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n,
                    float* y, int64_t ldy) {
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) y[i * ldy + j] = Dot(w + j * w_stride, a, a_first + i, n);
      }
    }
  };
};

template <DotFn Dot>
KernelSet make_scalar_set(GgmlType type) {
  KernelSet set;
  set.act = act_format_for(type);
  set.gemm_mr = 1;
  set.gemm_nr = 1;
  set.gemv_nr = 1;
  fill_tiles<ScalarTile<Dot>::template Kernel>(set);
  return set;
}

}  // namespace

const KernelSet* scalar_kernel_set(GgmlType type) {
  static const KernelSet q4_0 = make_scalar_set<dot_q4_0>(GgmlType::Q4_0);
  static const KernelSet q4_1 = make_scalar_set<dot_q4_1>(GgmlType::Q4_1);
  static const KernelSet q5_0 = make_scalar_set<dot_q5_0>(GgmlType::Q5_0);
  static const KernelSet q5_1 = make_scalar_set<dot_q5_1>(GgmlType::Q5_1);
  static const KernelSet q8_0 = make_scalar_set<dot_q8_0>(GgmlType::Q8_0);
  static const KernelSet q4_k = make_scalar_set<dot_q45_k<false, BlockQ4_K>>(GgmlType::Q4_K);
  static const KernelSet q5_k = make_scalar_set<dot_q45_k<true, BlockQ5_K>>(GgmlType::Q5_K);
  static const KernelSet q6_k = make_scalar_set<dot_q6_k>(GgmlType::Q6_K);
  static const KernelSet f32 = make_scalar_set<dot_f32>(GgmlType::F32);
  static const KernelSet f16 = make_scalar_set<dot_f16>(GgmlType::F16);
  static const KernelSet bf16 = make_scalar_set<dot_bf16>(GgmlType::BF16);
  switch (type) {
    case GgmlType::Q4_0: return &q4_0;
    case GgmlType::Q4_1: return &q4_1;
    case GgmlType::Q5_0: return &q5_0;
    case GgmlType::Q5_1: return &q5_1;
    case GgmlType::Q8_0: return &q8_0;
    case GgmlType::Q4_K: return &q4_k;
    case GgmlType::Q5_K: return &q5_k;
    case GgmlType::Q6_K: return &q6_k;
    case GgmlType::F32: return &f32;
    case GgmlType::F16: return &f16;
    case GgmlType::BF16: return &bf16;
    default: return nullptr;
  }
}

}  // namespace lkv
