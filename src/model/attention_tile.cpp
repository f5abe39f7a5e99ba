#include "model/attention_tile.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kvcache/kv_cache.h"
#include "model/vec_f32.h"
#include "tensor/float_convert.h"
#include "tensor/simd_avx2.h"

namespace lkv {

namespace {

// Keys per block: a block of K or V rows (64 KiB in f32 at head_dim 256) stays in L2 while every
// query of the tile uses it.
constexpr int kKeyBlock = 64;
// Queries per micro-kernel call: 4 queries × 2 keys (scores) or 4 queries × 16 lanes (output) keep
// 8 accumulators and the operands in the 16 AVX2 registers.
constexpr int kQueryGroup = 4;

inline __m256 load8(const float* x) { return _mm256_loadu_ps(x); }
inline __m256 load8(const uint16_t* x) { return vec::load_f16(x); }
inline float to_f32(float x) { return x; }
inline float to_f32(uint16_t x) { return fp16_to_fp32_fast(x); }

// Finishes one query-key score: the lanes' sum, then the head_dim % 8 tail in order. Every kernel
// shape ends a score here, so a score does not depend on the shape that computed it.
template <typename KV>
inline float finish_score(__m256 acc, const float* q, const KV* k, int from, int hd) {
  float sum = vec::hsum(acc);
  for (int i = from; i < hd; ++i) sum += q[i] * to_f32(k[i]);
  return sum;
}

// Scores of NQ queries against NK consecutive keys starting at entry j, one accumulator per pair.
template <typename KV, int NQ, int NK>
inline void score_kernel(const float* const* q, const KV* keys, int hd, int j, float* probs, int64_t stride) {
  __m256 acc[NQ][NK];
#pragma GCC unroll 4
  for (int a = 0; a < NQ; ++a) {
#pragma GCC unroll 8
    for (int b = 0; b < NK; ++b) acc[a][b] = _mm256_setzero_ps();
  }
  const KV* k = keys + static_cast<int64_t>(j) * hd;
  const int hd8 = hd & ~7;
  for (int c = 0; c < hd8; c += 8) {
    __m256 kv[NK];
#pragma GCC unroll 8
    for (int b = 0; b < NK; ++b) kv[b] = load8(k + static_cast<int64_t>(b) * hd + c);
#pragma GCC unroll 4
    for (int a = 0; a < NQ; ++a) {
      const __m256 qa = _mm256_loadu_ps(q[a] + c);
#pragma GCC unroll 8
      for (int b = 0; b < NK; ++b) acc[a][b] = _mm256_fmadd_ps(qa, kv[b], acc[a][b]);
    }
  }
  for (int a = 0; a < NQ; ++a) {
    for (int b = 0; b < NK; ++b) {
      probs[a * stride + j + b] = finish_score(acc[a][b], q[a], k + static_cast<int64_t>(b) * hd, hd8, hd);
    }
  }
}

template <typename KV, int NQ>
void score_block(const float* const* q, const KV* keys, int hd, int j0, int j1, float* probs, int64_t stride) {
  int j = j0;
  if constexpr (NQ == 1) {
    // A lone query (decode) takes 8 keys at a time, so 8 independent FMA chains hide the latency.
    for (; j + 8 <= j1; j += 8) score_kernel<KV, 1, 8>(q, keys, hd, j, probs, stride);
  }
  for (; j + 2 <= j1; j += 2) score_kernel<KV, NQ, 2>(q, keys, hd, j, probs, stride);
  if (j < j1) score_kernel<KV, NQ, 1>(q, keys, hd, j, probs, stride);
}

// out[a] += Σ_j probs[a][j] · values[j] over j in [j0, j1), for NQ queries. Each output element
// accumulates with one fused multiply-add per entry in entry order, whatever the kernel shape.
template <typename KV, int NQ>
void output_block(float* const* out, const float* probs, int64_t stride, const KV* values, int hd, int j0, int j1) {
  int c = 0;
  if constexpr (NQ == 1) {
    // A lone query (decode) takes 64 lanes at a time: 8 independent FMA chains per entry.
    for (; c + 64 <= hd; c += 64) {
      __m256 acc[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) acc[k] = _mm256_loadu_ps(out[0] + c + 8 * k);
      for (int j = j0; j < j1; ++j) {
        const KV* v = values + static_cast<int64_t>(j) * hd + c;
        const __m256 p = _mm256_set1_ps(probs[j]);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) acc[k] = _mm256_fmadd_ps(p, load8(v + 8 * k), acc[k]);
      }
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(out[0] + c + 8 * k, acc[k]);
    }
  }
  for (; c + 16 <= hd; c += 16) {
    __m256 acc[NQ][2];
#pragma GCC unroll 4
    for (int a = 0; a < NQ; ++a) {
      acc[a][0] = _mm256_loadu_ps(out[a] + c);
      acc[a][1] = _mm256_loadu_ps(out[a] + c + 8);
    }
    for (int j = j0; j < j1; ++j) {
      const KV* v = values + static_cast<int64_t>(j) * hd + c;
      const __m256 v0 = load8(v), v1 = load8(v + 8);
#pragma GCC unroll 4
      for (int a = 0; a < NQ; ++a) {
        const __m256 p = _mm256_set1_ps(probs[a * stride + j]);
        acc[a][0] = _mm256_fmadd_ps(p, v0, acc[a][0]);
        acc[a][1] = _mm256_fmadd_ps(p, v1, acc[a][1]);
      }
    }
#pragma GCC unroll 4
    for (int a = 0; a < NQ; ++a) {
      _mm256_storeu_ps(out[a] + c, acc[a][0]);
      _mm256_storeu_ps(out[a] + c + 8, acc[a][1]);
    }
  }
  for (; c + 8 <= hd; c += 8) {
    __m256 acc[NQ];
    for (int a = 0; a < NQ; ++a) acc[a] = _mm256_loadu_ps(out[a] + c);
    for (int j = j0; j < j1; ++j) {
      const __m256 v0 = load8(values + static_cast<int64_t>(j) * hd + c);
      for (int a = 0; a < NQ; ++a) acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(probs[a * stride + j]), v0, acc[a]);
    }
    for (int a = 0; a < NQ; ++a) _mm256_storeu_ps(out[a] + c, acc[a]);
  }
  for (; c < hd; ++c) {
    for (int a = 0; a < NQ; ++a) {
      float o = out[a][c];
      for (int j = j0; j < j1; ++j) o = std::fma(probs[a * stride + j], to_f32(values[static_cast<int64_t>(j) * hd + c]), o);
      out[a][c] = o;
    }
  }
}

// e^x per lane, for the x ≤ 0 of a softmax (scores minus their maximum). x = n·ln 2 + r with
// |r| ≤ ln 2 / 2, and e^r from a degree-7 polynomial. The attention tests check the probabilities
// to 1e-6 against a float64 softmax. Lanes below −87 give 0.
inline __m256 exp_ps(__m256 x) {
  const __m256 min_x = _mm256_set1_ps(-87.0f);
  const __m256 keep = _mm256_cmp_ps(x, min_x, _CMP_GE_OQ);
  x = _mm256_max_ps(x, min_x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(exponent)), keep);
}

// Computes s[j] = e^(s[j] − max) for j in [lo, hi), 8 lanes at a time. The tail goes through a
// padded copy, so every entry uses the same arithmetic.
void exp_shifted(float* s, int lo, int hi, float max_score) {
  const __m256 shift = _mm256_set1_ps(max_score);
  int j = lo;
  for (; j + 8 <= hi; j += 8) _mm256_storeu_ps(s + j, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), shift)));
  if (j < hi) {
    alignas(32) float tail[8] = {};
    std::copy(s + j, s + hi, tail);
    _mm256_store_ps(tail, exp_ps(_mm256_sub_ps(_mm256_load_ps(tail), shift)));
    std::copy(tail, tail + (hi - j), s + j);
  }
}

// Turns row r's scores over [lo, hi) into probabilities in place: masked entries and entries of
// [e_lo, e_hi) outside [lo, hi) become 0. A row with no visible entry becomes all zeros. The sum
// runs in double over 4 accumulators, the k-th visible entry into accumulator k mod 4, so it
// depends only on the visible entries and their order, not on their positions in the cache.
void softmax_row(float* s, int lo, int hi, int e_lo, int e_hi, const uint8_t* mask) {
  float max_score = -std::numeric_limits<float>::infinity();
  bool any = false;
  if (!mask) {
    any = hi > lo;
    int j = lo;
    __m256 vmax = _mm256_set1_ps(max_score);
    for (; j + 8 <= hi; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(s + j));
    max_score = avx2::hmax(vmax);
    for (; j < hi; ++j) max_score = std::max(max_score, s[j]);
  } else {
    for (int j = lo; j < hi; ++j) {
      if (!mask[j]) continue;
      max_score = std::max(max_score, s[j]);
      any = true;
    }
  }
  if (!any) {  // includes the empty range hi <= lo
    std::fill(s + e_lo, s + e_hi, 0.0f);
    return;
  }
  std::fill(s + e_lo, s + lo, 0.0f);
  std::fill(s + hi, s + e_hi, 0.0f);
  exp_shifted(s, lo, hi, max_score);

  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  if (!mask) {
    __m256d vacc = _mm256_setzero_pd();
    int j = lo;
    for (; j + 4 <= hi; j += 4) vacc = _mm256_add_pd(vacc, _mm256_cvtps_pd(_mm_loadu_ps(s + j)));
    _mm256_storeu_pd(acc, vacc);
    for (; j < hi; ++j) acc[(j - lo) & 3] += s[j];
  } else {
    int k = 0;
    for (int j = lo; j < hi; ++j) {
      if (!mask[j]) {
        s[j] = 0.0f;
        continue;
      }
      acc[k++ & 3] += s[j];
    }
  }
  const double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  int j = lo;
  for (; j + 8 <= hi; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
  for (; j < hi; ++j) s[j] *= _mm_cvtss_f32(_mm256_castps256_ps128(inv));
}

template <typename KV>
void attend_tile_impl(const AttentionTile& t, const KV* keys, const KV* values) {
  const int hd = t.head_dim;
  const int e_lo = t.entry_lo(), e_hi = t.entry_hi();
  if (t.out) {
    for (int r = 0; r < t.n_query; ++r) std::fill(t.out[r], t.out[r] + hd, 0.0f);
  }
  if (e_hi <= e_lo) return;

  // Scores for the union of the queries' ranges, key block by key block.
  for (int kb = e_lo; kb < e_hi; kb += kKeyBlock) {
    const int kb_end = std::min(e_hi, kb + kKeyBlock);
    int r = 0;
    for (; r + kQueryGroup <= t.n_query; r += kQueryGroup) {
      score_block<KV, kQueryGroup>(t.q + r, keys, hd, kb, kb_end, t.probs + r * t.probs_stride, t.probs_stride);
    }
    for (; r < t.n_query; ++r) score_block<KV, 1>(t.q + r, keys, hd, kb, kb_end, t.probs + r * t.probs_stride, t.probs_stride);
  }
  for (int r = 0; r < t.n_query; ++r) {
    softmax_row(t.probs + r * t.probs_stride, t.lo[r], t.hi[r], e_lo, e_hi, t.mask);
  }
  if (!t.out) return;
  // Weighted values. Entries outside a query's range have probability 0 and add exact zeros.
  for (int kb = e_lo; kb < e_hi; kb += kKeyBlock) {
    const int kb_end = std::min(e_hi, kb + kKeyBlock);
    int r = 0;
    for (; r + kQueryGroup <= t.n_query; r += kQueryGroup) {
      output_block<KV, kQueryGroup>(t.out + r, t.probs + r * t.probs_stride, t.probs_stride, values, hd, kb, kb_end);
    }
    for (; r < t.n_query; ++r) {
      output_block<KV, 1>(t.out + r, t.probs + r * t.probs_stride, t.probs_stride, values, hd, kb, kb_end);
    }
  }
}

}  // namespace

int AttentionTile::entry_lo() const {
  int v = std::numeric_limits<int>::max();
  for (int r = 0; r < n_query; ++r) {
    if (hi[r] > lo[r]) v = std::min(v, lo[r]);
  }
  return v == std::numeric_limits<int>::max() ? 0 : v;
}

int AttentionTile::entry_hi() const {
  int v = 0;
  for (int r = 0; r < n_query; ++r) {
    if (hi[r] > lo[r]) v = std::max(v, hi[r]);
  }
  return v;
}

void attend_tile(const AttentionTile& tile, const float* keys, const float* values) {
  attend_tile_impl(tile, keys, values);
}

void attend_tile(const AttentionTile& tile, const uint16_t* keys, const uint16_t* values) {
  attend_tile_impl(tile, keys, values);
}

void attend_tile(const AttentionTile& tile, const KVCache& cache, int layer, int kv_head) {
  if (cache.type() == KVCacheType::F16) {
    attend_tile(tile, cache.keys_f16(layer, kv_head), tile.out ? cache.values_f16(layer, kv_head) : nullptr);
  } else {
    attend_tile(tile, cache.keys(layer, kv_head), tile.out ? cache.values(layer, kv_head) : nullptr);
  }
}

}  // namespace lkv
