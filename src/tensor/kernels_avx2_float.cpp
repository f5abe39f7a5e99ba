// AVX2 kernels for F32, F16 and BF16 weights against f32 activations: widen 8 weights to f32, FMA
// with 8 activations, reduce once per tile. A scalar loop covers the last n % 8 elements.
#include "tensor/kernels.h"

#if defined(__AVX2__)

#include "tensor/float_convert.h"
#include "tensor/simd_avx2.h"

namespace lkv {

namespace {

struct F32Weights {
  static __m256 load8(const uint8_t* row, int64_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k); }
  static float load1(const uint8_t* row, int64_t k) {
    float v;
    std::memcpy(&v, row + 4 * k, sizeof v);
    return v;
  }
};

struct F16Weights {
  static __m256 load8(const uint8_t* row, int64_t k) { return _mm256_cvtph_ps(avx2::load_128(row + 2 * k)); }
  static float load1(const uint8_t* row, int64_t k) {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, sizeof h);
    return fp16_to_fp32_fast(h);
  }
};

struct BF16Weights {
  static __m256 load8(const uint8_t* row, int64_t k) {
    const __m256i wide = _mm256_cvtepu16_epi32(avx2::load_128(row + 2 * k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float load1(const uint8_t* row, int64_t k) {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, sizeof h);
    return bf16_to_fp32_inline(h);
  }
};

template <typename Weights>
struct FloatTile {
  template <int MR, int NR>
  struct Kernel {
    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                    int64_t ldy) {
      __m256 acc[MR][NR];
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
      }
      const float* x[MR];
      for (int i = 0; i < MR; ++i) x[i] = a.x(a_first + i);

      const int64_t n_vec = n / 8 * 8;
      for (int64_t k = 0; k < n_vec; k += 8) {
        __m256 wv[NR];
        for (int j = 0; j < NR; ++j) wv[j] = Weights::load8(w + j * w_stride, k);
        for (int i = 0; i < MR; ++i) {
          const __m256 xv = _mm256_loadu_ps(x[i] + k);
          for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(wv[j], xv, acc[i][j]);
        }
      }
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) {
          float total = avx2::hsum(acc[i][j]);
          for (int64_t k = n_vec; k < n; ++k) total += Weights::load1(w + j * w_stride, k) * x[i][k];
          y[i * ldy + j] = total;
        }
      }
    }
  };
};

template <typename Weights>
KernelSet make_set(GgmlType type) {
  KernelSet set;
  set.act = ActFormat::F32;
  set.gemm_mr = 4;
  set.gemm_nr = 2;
  set.gemv_nr = 4;
  fill_tiles<FloatTile<Weights>::template Kernel>(set);
  return set;
}

}  // namespace

const KernelSet* avx2_float_kernel_set(GgmlType type) {
  static const KernelSet f32 = make_set<F32Weights>(GgmlType::F32);
  static const KernelSet f16 = make_set<F16Weights>(GgmlType::F16);
  static const KernelSet bf16 = make_set<BF16Weights>(GgmlType::BF16);
  switch (type) {
    case GgmlType::F32: return &f32;
    case GgmlType::F16: return &f16;
    case GgmlType::BF16: return &bf16;
    default: return nullptr;
  }
}

}  // namespace lkv

#else  // no AVX2

namespace lkv {
const KernelSet* avx2_float_kernel_set(GgmlType) { return nullptr; }
}  // namespace lkv

#endif
