// AVX2 kernels for the 32-element block formats.
//
// Q8_0 weights are signed bytes, multiplied with Q8_0 activation codes by the sign trick (|w| as the
// unsigned maddubs operand, w's sign moved onto the activation). Q4_0, Q5_0, Q4_1 and Q5_1 keep their
// stored unsigned codes and pair with Q8_1 rows, whose block sums s = d_a · Σa carry the offset:
// Σ d_w · (q − kOffset) · d_a · a = d_w · d_a · Σ q · a − kOffset · d_w · s, and the min term of
// Q4_1 / Q5_1 is m · s. Per block and (activation row, weight row) pair the integer dot becomes 8
// int32 lanes, converted once and scaled by d_w · d_a in one FMA.
#include "tensor/kernels.h"

#if defined(__AVX2__)

#include "tensor/block_formats.h"
#include "tensor/simd_avx2.h"

namespace lkv {

namespace {

using avx2::load_u32;

// Q8_0 gives signed codes. The other formats give their stored unsigned codes: value =
// d · (code − kOffset) for Q4_0 / Q5_0, and value = d · code + m for the kHasMin formats.
struct Q8_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr bool kHasUnsigned = false;
  static constexpr int kOffset = 0;
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0);
  static __m256i signed_codes(const uint8_t* block) { return avx2::load_256(block + 2); }
};

struct Q4_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr bool kHasUnsigned = true;
  static constexpr int kOffset = 8;
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0);
  static __m256i unsigned_codes(const uint8_t* block) { return avx2::unpack_nibbles_split(block + 2); }
};

struct Q5_0Weights {
  static constexpr bool kHasMin = false;
  static constexpr bool kHasUnsigned = true;
  static constexpr int kOffset = 16;
  static constexpr size_t kBlockBytes = sizeof(BlockQ5_0);
  static __m256i unsigned_codes(const uint8_t* block) {
    const __m256i low = avx2::unpack_nibbles_split(block + 6);
    return _mm256_or_si256(low, avx2::expand_bits_to_0x10(load_u32(block + 2)));
  }
};

struct Q4_1Weights {
  static constexpr bool kHasMin = true;
  static constexpr bool kHasUnsigned = true;
  static constexpr int kOffset = 0;
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1);
  static __m256i unsigned_codes(const uint8_t* block) { return avx2::unpack_nibbles_split(block + 4); }
};

struct Q5_1Weights {
  static constexpr bool kHasMin = true;
  static constexpr bool kHasUnsigned = true;
  static constexpr int kOffset = 0;
  static constexpr size_t kBlockBytes = sizeof(BlockQ5_1);
  static __m256i unsigned_codes(const uint8_t* block) {
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

// The GEMV kernel prefetches the same block this many rows ahead, which keeps one sequential stream a few
// KiB ahead when rows are contiguous. On a Zen 4 VM the Q8_0 head GEMV ran at DRAM read speed with
// one weight row per call and at less than half of it with 4 rows (4 interleaved short streams), so
// gemv_nr is 1.
constexpr int kPrefetchRows = 4;

// Tile for signed codes (Q8_0).
template <typename Weights>
struct SignedBlockTile {
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
      for (int i = 0; i < MR; ++i) {
        a_codes[i] = a.q(a_first + i);
        a_scales[i] = a.d(a_first + i);
      }

      const int64_t n_blocks = n / kQK;
      for (int64_t b = 0; b < n_blocks; ++b) {
        __m256i w_codes[NR];
        __m256 w_scale[NR];
        for (int j = 0; j < NR; ++j) {
          const uint8_t* block = w + j * w_stride + b * Weights::kBlockBytes;
          w_codes[j] = Weights::signed_codes(block);
          w_scale[j] = avx2::broadcast_fp16(load_u16(block));
        }
        for (int i = 0; i < MR; ++i) {
          const __m256i a_vec = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_codes[i] + kQK * b));
          const __m256 a_scale = _mm256_broadcast_ss(a_scales[i] + b);
          for (int j = 0; j < NR; ++j) {
            const __m256i dot = avx2::dot_s8_s8(w_codes[j], a_vec);
            acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(w_scale[j], a_scale), _mm256_cvtepi32_ps(dot), acc[i][j]);
          }
        }
      }
      for (int i = 0; i < MR; ++i) store_row<NR>(acc[i], y + i * ldy);
    }
  };
};

// Tile for the formats with unsigned codes (Q4_0, Q5_0 against Q8_1 rows; Q4_1, Q5_1). The codes
// go straight into maddubs without the sign trick. Weight rows are handled in pairs: hadd_epi16
// merges the maddubs outputs of rows j and j + 1, which cannot overflow because codes ≤ 31 keep each
// sum below 2 · 2 · 31 · 127. One madd, one conversion and one FMA then serve two (activation row,
// weight row) pairs, and a 4 × 4 tile needs 8 accumulators instead of 16. An odd last row takes an
// unpaired path. The per-block offset term f · s (f = d_w for the symmetric formats, scaled by −kOffset at
// the end, or f = m for Q4_1 / Q5_1) is accumulated for all rows at once, as a 4-lane vector of f
// times the broadcast s of each activation row. On Zen 4 the pairing measured 17–24 % faster than
// one accumulator per pair (4 × 4 tiles, one thread).
template <typename Weights>
struct UnsignedBlockTile {
  template <int MR, int NR>
  struct Kernel {
    static constexpr int kPairs = NR / 2;
    static constexpr bool kSingle = (NR % 2) != 0;

    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                    int64_t ldy) {
      // Lanes of acc_pair[i][p], per 128-bit half: two partial sums of row 2p, then two of row 2p + 1.
      __m256 acc_pair[MR][kPairs > 0 ? kPairs : 1];
      __m256 acc_single[MR];
      __m128 offset[MR];  // lane j: Σ_b f_jb · s_ib
      for (int i = 0; i < MR; ++i) {
        for (int p = 0; p < kPairs; ++p) acc_pair[i][p] = _mm256_setzero_ps();
        acc_single[i] = _mm256_setzero_ps();
        offset[i] = _mm_setzero_ps();
      }
      const int8_t* a_codes[MR];
      const float* a_scales[MR];
      const float* a_sums[MR];
      for (int i = 0; i < MR; ++i) {
        a_codes[i] = a.q(a_first + i);
        a_scales[i] = a.d(a_first + i);
        a_sums[i] = a.s(a_first + i);
      }
      constexpr int kFactorOffset = Weights::kHasMin ? 2 : 0;  // byte offset of f in the block
      const __m256i ones = _mm256_set1_epi16(1);

      const int64_t n_blocks = n / kQK;
      for (int64_t b = 0; b < n_blocks; ++b) {
        __m256i w_codes[NR];
        // fp16 d of each row in the low 64 bits, f of each row in the high 64 bits, assembled in
        // general-purpose registers (byte stores and a vector reload would stall store forwarding).
        uint64_t d_bits = 0;
        uint64_t f_bits = 0;
        for (int j = 0; j < NR; ++j) {
          const uint8_t* block = w + j * w_stride + b * Weights::kBlockBytes;
          w_codes[j] = Weights::unsigned_codes(block);
          d_bits |= static_cast<uint64_t>(load_u16(block)) << (16 * j);
          f_bits |= static_cast<uint64_t>(load_u16(block + kFactorOffset)) << (16 * j);
        }
        const __m256 converted =
            _mm256_cvtph_ps(_mm_set_epi64x(static_cast<int64_t>(f_bits), static_cast<int64_t>(d_bits)));
        const __m128 factor = _mm256_extractf128_ps(converted, 1);
        __m256 pair_scale[kPairs > 0 ? kPairs : 1];
        for (int p = 0; p < kPairs; ++p) {
          const __m256i index = _mm256_setr_epi32(2 * p, 2 * p, 2 * p + 1, 2 * p + 1, 2 * p, 2 * p, 2 * p + 1, 2 * p + 1);
          pair_scale[p] = _mm256_permutevar8x32_ps(converted, index);
        }
        [[maybe_unused]] __m256 single_scale;
        if constexpr (kSingle) single_scale = _mm256_permutevar8x32_ps(converted, _mm256_set1_epi32(NR - 1));

        for (int i = 0; i < MR; ++i) {
          const __m256i a_vec = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_codes[i] + kQK * b));
          const __m256 a_scale = _mm256_broadcast_ss(a_scales[i] + b);
          for (int p = 0; p < kPairs; ++p) {
            const __m256i first = _mm256_maddubs_epi16(w_codes[2 * p], a_vec);
            const __m256i second = _mm256_maddubs_epi16(w_codes[2 * p + 1], a_vec);
            const __m256i dot = _mm256_madd_epi16(_mm256_hadd_epi16(first, second), ones);
            acc_pair[i][p] =
                _mm256_fmadd_ps(_mm256_mul_ps(pair_scale[p], a_scale), _mm256_cvtepi32_ps(dot), acc_pair[i][p]);
          }
          if constexpr (kSingle) {
            const __m256i dot = avx2::dot_u8_s8(w_codes[NR - 1], a_vec);
            acc_single[i] = _mm256_fmadd_ps(_mm256_mul_ps(single_scale, a_scale), _mm256_cvtepi32_ps(dot), acc_single[i]);
          }
          offset[i] = _mm_fmadd_ps(factor, _mm_broadcast_ss(a_sums[i] + b), offset[i]);
        }
      }

      const float offset_scale = Weights::kHasMin ? 1.0f : -static_cast<float>(Weights::kOffset);
      for (int i = 0; i < MR; ++i) {
        alignas(16) float offsets[4];
        _mm_store_ps(offsets, offset[i]);
        float sums[4];
        for (int p = 0; p < kPairs; ++p) {
          // [r0, r0, r1, r1] + [r0, r0, r1, r1] from the two halves, then adjacent pairs.
          const __m128 halves = _mm_add_ps(_mm256_castps256_ps128(acc_pair[i][p]), _mm256_extractf128_ps(acc_pair[i][p], 1));
          const __m128 totals = _mm_hadd_ps(halves, halves);
          sums[2 * p] = _mm_cvtss_f32(totals);
          sums[2 * p + 1] = _mm_cvtss_f32(_mm_movehdup_ps(totals));
        }
        if constexpr (kSingle) sums[NR - 1] = avx2::hsum(acc_single[i]);
        for (int j = 0; j < NR; ++j) y[i * ldy + j] = sums[j] + offset_scale * offsets[j];
      }
    }
  };
};

// One activation row against one weight row. Even and odd blocks go to separate accumulators so
// consecutive blocks do not wait on each other's FMA. The offset term (d_w · s or m · s) goes to a
// third accumulator, in lane 0 only.
template <typename Weights>
struct BlockGemv {
  static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                  int64_t ldy) {
    (void)ldy;
    const int8_t* a_codes = a.q(a_first);
    const float* a_scales = a.d(a_first);
    [[maybe_unused]] const float* a_sums = Weights::kHasUnsigned ? a.s(a_first) : nullptr;
    __m256 acc_even = _mm256_setzero_ps();
    __m256 acc_odd = _mm256_setzero_ps();
    __m256 acc_offset = _mm256_setzero_ps();

    const auto step = [&](int64_t b, __m256& acc) __attribute__((always_inline)) {
      const uint8_t* block = w + b * Weights::kBlockBytes;
      _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchRows * w_stride), _MM_HINT_T0);
      const __m256 w_scale = avx2::broadcast_fp16(load_u16(block));
      const __m256 scale = _mm256_mul_ps(w_scale, _mm256_broadcast_ss(a_scales + b));
      const __m256i a_vec = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_codes + kQK * b));
      __m256i dot;
      if constexpr (Weights::kHasUnsigned) {
        dot = avx2::dot_u8_s8(Weights::unsigned_codes(block), a_vec);
        // d_w · s (symmetric formats, scaled by −kOffset at the end) or m · s, in lane 0 only.
        const __m256 a_sum = _mm256_zextps128_ps256(_mm_load_ss(a_sums + b));
        const __m256 factor = Weights::kHasMin ? avx2::broadcast_fp16(load_u16(block + 2)) : w_scale;
        acc_offset = _mm256_fmadd_ps(factor, a_sum, acc_offset);
      } else {
        dot = avx2::dot_s8_s8(Weights::signed_codes(block), a_vec);
      }
      acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc);
    };

    const int64_t n_blocks = n / kQK;
    int64_t b = 0;
    for (; b + 1 < n_blocks; b += 2) {
      step(b, acc_even);
      step(b + 1, acc_odd);
    }
    if (b < n_blocks) step(b, acc_even);
    if constexpr (Weights::kOffset != 0) {
      acc_offset = _mm256_mul_ps(acc_offset, _mm256_set1_ps(-static_cast<float>(Weights::kOffset)));
    }
    y[0] = avx2::hsum(_mm256_add_ps(_mm256_add_ps(acc_even, acc_odd), acc_offset));
  }
};

template <typename Weights>
KernelSet make_set(GgmlType type, int gemm_mr, int gemm_nr, int gemv_nr) {
  KernelSet set;
  set.act = act_format_for(type);
  set.gemm_mr = gemm_mr;
  set.gemm_nr = gemm_nr;
  set.gemv_nr = gemv_nr;
  if constexpr (Weights::kHasUnsigned) {
    fill_tiles<UnsignedBlockTile<Weights>::template Kernel>(set);
  } else {
    fill_tiles<SignedBlockTile<Weights>::template Kernel>(set);
  }
  set.gemv = &BlockGemv<Weights>::run;
  return set;
}

}  // namespace

const KernelSet* avx2_legacy_kernel_set(GgmlType type) {
  static const KernelSet q4_0 = make_set<Q4_0Weights>(GgmlType::Q4_0, 4, 4, 1);
  static const KernelSet q4_1 = make_set<Q4_1Weights>(GgmlType::Q4_1, 4, 4, 1);
  static const KernelSet q5_0 = make_set<Q5_0Weights>(GgmlType::Q5_0, 4, 4, 1);
  static const KernelSet q5_1 = make_set<Q5_1Weights>(GgmlType::Q5_1, 4, 4, 1);
  static const KernelSet q8_0 = make_set<Q8_0Weights>(GgmlType::Q8_0, 4, 4, 1);
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
