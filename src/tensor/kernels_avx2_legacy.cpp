// AVX2 kernels for the 32-element block formats.
//
// Q4_0, Q5_0 and Q8_0 weights are expanded to signed bytes and multiplied with Q8_0 activation
// codes by the sign trick (|w| as the unsigned maddubs operand, w's sign moved onto the activation).
// Q4_1 and Q5_1 codes are unsigned already and pair with Q8_1 rows; their offset term m · s is added
// into lane 0 of the accumulator. Per block and (activation row, weight row) pair the integer dot
// becomes 8 int32 lanes, converted once and scaled by d_w · d_a in one FMA.
#include "tensor/kernels.h"

#if defined(__AVX2__)

#include "tensor/block_formats.h"
#include "tensor/simd_avx2.h"

namespace lkv {

namespace {

using avx2::load_u32;

struct Q8_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0);
  static __m256i codes(const uint8_t* block) { return avx2::load_256(block + 2); }
};

struct Q4_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0);
  static __m256i codes(const uint8_t* block) {
    return _mm256_sub_epi8(avx2::unpack_nibbles_split(block + 2), _mm256_set1_epi8(8));
  }
};

struct Q5_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr size_t kBlockBytes = sizeof(BlockQ5_0);
  static __m256i codes(const uint8_t* block) {
    const __m256i low = avx2::unpack_nibbles_split(block + 6);
    const __m256i high = avx2::expand_bits_to_0x10(load_u32(block + 2));
    return _mm256_sub_epi8(_mm256_or_si256(low, high), _mm256_set1_epi8(16));
  }
};

struct Q4_1Weights {
  static constexpr bool kHasMin = true;
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1);
  static __m256i codes(const uint8_t* block) { return avx2::unpack_nibbles_split(block + 4); }
};

struct Q5_1Weights {
  static constexpr bool kHasMin = true;
  static constexpr size_t kBlockBytes = sizeof(BlockQ5_1);
  static __m256i codes(const uint8_t* block) {
    const __m256i low = avx2::unpack_nibbles_split(block + 8);
    return _mm256_or_si256(low, avx2::expand_bits_to_0x10(load_u32(block + 4)));
  }
};

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Writes the horizontal sums of acc[0..NR) to y[0..NR).
template <int NR>
inline void store_row(const __m256* acc, float* y) {
  if constexpr (NR == 4) {
    _mm_storeu_ps(y, avx2::hsum4(acc[0], acc[1], acc[2], acc[3]));
  } else {
    for (int j = 0; j < NR; ++j) y[j] = avx2::hsum(acc[j]);
  }
}

// GEMV tiles prefetch the same block this many rows ahead. With row-contiguous weights and one row
// per tile this keeps a single sequential stream a few KiB ahead; measured on a Zen 4 VM the Q8_0
// head GEMV ran at DRAM read speed with 1-row tiles and at less than half of it with 4-row tiles
// (4 interleaved short streams), which is why gemv_nr is 1.
constexpr int kPrefetchRows = 4;

template <typename Weights>
struct BlockTile {
  template <int MR, int NR>
  struct Kernel {
    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                    int64_t ldy) {
      __m256 acc[MR][NR];
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
      }
      const int8_t* a_codes[MR];
      const float* a_scales[MR];
      [[maybe_unused]] const float* a_sums[MR];
      for (int i = 0; i < MR; ++i) {
        a_codes[i] = a.q(a_first + i);
        a_scales[i] = a.d(a_first + i);
        if constexpr (Weights::kHasMin) a_sums[i] = a.s(a_first + i);
      }

      const int64_t n_blocks = n / kQK;
      for (int64_t b = 0; b < n_blocks; ++b) {
        __m256i w_codes[NR];
        __m256 w_scale[NR];
        [[maybe_unused]] __m256 w_min[NR];
        for (int j = 0; j < NR; ++j) {
          const uint8_t* block = w + j * w_stride + b * Weights::kBlockBytes;
          if constexpr (MR == 1) {
            _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchRows * w_stride), _MM_HINT_T0);
          }
          w_codes[j] = Weights::codes(block);
          w_scale[j] = avx2::broadcast_fp16(load_u16(block));
          if constexpr (Weights::kHasMin) w_min[j] = avx2::broadcast_fp16(load_u16(block + 2));
        }
        for (int i = 0; i < MR; ++i) {
          const __m256i a_vec = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_codes[i] + kQK * b));
          const __m256 a_scale = _mm256_broadcast_ss(a_scales[i] + b);
          for (int j = 0; j < NR; ++j) {
            __m256i dot;
            if constexpr (Weights::kHasMin) {
              dot = avx2::dot_u8_s8(w_codes[j], a_vec);
            } else {
              dot = avx2::dot_s8_s8(w_codes[j], a_vec);
            }
            acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(w_scale[j], a_scale), _mm256_cvtepi32_ps(dot), acc[i][j]);
          }
          if constexpr (Weights::kHasMin) {
            // m · s goes into lane 0 only; the final horizontal sum adds it once.
            const __m256 a_sum = _mm256_zextps128_ps256(_mm_load_ss(a_sums[i] + b));
            for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(w_min[j], a_sum, acc[i][j]);
          }
        }
      }
      for (int i = 0; i < MR; ++i) store_row<NR>(acc[i], y + i * ldy);
    }
  };
};

template <typename Weights>
KernelSet make_set(GgmlType type, int gemm_mr, int gemm_nr, int gemv_nr) {
  KernelSet set;
  set.act = act_format_for(type);
  set.gemm_mr = gemm_mr;
  set.gemm_nr = gemm_nr;
  set.gemv_nr = gemv_nr;
  fill_tiles<BlockTile<Weights>::template Kernel>(set);
  return set;
}

}  // namespace

const KernelSet* avx2_legacy_kernel_set(GgmlType type) {
  static const KernelSet q4_0 = make_set<Q4_0Weights>(GgmlType::Q4_0, 4, 2, 1);
  static const KernelSet q4_1 = make_set<Q4_1Weights>(GgmlType::Q4_1, 4, 2, 1);
  static const KernelSet q5_0 = make_set<Q5_0Weights>(GgmlType::Q5_0, 4, 2, 1);
  static const KernelSet q5_1 = make_set<Q5_1Weights>(GgmlType::Q5_1, 4, 2, 1);
  static const KernelSet q8_0 = make_set<Q8_0Weights>(GgmlType::Q8_0, 4, 2, 1);
  switch (type) {
    case GgmlType::Q4_0: return &q4_0;
    case GgmlType::Q4_1: return &q4_1;
    case GgmlType::Q5_0: return &q5_0;
    case GgmlType::Q5_1: return &q5_1;
    case GgmlType::Q8_0: return &q8_0;
    default: return nullptr;
  }
}

}  // namespace lkv

#else  // no AVX2

namespace lkv {
const KernelSet* avx2_legacy_kernel_set(GgmlType) { return nullptr; }
}  // namespace lkv

#endif
