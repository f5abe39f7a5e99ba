#include "kvcache/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "tensor/float_convert.h"
#include "util/error.h"

namespace lkv {

const char* kv_cache_type_name(KVCacheType type) { return type == KVCacheType::F16 ? "f16" : "f32"; }

KVCacheType parse_kv_cache_type(const std::string& name) {
  if (name == "f32") return KVCacheType::F32;
  if (name == "f16") return KVCacheType::F16;
  fail("KV cache type '{}' is invalid; use f32 or f16", name);
}

KVCache::KVCache(KVCacheShape shape, KVCacheType type) : shape_(std::move(shape)), type_(type) {
  LKV_CHECK(shape_.n_layer > 0 && shape_.n_head_kv > 0 && shape_.head_dim > 0);
  LKV_CHECK(static_cast<int>(shape_.layer_is_swa.size()) == shape_.n_layer);
  heads_.resize(static_cast<size_t>(shape_.n_layer * shape_.n_head_kv));
}

void KVCache::require_type(KVCacheType expected, const char* accessor) const {
  if (type_ != expected) {
    fail("KVCache::{} reads {} storage, but this cache stores {}; use the {} accessors or copy_keys_f32/copy_values_f32",
         accessor, kv_cache_type_name(expected), kv_cache_type_name(type_), kv_cache_type_name(type_));
  }
}

int KVCache::n_entries(int layer) const { return static_cast<int>(store(layer, 0).pos.size()); }

// The byte storage only ever receives these element types through memcpy (append, gather), so
// reading it through a pointer of the cache's element type reads the objects written there.
const float* KVCache::keys(int layer, int head) const {
  require_type(KVCacheType::F32, "keys");
  return reinterpret_cast<const float*>(store(layer, head).k.data());
}
const float* KVCache::values(int layer, int head) const {
  require_type(KVCacheType::F32, "values");
  return reinterpret_cast<const float*>(store(layer, head).v.data());
}
const uint16_t* KVCache::keys_f16(int layer, int head) const {
  require_type(KVCacheType::F16, "keys_f16");
  return reinterpret_cast<const uint16_t*>(store(layer, head).k.data());
}
const uint16_t* KVCache::values_f16(int layer, int head) const {
  require_type(KVCacheType::F16, "values_f16");
  return reinterpret_cast<const uint16_t*>(store(layer, head).v.data());
}
const int32_t* KVCache::positions(int layer, int head) const { return store(layer, head).pos.data(); }

std::vector<float> KVCache::copy_f32(const std::vector<std::byte>& rows) const {
  std::vector<float> out(rows.size() / element_bytes());
  if (type_ == KVCacheType::F32) {
    std::memcpy(out.data(), rows.data(), rows.size());
  } else {
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, rows.data() + 2 * i, sizeof h);
      out[i] = fp16_to_fp32_fast(h);
    }
  }
  return out;
}

std::vector<float> KVCache::copy_keys_f32(int layer, int head) const { return copy_f32(store(layer, head).k); }
std::vector<float> KVCache::copy_values_f32(int layer, int head) const { return copy_f32(store(layer, head).v); }

namespace {

// Appends n f32 values to `to` as f16, rounded to nearest even (F16C when the build has it).
void append_f16(const float* x, size_t n, std::vector<std::byte>& to) {
  const size_t at = to.size();
  to.resize(at + n * sizeof(uint16_t));
  std::byte* out = to.data() + at;
  size_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    std::memcpy(out + 2 * i, &h, sizeof h);
  }
#endif
  for (; i < n; ++i) {
    const uint16_t h = fp32_to_fp16_fast(x[i]);
    std::memcpy(out + 2 * i, &h, sizeof h);
  }
}

void append_f32(const float* x, size_t n, std::vector<std::byte>& to) {
  const size_t at = to.size();
  to.resize(at + n * sizeof(float));
  std::memcpy(to.data() + at, x, n * sizeof(float));
}

}  // namespace

void KVCache::append(int layer, const float* k, const float* v, const int32_t* positions, int m) {
  const int hd = shape_.head_dim;
  const int n_kv = shape_.n_head_kv;
  const auto append_row = type_ == KVCacheType::F16 ? append_f16 : append_f32;
  for (int h = 0; h < n_kv; ++h) {
    HeadStore& s = store(layer, h);
    LKV_CHECK(s.pos.empty() || m == 0 || positions[0] > s.pos.back());
    for (int r = 0; r < m; ++r) {
      const float* kr = k + (static_cast<size_t>(r) * n_kv + h) * hd;
      const float* vr = v + (static_cast<size_t>(r) * n_kv + h) * hd;
      append_row(kr, static_cast<size_t>(hd), s.k);
      append_row(vr, static_cast<size_t>(hd), s.v);
      s.pos.push_back(positions[r]);
    }
  }
  if (m > 0) next_position_ = std::max(next_position_, positions[m - 1] + 1);
}

void KVCache::trim_window(int layer, int32_t max_position) {
  if (!is_swa(layer)) return;
  const size_t row = row_bytes();
  // A query at position p attends to keys at p - window + 1 .. p. The next query is above max_position.
  const int32_t first_visible = max_position + 1 - shape_.sliding_window + 1;
  for (int h = 0; h < shape_.n_head_kv; ++h) {
    HeadStore& s = store(layer, h);
    const size_t drop = static_cast<size_t>(std::lower_bound(s.pos.begin(), s.pos.end(), first_visible) - s.pos.begin());
    if (drop == 0) continue;
    s.pos.erase(s.pos.begin(), s.pos.begin() + static_cast<std::ptrdiff_t>(drop));
    s.k.erase(s.k.begin(), s.k.begin() + static_cast<std::ptrdiff_t>(drop * row));
    s.v.erase(s.v.begin(), s.v.begin() + static_cast<std::ptrdiff_t>(drop * row));
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

void KVCache::gather(const HeadStore& from, const std::vector<int32_t>& idx, size_t row_bytes, HeadStore& to) {
  to.k.resize(idx.size() * row_bytes);
  to.v.resize(idx.size() * row_bytes);
  to.pos.resize(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    const size_t src = static_cast<size_t>(idx[i]);
    std::memcpy(to.k.data() + i * row_bytes, from.k.data() + src * row_bytes, row_bytes);
    std::memcpy(to.v.data() + i * row_bytes, from.v.data() + src * row_bytes, row_bytes);
    to.pos[i] = from.pos[src];
  }
}

void KVCache::compact(const std::vector<std::vector<std::vector<int32_t>>>& kept) {
  // Validate everything before touching any storage, so a failure leaves the cache unchanged.
  validate_kept(kept);
  const size_t row = row_bytes();
  for (int il = 0; il < shape_.n_layer; ++il) {
    const auto& per_head = kept[static_cast<size_t>(il)];
    if (per_head.empty()) continue;
    for (int h = 0; h < shape_.n_head_kv; ++h) {
      HeadStore out;
      gather(store(il, h), per_head[static_cast<size_t>(h)], row, out);
      store(il, h) = std::move(out);  // the old buffers are freed here
    }
  }
}

KVCache KVCache::compacted_copy(const std::vector<std::vector<std::vector<int32_t>>>& kept) const {
  validate_kept(kept);
  KVCache copy(shape_, type_);
  copy.next_position_ = next_position_;
  const size_t row = row_bytes();
  for (int il = 0; il < shape_.n_layer; ++il) {
    const auto& per_head = kept[static_cast<size_t>(il)];
    for (int h = 0; h < shape_.n_head_kv; ++h) {
      if (per_head.empty()) {
        copy.store(il, h) = store(il, h);
      } else {
        gather(store(il, h), per_head[static_cast<size_t>(h)], row, copy.store(il, h));
      }
    }
  }
  return copy;
}

void KVCache::truncate_from(int32_t first_position) {
  const size_t row = row_bytes();
  for (HeadStore& s : heads_) {
    const size_t keep = static_cast<size_t>(std::lower_bound(s.pos.begin(), s.pos.end(), first_position) - s.pos.begin());
    s.pos.resize(keep);
    s.k.resize(keep * row);
    s.v.resize(keep * row);
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
    total += s.k.size() + s.v.size();
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
