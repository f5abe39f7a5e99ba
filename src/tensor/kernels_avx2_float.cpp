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

// One activation row against one weight row with four accumulators, so the FMA latency does not
// bound the streaming speed.
template <typename Weights>
struct FloatGemv {
  static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                  int64_t ldy) {
    (void)w_stride;
    (void)ldy;
    const float* x = a.x(a_first);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const int64_t n_unrolled = n / 32 * 32;
    for (int64_t k = 0; k < n_unrolled; k += 32) {
      for (int u = 0; u < 4; ++u) {
        acc[u] = _mm256_fmadd_ps(Weights::load8(w, k + 8 * u), _mm256_loadu_ps(x + k + 8 * u), acc[u]);
      }
    }
    const int64_t n_vec = n / 8 * 8;
    for (int64_t k = n_unrolled; k < n_vec; k += 8) {
      acc[0] = _mm256_fmadd_ps(Weights::load8(w, k), _mm256_loadu_ps(x + k), acc[0]);
    }
    float total = avx2::hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (int64_t k = n_vec; k < n; ++k) total += Weights::load1(w, k) * x[k];
    y[0] = total;
  }
};

template <typename Weights>
KernelSet make_set(GgmlType type) {
  KernelSet set;
  set.act = ActFormat::F32;
  // 4 × 3 keeps the 12 accumulators, 3 weight vectors and 1 activation vector in the 16 ymm
  // registers. It measured about twice as fast as 4 × 2 for F16 on Zen 4.
  set.gemm_mr = 4;
  set.gemm_nr = 3;
  set.gemv_nr = 1;
  fill_tiles<FloatTile<Weights>::template Kernel>(set);
  set.gemv = &FloatGemv<Weights>::run;
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
