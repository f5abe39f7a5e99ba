#include "kvcache/kv_cache.h"

#include <algorithm>

#include "util/error.h"

namespace lkv {

KVCache::KVCache(KVCacheShape shape) : shape_(std::move(shape)) {
  LKV_CHECK(shape_.n_layer > 0 && shape_.n_head_kv > 0 && shape_.head_dim > 0);
  LKV_CHECK(static_cast<int>(shape_.layer_is_swa.size()) == shape_.n_layer);
  heads_.resize(static_cast<size_t>(shape_.n_layer * shape_.n_head_kv));
}

int KVCache::n_entries(int layer) const { return static_cast<int>(store(layer, 0).pos.size()); }
const float* KVCache::keys(int layer, int head) const { return store(layer, head).k.data(); }
const float* KVCache::values(int layer, int head) const { return store(layer, head).v.data(); }
const int32_t* KVCache::positions(int layer, int head) const { return store(layer, head).pos.data(); }

void KVCache::append(int layer, const float* k, const float* v, const int32_t* positions, int m) {
  const int hd = shape_.head_dim;
  const int n_kv = shape_.n_head_kv;
  for (int h = 0; h < n_kv; ++h) {
    HeadStore& s = store(layer, h);
    LKV_CHECK(s.pos.empty() || m == 0 || positions[0] > s.pos.back());
    for (int r = 0; r < m; ++r) {
      const float* kr = k + (static_cast<size_t>(r) * n_kv + h) * hd;
      const float* vr = v + (static_cast<size_t>(r) * n_kv + h) * hd;
      s.k.insert(s.k.end(), kr, kr + hd);
      s.v.insert(s.v.end(), vr, vr + hd);
      s.pos.push_back(positions[r]);
    }
  }
  if (m > 0) next_position_ = std::max(next_position_, positions[m - 1] + 1);
}

void KVCache::trim_window(int layer, int32_t max_position) {
  if (!is_swa(layer)) return;
  const int hd = shape_.head_dim;
  // A query at position p attends to keys at p - window + 1 .. p. The next query is above max_position.
  const int32_t first_visible = max_position + 1 - shape_.sliding_window + 1;
  for (int h = 0; h < shape_.n_head_kv; ++h) {
    HeadStore& s = store(layer, h);
    const size_t drop = static_cast<size_t>(std::lower_bound(s.pos.begin(), s.pos.end(), first_visible) - s.pos.begin());
    if (drop == 0) continue;
    s.pos.erase(s.pos.begin(), s.pos.begin() + static_cast<std::ptrdiff_t>(drop));
    s.k.erase(s.k.begin(), s.k.begin() + static_cast<std::ptrdiff_t>(drop * hd));
    s.v.erase(s.v.begin(), s.v.begin() + static_cast<std::ptrdiff_t>(drop * hd));
  }
}

void KVCache::validate_kept(const std::vector<std::vector<std::vector<int32_t>>>& kept) const {
  if (static_cast<int>(kept.size()) != shape_.n_layer) {
    fail("eviction result covers {} layers, but the cache has {}", kept.size(), shape_.n_layer);
  }
  for (int il = 0; il < shape_.n_layer; ++il) {
    const auto& per_head = kept[static_cast<size_t>(il)];
    if (per_head.empty()) continue;
    if (is_swa(il)) {
      fail("layer {} is a sliding-window layer and cannot be evicted", il);
    }
    if (static_cast<int>(per_head.size()) != shape_.n_head_kv) {
      fail("eviction result for layer {} has {} KV heads, expected {}", il, per_head.size(), shape_.n_head_kv);
    }
    const int n = n_entries(il);
    const size_t count = per_head[0].size();
    for (int h = 0; h < shape_.n_head_kv; ++h) {
      const auto& idx = per_head[static_cast<size_t>(h)];
      if (idx.size() != count) {
        fail("eviction result for layer {} keeps {} entries in KV head {} but {} in head 0; every head of a layer "
             "must keep the same number",
             il, idx.size(), h, count);
      }
      for (size_t i = 0; i < idx.size(); ++i) {
        if (idx[i] < 0 || idx[i] >= n) fail("eviction result for layer {} head {} has index {} outside [0, {})", il, h, idx[i], n);
        if (i > 0 && idx[i] <= idx[i - 1]) {
          fail("eviction result for layer {} head {} is not strictly increasing at position {}", il, h, i);
        }
      }
    }
  }
}

void KVCache::gather(const HeadStore& from, const std::vector<int32_t>& idx, size_t head_dim, HeadStore& to) {
  to.k.resize(idx.size() * head_dim);
  to.v.resize(idx.size() * head_dim);
  to.pos.resize(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    const size_t src = static_cast<size_t>(idx[i]);
    std::copy_n(from.k.data() + src * head_dim, head_dim, to.k.data() + i * head_dim);
    std::copy_n(from.v.data() + src * head_dim, head_dim, to.v.data() + i * head_dim);
    to.pos[i] = from.pos[src];
  }
}

void KVCache::compact(const std::vector<std::vector<std::vector<int32_t>>>& kept) {
  // Validate everything before touching any storage, so a failure leaves the cache unchanged.
  validate_kept(kept);
  const size_t hd = static_cast<size_t>(shape_.head_dim);
  for (int il = 0; il < shape_.n_layer; ++il) {
    const auto& per_head = kept[static_cast<size_t>(il)];
    if (per_head.empty()) continue;
    for (int h = 0; h < shape_.n_head_kv; ++h) {
      HeadStore out;
      gather(store(il, h), per_head[static_cast<size_t>(h)], hd, out);
      store(il, h) = std::move(out);  // the old buffers are freed here
    }
  }
}

KVCache KVCache::compacted_copy(const std::vector<std::vector<std::vector<int32_t>>>& kept) const {
  validate_kept(kept);
  KVCache copy(shape_);
  copy.next_position_ = next_position_;
  const size_t hd = static_cast<size_t>(shape_.head_dim);
  for (int il = 0; il < shape_.n_layer; ++il) {
    const auto& per_head = kept[static_cast<size_t>(il)];
    for (int h = 0; h < shape_.n_head_kv; ++h) {
      if (per_head.empty()) {
        copy.store(il, h) = store(il, h);
      } else {
        gather(store(il, h), per_head[static_cast<size_t>(h)], hd, copy.store(il, h));
      }
    }
  }
  return copy;
}

void KVCache::truncate_from(int32_t first_position) {
  const size_t hd = static_cast<size_t>(shape_.head_dim);
  for (HeadStore& s : heads_) {
    const size_t keep = static_cast<size_t>(std::lower_bound(s.pos.begin(), s.pos.end(), first_position) - s.pos.begin());
    s.pos.resize(keep);
    s.k.resize(keep * hd);
    s.v.resize(keep * hd);
  }
  next_position_ = std::min(next_position_, first_position);
}

void KVCache::clear() {
  for (HeadStore& s : heads_) s = HeadStore{};
  next_position_ = 0;
}

size_t KVCache::layer_bytes(int layer) const {
  size_t total = 0;
  for (int h = 0; h < shape_.n_head_kv; ++h) {
    const HeadStore& s = store(layer, h);
    total += (s.k.size() + s.v.size()) * sizeof(float);
  }
  return total;
}

size_t KVCache::bytes() const { return bytes_global_layers() + bytes_swa_layers(); }

size_t KVCache::bytes_global_layers() const {
  size_t total = 0;
  for (int il = 0; il < shape_.n_layer; ++il) {
    if (!is_swa(il)) total += layer_bytes(il);
  }
  return total;
}

size_t KVCache::bytes_swa_layers() const {
  size_t total = 0;
  for (int il = 0; il < shape_.n_layer; ++il) {
    if (is_swa(il)) total += layer_bytes(il);
  }
  return total;
}

}  // namespace lkv
