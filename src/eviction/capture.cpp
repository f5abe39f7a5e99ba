#include "eviction/capture.h"

#include <algorithm>

#include "util/error.h"

namespace lkv {

QueryCapture::QueryCapture(const HParams& hp, std::vector<int> layers, int32_t begin, int32_t end)
    : row_width_(hp.n_head * hp.head_dim), begin_(begin), end_(end), layers_(std::move(layers)),
      slot_(static_cast<size_t>(hp.n_layer), -1), rows_(layers_.size()) {
  for (size_t i = 0; i < layers_.size(); ++i) slot_[static_cast<size_t>(layers_[i])] = static_cast<int>(i);
}

void QueryCapture::on_queries(int layer, const float* q, int m, const int32_t* positions) {
  const int slot = slot_[static_cast<size_t>(layer)];
  if (slot < 0) return;
  Rows& r = rows_[static_cast<size_t>(slot)];
  for (int i = 0; i < m; ++i) {
    if (positions[i] < begin_ || positions[i] >= end_) continue;
    const float* row = q + static_cast<size_t>(i) * row_width_;
    r.q.insert(r.q.end(), row, row + row_width_);
    r.pos.push_back(positions[i]);
  }
}

int QueryCapture::rows(int layer) const {
  const int slot = slot_[static_cast<size_t>(layer)];
  return slot < 0 ? 0 : static_cast<int>(rows_[static_cast<size_t>(slot)].pos.size());
}

LayerQueries QueryCapture::last_rows(int layer, int last) const {
  const int slot = slot_[static_cast<size_t>(layer)];
  LKV_CHECK(slot >= 0);
  const Rows& r = rows_[static_cast<size_t>(slot)];
  const int n = static_cast<int>(r.pos.size());
  const int take = std::min(std::max(last, 0), n);
  LayerQueries out;
  out.layer = layer;
  out.n_rows = take;
  out.q = r.q.data() + static_cast<size_t>(n - take) * row_width_;
  out.positions = r.pos.data() + (n - take);
  return out;
}

ColumnSumCapture::ColumnSumCapture(const HParams& hp, std::vector<int> layers, int n_threads)
    : n_head_(hp.n_head), layers_(std::move(layers)), slot_(static_cast<size_t>(hp.n_layer), -1) {
  for (size_t i = 0; i < layers_.size(); ++i) slot_[static_cast<size_t>(layers_[i])] = static_cast<int>(i);
  acc_.resize(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& per_thread : acc_) per_thread.resize(layers_.size() * static_cast<size_t>(n_head_));
}

bool ColumnSumCapture::wants_probs(int layer) const { return slot_[static_cast<size_t>(layer)] >= 0; }

void ColumnSumCapture::on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) {
  const int slot = slot_[static_cast<size_t>(layer)];
  if (slot < 0) return;
  LKV_CHECK(thread >= 0 && thread < static_cast<int>(acc_.size()));
  std::vector<float>& a = acc_[static_cast<size_t>(thread)][static_cast<size_t>(slot * n_head_ + head)];
  if (static_cast<int>(a.size()) < n_entries) a.resize(static_cast<size_t>(n_entries), 0.0f);
  float* dst = a.data();
  for (int j = 0; j < n_entries; ++j) dst[j] += probs[j];
}

void ColumnSumCapture::merge_into(const KVCache& cache, HeadScores& out) const {
  LKV_CHECK(out.layers == layers_);
  for (size_t li = 0; li < layers_.size(); ++li) {
    const int n = cache.n_entries(layers_[li]);
    for (int h = 0; h < n_head_; ++h) {
      float* dst = out.layer_scores[li].data() + static_cast<size_t>(h) * n;
      for (const auto& per_thread : acc_) {
        const std::vector<float>& a = per_thread[li * static_cast<size_t>(n_head_) + static_cast<size_t>(h)];
        // Entries appended after the capture (none in the normal flow) keep what they had.
        const int m = std::min(n, static_cast<int>(a.size()));
        for (int j = 0; j < m; ++j) dst[j] += a[static_cast<size_t>(j)];
      }
    }
  }
}

}  // namespace lkv
