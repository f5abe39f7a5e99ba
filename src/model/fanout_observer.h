// An attention observer that forwards every hook to several others, so that one prefill feeds the
// captures of several eviction policies at once (bench-eviction, the eval runner, tests).
#pragma once

#include <algorithm>
#include <vector>

#include "model/forward_hooks.h"

namespace lkv {

// Forwards on_queries and on_probs to the observers added; entry masks are not forwarded.
class FanoutObserver final : public AttentionObserver {
 public:
  // Adds an observer (ignored when null); it must outlive every pass this fanout is attached to.
  void add(AttentionObserver* o) {
    if (o) observers_.push_back(o);
  }
  bool empty() const { return observers_.empty(); }

  void on_queries(int layer, const float* q, int m, const int32_t* positions) override {
    for (auto* o : observers_) o->on_queries(layer, q, m, positions);
  }
  bool wants_probs(int layer) const override {
    return std::any_of(observers_.begin(), observers_.end(), [&](auto* o) { return o->wants_probs(layer); });
  }
  void on_probs(int layer, int head, int row, int thread, const float* probs, int n_entries) override {
    for (auto* o : observers_) {
      if (o->wants_probs(layer)) o->on_probs(layer, head, row, thread, probs, n_entries);
    }
  }

 private:
  std::vector<AttentionObserver*> observers_;
};

}  // namespace lkv
