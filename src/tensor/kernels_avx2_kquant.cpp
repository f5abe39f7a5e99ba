// AVX2 kernels for the K-quants (Q4_K, Q5_K, Q6_K) against Q8_K activations.
//
// Weight codes are unsigned (0..15, 0..31 or 0..63), so maddubs multiplies them with the signed
// activation codes directly. A madd by the broadcast sub-block scale turns the int16 pair sums into
// int32 lanes, and the whole super-block stays in integers until one FMA with d_w · d_a. Offsets never
// touch the codes: the Q4_K/Q5_K min term is Σ_s m[s] · (activation sum of sub-block s) and the Q6_K
// "− 32" term is 32 · Σ_s scale[s] · (activation sum of sub-block s), both from the Q8_K row sums.
#include "tensor/kernels.h"

#if defined(__AVX2__)

#include "tensor/block_formats.h"
#include "tensor/simd_avx2.h"

namespace lkv {

namespace {

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Byte-wise ((v >> kBit) & 1) << 4 for kBit in [0, 7].
template <int kBit>
inline __m256i bit_to_0x10(__m256i v) {
  const __m256i mask = _mm256_set1_epi8(0x10);
  if constexpr (kBit > 4) return _mm256_and_si256(_mm256_srli_epi16(v, kBit - 4), mask);
  if constexpr (kBit < 4) return _mm256_and_si256(_mm256_slli_epi16(v, 4 - kBit), mask);
  return _mm256_and_si256(v, mask);
}

template <int MR, int NR>
inline void store_tile(__m256 (&acc)[MR][NR], float* y, int64_t ldy) {
  for (int i = 0; i < MR; ++i) {
    if constexpr (NR == 4) {
      _mm_storeu_ps(y + i * ldy, avx2::hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    } else {
      for (int j = 0; j < NR; ++j) y[i * ldy + j] = avx2::hsum(acc[i][j]);
    }
  }
}

// unpack_k_scales() in general-purpose registers, four bytes per operation: returns sc[0..7] in
// bytes 0–7 and m[0..7] in bytes 8–15. Byte stores followed by a vector load would stall on store
// forwarding once per super-block and weight row.
inline __m128i unpack_k_scales_128(const uint8_t* packed) {
  const uint32_t v0 = avx2::load_u32(packed);      // sc[0..3] low 6 bits, sc[4..7] top 2 bits
  const uint32_t v1 = avx2::load_u32(packed + 4);  // m[0..3] low 6 bits, m[4..7] top 2 bits
  const uint32_t v2 = avx2::load_u32(packed + 8);  // sc[4..7] and m[4..7] low nibbles
  const uint32_t sc_low = v0 & 0x3f3f3f3fu;
  const uint32_t m_low = v1 & 0x3f3f3f3fu;
  const uint32_t sc_high = (v2 & 0x0f0f0f0fu) | ((v0 >> 2) & 0x30303030u);
  const uint32_t m_high = ((v2 >> 4) & 0x0f0f0f0fu) | ((v1 >> 2) & 0x30303030u);
  const uint64_t sc = sc_low | (static_cast<uint64_t>(sc_high) << 32);
  const uint64_t m = m_low | (static_cast<uint64_t>(m_high) << 32);
  return _mm_set_epi64x(static_cast<int64_t>(m), static_cast<int64_t>(sc));
}

// Shuffle masks that broadcast int16 element e of each 128-bit lane to the whole lane.
inline __m256i broadcast_i16_mask(int e) {
  return _mm256_set1_epi16(static_cast<short>((2 * e) | ((2 * e + 1) << 8)));
}

template <bool kFifthBit, typename Block>
struct Q45KTile {
  template <int MR, int NR>
  struct Kernel {
    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                    int64_t ldy) {
      __m256 acc[MR][NR];
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
      }
      const int64_t n_blocks = n / kQKK;
      for (int64_t b = 0; b < n_blocks; ++b) {
        const Block* blocks[NR];
        __m256i scales[NR];  // sc[0..7] as int16 in both 128-bit lanes
        __m256i mins[NR];    // m[0], m[0], m[1], m[1], ... as int16, to pair with the 16 row sums
        __m256 d[NR];
        __m256 dmin[NR];
        for (int j = 0; j < NR; ++j) {
          blocks[j] = reinterpret_cast<const Block*>(w + j * w_stride) + b;
          const __m128i packed = unpack_k_scales_128(blocks[j]->scales);  // sc[0..7], m[0..7]
          scales[j] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(packed));
          mins[j] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(packed, packed));
          d[j] = avx2::broadcast_fp16(load_u16(reinterpret_cast<const uint8_t*>(blocks[j])));
          dmin[j] = avx2::broadcast_fp16(load_u16(reinterpret_cast<const uint8_t*>(blocks[j]) + 2));
        }

        __m256i sums[MR][NR];
        for (int i = 0; i < MR; ++i) {
          for (int j = 0; j < NR; ++j) sums[i][j] = _mm256_setzero_si256();
        }
        [&]<int... C>(std::integer_sequence<int, C...>) {
          (accumulate_chunk<C>(blocks, scales, a, a_first, b, sums), ...);
        }(std::make_integer_sequence<int, 4>{});

        for (int i = 0; i < MR; ++i) {
          const __m256 a_scale = _mm256_broadcast_ss(a.d(a_first + i) + b);
          const __m256i row_sums = avx2::load_256(a.bsums(a_first + i) + 16 * b);
          for (int j = 0; j < NR; ++j) {
            const __m256 min_term = _mm256_cvtepi32_ps(_mm256_madd_epi16(row_sums, mins[j]));
            acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(d[j], a_scale), _mm256_cvtepi32_ps(sums[i][j]), acc[i][j]);
            acc[i][j] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin[j], a_scale), min_term, acc[i][j]);
          }
        }
      }
      store_tile<MR, NR>(acc, y, ldy);
    }

    // Chunk kChunk covers elements 64·kChunk .. +63: low nibbles are sub-block 2·kChunk, high nibbles
    // sub-block 2·kChunk + 1.
    template <int kChunk>
    static inline void accumulate_chunk(const Block* const* blocks, const __m256i* scales, const ActRows& a,
                                        int64_t a_first, int64_t b, __m256i (&sums)[MR][NR]) {
      const __m256i low_mask = _mm256_set1_epi8(0x0f);
      for (int j = 0; j < NR; ++j) {
        const __m256i packed = avx2::load_256(blocks[j]->qs + 32 * kChunk);
        __m256i low = _mm256_and_si256(packed, low_mask);
        __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask);
        if constexpr (kFifthBit) {
          const __m256i qh = avx2::load_256(blocks[j]->qh);
          low = _mm256_or_si256(low, bit_to_0x10<2 * kChunk>(qh));
          high = _mm256_or_si256(high, bit_to_0x10<2 * kChunk + 1>(qh));
        }
        const __m256i scale_low = _mm256_shuffle_epi8(scales[j], broadcast_i16_mask(2 * kChunk));
        const __m256i scale_high = _mm256_shuffle_epi8(scales[j], broadcast_i16_mask(2 * kChunk + 1));
        for (int i = 0; i < MR; ++i) {
          const int8_t* codes = a.q(a_first + i) + kQKK * b + 64 * kChunk;
          const __m256i a_low = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes));
          const __m256i a_high = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 32));
          const __m256i p_low = _mm256_madd_epi16(_mm256_maddubs_epi16(low, a_low), scale_low);
          const __m256i p_high = _mm256_madd_epi16(_mm256_maddubs_epi16(high, a_high), scale_high);
          sums[i][j] = _mm256_add_epi32(sums[i][j], _mm256_add_epi32(p_low, p_high));
        }
      }
    }
  };
};

// Shuffle masks for Q6_K: lane 0 gets int16 element 2g, lane 1 element 2g + 1, so one madd applies
// the scales of the two 16-element sub-blocks that a 32-byte group of codes spans.
inline __m256i q6_scale_mask(int g) {
  const short lo = static_cast<short>((4 * g) | ((4 * g + 1) << 8));
  const short hi = static_cast<short>((4 * g + 2) | ((4 * g + 3) << 8));
  return _mm256_setr_epi16(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi);
}

struct Q6KTile {
  template <int MR, int NR>
  struct Kernel {
    static void run(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n, float* y,
                    int64_t ldy) {
      __m256 acc[MR][NR];
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
      }
      const int64_t n_blocks = n / kQKK;
      for (int64_t b = 0; b < n_blocks; ++b) {
        const BlockQ6_K* blocks[NR];
        __m256i scales_all[NR];   // scales[0..15] as int16, in element order
        __m256i scales_half[NR][2];  // scales[8h .. 8h+7] as int16 in both lanes
        __m256 d[NR];
        for (int j = 0; j < NR; ++j) {
          blocks[j] = reinterpret_cast<const BlockQ6_K*>(w + j * w_stride) + b;
          const __m128i raw = avx2::load_128(blocks[j]->scales);
          scales_all[j] = _mm256_cvtepi8_epi16(raw);
          scales_half[j][0] = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(raw));
          scales_half[j][1] = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_srli_si128(raw, 8)));
          d[j] = avx2::broadcast_fp16(blocks[j]->d);
        }

        __m256i sums[MR][NR];
        for (int i = 0; i < MR; ++i) {
          for (int j = 0; j < NR; ++j) sums[i][j] = _mm256_setzero_si256();
        }
        accumulate_half<0>(blocks, scales_half, a, a_first, b, sums);
        accumulate_half<1>(blocks, scales_half, a, a_first, b, sums);

        for (int i = 0; i < MR; ++i) {
          const __m256 a_scale = _mm256_broadcast_ss(a.d(a_first + i) + b);
          const __m256i row_sums = avx2::load_256(a.bsums(a_first + i) + 16 * b);
          for (int j = 0; j < NR; ++j) {
            // Σ scale · (q − 32) · a = Σ scale · q · a − 32 · Σ_s scale[s] · bsum[s].
            const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(row_sums, scales_all[j]), 5);
            const __m256i total = _mm256_sub_epi32(sums[i][j], offset);
            acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(d[j], a_scale), _mm256_cvtepi32_ps(total), acc[i][j]);
          }
        }
      }
      store_tile<MR, NR>(acc, y, ldy);
    }

    // Half kHalf covers elements 128·kHalf .. +127 in four groups of 32 (see the Q6_K dequantizer).
    template <int kHalf>
    static inline void accumulate_half(const BlockQ6_K* const* blocks, const __m256i (*scales_half)[2],
                                       const ActRows& a, int64_t a_first, int64_t b, __m256i (&sums)[MR][NR]) {
      const __m256i low_mask = _mm256_set1_epi8(0x0f);
      const __m256i two_bits = _mm256_set1_epi8(0x30);
      for (int j = 0; j < NR; ++j) {
        const uint8_t* ql = blocks[j]->ql + 64 * kHalf;
        const __m256i ql0 = avx2::load_256(ql);
        const __m256i ql1 = avx2::load_256(ql + 32);
        const __m256i qh = avx2::load_256(blocks[j]->qh + 32 * kHalf);
        __m256i codes[4];
        codes[0] = _mm256_or_si256(_mm256_and_si256(ql0, low_mask),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 4), two_bits));
        codes[1] = _mm256_or_si256(_mm256_and_si256(ql1, low_mask),
                                   _mm256_and_si256(_mm256_slli_epi16(qh, 2), two_bits));
        codes[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low_mask),
                                   _mm256_and_si256(qh, two_bits));
        codes[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low_mask),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits));
        __m256i group_scales[4];
        for (int g = 0; g < 4; ++g) group_scales[g] = _mm256_shuffle_epi8(scales_half[j][kHalf], q6_scale_mask(g));
        for (int i = 0; i < MR; ++i) {
          const int8_t* act = a.q(a_first + i) + kQKK * b + 128 * kHalf;
          __m256i total = sums[i][j];
          for (int g = 0; g < 4; ++g) {
            const __m256i a_vec = _mm256_load_si256(reinterpret_cast<const __m256i*>(act + 32 * g));
            total = _mm256_add_epi32(total, _mm256_madd_epi16(_mm256_maddubs_epi16(codes[g], a_vec), group_scales[g]));
          }
          sums[i][j] = total;
        }
      }
    }
  };
};

template <template <int, int> class Kernel>
KernelSet make_set(GgmlType type, int gemm_mr, int gemm_nr, int gemv_nr) {
  KernelSet set;
  set.act = act_format_for(type);
  set.gemm_mr = gemm_mr;
  set.gemm_nr = gemm_nr;
  set.gemv_nr = gemv_nr;
  fill_tiles<Kernel>(set);
  return set;
}

}  // namespace

const KernelSet* avx2_k_quant_kernel_set(GgmlType type) {
  static const KernelSet q4_k = make_set<Q45KTile<false, BlockQ4_K>::Kernel>(GgmlType::Q4_K, 4, 2, 1);
  static const KernelSet q5_k = make_set<Q45KTile<true, BlockQ5_K>::Kernel>(GgmlType::Q5_K, 4, 2, 1);
  static const KernelSet q6_k = make_set<Q6KTile::Kernel>(GgmlType::Q6_K, 4, 2, 1);
  switch (type) {
    case GgmlType::Q4_K: return &q4_k;
    case GgmlType::Q5_K: return &q5_k;
    case GgmlType::Q6_K: return &q6_k;
    default: return nullptr;
  }
}

}  // namespace lkv

#else  // no AVX2

namespace lkv {
const KernelSet* avx2_k_quant_kernel_set(GgmlType) { return nullptr; }
}  // namespace lkv

#endif
