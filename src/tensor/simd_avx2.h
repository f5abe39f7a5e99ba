// Small AVX2 helpers shared by the kernels. Only included under __AVX2__.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lkv::avx2 {

// Sums the 8 lanes in the same order as hsum4, so a result does not depend on which one a
// kernel used: ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)).
inline float hsum(__m256 v) {
  const __m256 pairs = _mm256_hadd_ps(v, v);
  const __m256 quads = _mm256_hadd_ps(pairs, pairs);
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(quads), _mm256_extractf128_ps(quads, 1)));
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Horizontal sums of four vectors: lane k of the result is the sum of v[k].
inline __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
  const __m256 a = _mm256_hadd_ps(v0, v1);  // per 128-bit lane: v0 pair sums, v1 pair sums
  const __m256 b = _mm256_hadd_ps(v2, v3);
  const __m256 c = _mm256_hadd_ps(a, b);  // per 128-bit lane: partial sums of v0, v1, v2, v3
  return _mm_add_ps(_mm256_castps256_ps128(c), _mm256_extractf128_ps(c, 1));
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline __m256 broadcast_fp16(uint16_t h) {
  return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
}

inline __m128i load_128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline __m256i load_256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Σ over each group of 4 byte products u8 · s8, as 8 int32 lanes. The pairwise int16 sums cannot
// saturate while |u| ≤ 128 and |s| ≤ 127.
inline __m256i dot_u8_s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Same for two signed vectors: moves w's sign onto a so that |w| can be the unsigned operand.
// Requires a ≠ −128 (activation codes are in [−127, 127]).
inline __m256i dot_s8_s8(__m256i w, __m256i a) {
  return dot_u8_s8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

// 16 packed bytes → 32 bytes: low nibbles in bytes 0–15, high nibbles in bytes 16–31.
// The broadcast load needs no shuffle unit, and one variable shift moves the high nibbles down in
// the upper lane only.
inline __m256i unpack_nibbles_split(const uint8_t* qs) {
  const __m256i both = _mm256_broadcastsi128_si256(load_128(qs));
  const __m256i shifted = _mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0f));
}

// 32 bits → 32 bytes: byte j is 0x10 when bit j is set, 0 otherwise.
inline __m256i expand_bits_to_0x10(uint32_t bits) {
  const __m256i shuffle = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303);
  const __m256i bit_in_byte = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
  v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit_in_byte), bit_in_byte);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace lkv::avx2

#endif  // __AVX2__
