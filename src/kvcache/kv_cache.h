// KV cache that can be pruned per layer and per KV head.
//
// Layout: for every layer and KV head, the kept entries' keys [n × head_dim], values
// [n × head_dim] and original positions [n], in increasing position order. Keys are stored after
// RoPE. Within a layer every KV head keeps the same number of entries, each its own choice of
// which. Layers may keep different numbers (PyramidKV budgets). Positions live apart from the K/V
// storage so policies can read them without touching K/V.
//
// Sliding-window layers keep only the entries the next query can still see (the last `window`
// positions) and are never evicted. Eviction (compact) applies to the other layers.
//
// Element type: f32 (the default) or f16 (IEEE binary16, round to nearest even when appended),
// chosen when the cache is created. f16 halves the K/V bytes. Readers get typed pointers
// (keys()/values() for f32, keys_f16()/values_f16() for f16), and each throws lkv::Error on a cache
// of the other type, so a caller cannot read f16 bits as floats. copy_keys_f32()/copy_values_f32()
// convert either type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lkv {

enum class KVCacheType { F32, F16 };

// "f32" or "f16".
const char* kv_cache_type_name(KVCacheType type);
// Parses "f32" or "f16"; throws lkv::Error naming the valid types otherwise.
KVCacheType parse_kv_cache_type(const std::string& name);

struct KVCacheShape {
  int n_layer = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int sliding_window = 0;          // 0: no sliding-window layers
  std::vector<bool> layer_is_swa;  // n_layer entries
};

class KVCache {
 public:
  explicit KVCache(KVCacheShape shape, KVCacheType type = KVCacheType::F32);

  const KVCacheShape& shape() const { return shape_; }
  KVCacheType type() const { return type_; }
  // Bytes per stored key or value element: 4 (f32) or 2 (f16).
  size_t element_bytes() const { return type_ == KVCacheType::F16 ? 2 : 4; }
  bool is_swa(int layer) const { return shape_.sliding_window > 0 && shape_.layer_is_swa[static_cast<size_t>(layer)]; }

  // Entries currently held by each KV head of a layer.
  int n_entries(int layer) const;
  // Keys and values [n_entries × head_dim] of an f32 cache. Throw lkv::Error on an f16 cache.
  const float* keys(int layer, int head) const;
  const float* values(int layer, int head) const;
  // Keys and values [n_entries × head_dim] of an f16 cache, as binary16 bits. Throw lkv::Error on
  // an f32 cache.
  const uint16_t* keys_f16(int layer, int head) const;
  const uint16_t* values_f16(int layer, int head) const;
  // Keys or values [n_entries × head_dim] as f32, for either cache type. The f16 to f32
  // conversion is exact, so these return the stored values.
  std::vector<float> copy_keys_f32(int layer, int head) const;
  std::vector<float> copy_values_f32(int layer, int head) const;
  const int32_t* positions(int layer, int head) const;  // [n_entries], increasing

  // Appends m rows of keys and values, laid out [m × n_head_kv × head_dim] like the projections'
  // output, at the given positions (increasing and above every position already held). An f16
  // cache rounds them to nearest even; values beyond the f16 range (65504) become infinity.
  void append(int layer, const float* k, const float* v, const int32_t* positions, int m);

  // Drops the entries of a sliding-window layer that no query at a position above max_position
  // can see. No-op for other layers.
  void trim_window(int layer, int32_t max_position);

  // Keeps, for every listed layer and KV head, only the entries at the given indices (increasing,
  // unique, in range, the same count for every head of a layer). kept[layer] empty: layer untouched.
  // Memory of dropped entries is released. Validates everything first: on error (lkv::Error) the
  // cache is unchanged.
  void compact(const std::vector<std::vector<std::vector<int32_t>>>& kept);

  // A new cache of the same type holding only the kept entries of the listed layers (other layers
  // copied whole), with the same next_position(). Same validation as compact(); this cache is not modified. Costs
  // the kept entries' bytes, not a full copy (LAQ decodes its draft on such a copy).
  KVCache compacted_copy(const std::vector<std::vector<std::vector<int32_t>>>& kept) const;

  // Drops every entry at a position >= first_position in every layer (used to discard lookahead
  // or draft rows after scoring).
  void truncate_from(int32_t first_position);

  void clear();

  // Position the next token takes: one past the largest position ever appended. Eviction does not
  // change it, so decoding continues at the original numbering.
  int32_t next_position() const { return next_position_; }

  // Bytes held by K and V storage (sizes in use, not capacity), in total and split by layer kind.
  // An f16 cache uses half the bytes of an f32 cache with the same entries.
  size_t bytes() const;
  size_t bytes_global_layers() const;
  size_t bytes_swa_layers() const;

 private:
  // K and V are raw bytes, [n × head_dim] elements of the cache type. Trimming, gathering and
  // truncating rows then take one code path for both types, and only append and the readers convert.
  struct HeadStore {
    std::vector<std::byte> k, v;
    std::vector<int32_t> pos;
  };
  HeadStore& store(int layer, int head) { return heads_[static_cast<size_t>(layer * shape_.n_head_kv + head)]; }
  const HeadStore& store(int layer, int head) const {
    return heads_[static_cast<size_t>(layer * shape_.n_head_kv + head)];
  }
  size_t row_bytes() const { return static_cast<size_t>(shape_.head_dim) * element_bytes(); }
  size_t layer_bytes(int layer) const;
  void require_type(KVCacheType expected, const char* accessor) const;
  std::vector<float> copy_f32(const std::vector<std::byte>& rows) const;
  void validate_kept(const std::vector<std::vector<std::vector<int32_t>>>& kept) const;
  static void gather(const HeadStore& from, const std::vector<int32_t>& idx, size_t row_bytes, HeadStore& to);

  KVCacheShape shape_;
  KVCacheType type_;
  std::vector<HeadStore> heads_;  // [n_layer × n_head_kv]
  int32_t next_position_ = 0;
};

}  // namespace lkv
