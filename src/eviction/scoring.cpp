#include "eviction/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/attention_tile.h"
#include "util/error.h"

namespace lkv {

void add_attention_columns(const KVCache& cache, const std::vector<LayerQueries>& queries, int n_head,
                           ThreadPool& pool, HeadScores& out) {
  LKV_CHECK(out.layers.size() == queries.size() && out.layer_scores.size() == queries.size());
  const int hd = cache.shape().head_dim;
  const int n_gqa = n_head / cache.shape().n_head_kv;
  const int n_tasks = static_cast<int>(queries.size()) * n_head;
  struct Scratch {
    std::vector<float> probs;
    std::vector<const float*> q;
    std::vector<int> lo, hi;
  };
  std::vector<Scratch> scratch(static_cast<size_t>(pool.size()));
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

    // All of the head's query rows form one attention tile, probabilities only.
    Scratch& sc = scratch[static_cast<size_t>(thread)];
    sc.probs.resize(static_cast<size_t>(lq.n_rows) * static_cast<size_t>(n));
    sc.q.clear(), sc.lo.clear(), sc.hi.clear();
    for (int r = 0; r < lq.n_rows; ++r) {
      sc.q.push_back(lq.q + (static_cast<size_t>(r) * n_head + h) * hd);
      sc.lo.push_back(0);
      sc.hi.push_back(static_cast<int>(std::upper_bound(pos, pos + n, lq.positions[r]) - pos));
    }
    AttentionTile tile;
    tile.head_dim = hd;
    tile.n_query = lq.n_rows;
    tile.q = sc.q.data();
    tile.lo = sc.lo.data();
    tile.hi = sc.hi.data();
    tile.probs = sc.probs.data();
    tile.probs_stride = n;
    attend_tile(tile, cache, lq.layer, g);
    // Rows are added in order, so a column's sum does not depend on the thread count.
    for (int r = 0; r < lq.n_rows; ++r) {
      const float* p = sc.probs.data() + static_cast<size_t>(r) * static_cast<size_t>(n);
      for (int j = 0; j < sc.hi[static_cast<size_t>(r)]; ++j) col[j] += p[j];
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
