#include "eviction/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/vec_f32.h"
#include "util/error.h"

namespace lkv {

void add_attention_columns(const KVCache& cache, const std::vector<LayerQueries>& queries, int n_head,
                           ThreadPool& pool, HeadScores& out) {
  LKV_CHECK(out.layers.size() == queries.size() && out.layer_scores.size() == queries.size());
  const int hd = cache.shape().head_dim;
  const int n_gqa = n_head / cache.shape().n_head_kv;
  const int n_tasks = static_cast<int>(queries.size()) * n_head;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()));
  pool.run(n_tasks, [&](int64_t task, int thread) {
    const size_t li = static_cast<size_t>(task / n_head);
    const int h = static_cast<int>(task % n_head);
    const LayerQueries& lq = queries[li];
    LKV_CHECK(out.layers[li] == lq.layer);
    const int n = cache.n_entries(lq.layer);
    if (n == 0 || lq.n_rows == 0) return;
    const int g = h / n_gqa;
    const int32_t* pos = cache.positions(lq.layer, g);
    float* col = out.layer_scores[li].data() + static_cast<size_t>(h) * n;
    std::vector<float>& s = scratch[static_cast<size_t>(thread)];
    s.resize(static_cast<size_t>(n));
    // Keys are float (f32 cache) or uint16_t (f16 cache), and vec::dot has an overload for each.
    auto add_rows = [&]<typename K>(const K* keys) {
      for (int r = 0; r < lq.n_rows; ++r) {
        const float* qr = lq.q + (static_cast<size_t>(r) * n_head + h) * hd;
        const int hi = static_cast<int>(std::upper_bound(pos, pos + n, lq.positions[r]) - pos);
        if (hi == 0) continue;
        float max_score = -std::numeric_limits<float>::infinity();
        for (int j = 0; j < hi; ++j) {
          s[static_cast<size_t>(j)] = vec::dot(qr, keys + static_cast<size_t>(j) * hd, hd);
          max_score = std::max(max_score, s[static_cast<size_t>(j)]);
        }
        double sum = 0.0;
        for (int j = 0; j < hi; ++j) {
          s[static_cast<size_t>(j)] = std::exp(s[static_cast<size_t>(j)] - max_score);
          sum += s[static_cast<size_t>(j)];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int j = 0; j < hi; ++j) col[j] += s[static_cast<size_t>(j)] * inv;
      }
    };
    if (cache.type() == KVCacheType::F16) {
      add_rows(cache.keys_f16(lq.layer, g));
    } else {
      add_rows(cache.keys(lq.layer, g));
    }
  });
}

void pool_scores(float* scores, int begin, int end, Pooling pooling, int kernel) {
  LKV_CHECK(kernel >= 1 && kernel % 2 == 1);
  if (pooling == Pooling::None || kernel == 1 || end - begin <= 0) return;
  const int half = kernel / 2;
  const int n = end - begin;
  const float* in_base = scores + begin;
  std::vector<float> in(in_base, in_base + n);
  for (int i = 0; i < n; ++i) {
    const int lo = std::max(0, i - half);
    const int hi = std::min(n - 1, i + half);
    if (pooling == Pooling::Max) {
      float m = -std::numeric_limits<float>::infinity();
      for (int j = lo; j <= hi; ++j) m = std::max(m, in[static_cast<size_t>(j)]);
      scores[begin + i] = m;
    } else {
      // Zero padding counted in the divisor, like avg_pool1d with count_include_pad.
      double sum = 0.0;
      for (int j = lo; j <= hi; ++j) sum += in[static_cast<size_t>(j)];
      scores[begin + i] = static_cast<float>(sum / kernel);
    }
  }
}

void reduce_query_groups(const float* head_scores, int n_head, int n_head_kv, int n, Reduction reduction, float* out) {
  LKV_CHECK(n_head_kv > 0 && n_head % n_head_kv == 0);
  const int n_gqa = n_head / n_head_kv;
  for (int g = 0; g < n_head_kv; ++g) {
    float* o = out + static_cast<size_t>(g) * n;
    const float* first = head_scores + static_cast<size_t>(g * n_gqa) * n;
    std::copy_n(first, n, o);
    for (int k = 1; k < n_gqa; ++k) {
      const float* row = head_scores + static_cast<size_t>(g * n_gqa + k) * n;
      if (reduction == Reduction::Max) {
        for (int j = 0; j < n; ++j) o[j] = std::max(o[j], row[j]);
      } else {
        for (int j = 0; j < n; ++j) o[j] += row[j];
      }
    }
    if (reduction == Reduction::Mean && n_gqa > 1) {
      const float inv = 1.0f / static_cast<float>(n_gqa);
      for (int j = 0; j < n; ++j) o[j] *= inv;
    }
  }
}

}  // namespace lkv
