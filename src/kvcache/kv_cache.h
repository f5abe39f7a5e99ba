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
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lkv {

struct KVCacheShape {
  int n_layer = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int sliding_window = 0;          // 0: no sliding-window layers
  std::vector<bool> layer_is_swa;  // n_layer entries
};

class KVCache {
 public:
  explicit KVCache(KVCacheShape shape);

  const KVCacheShape& shape() const { return shape_; }
  bool is_swa(int layer) const { return shape_.sliding_window > 0 && shape_.layer_is_swa[static_cast<size_t>(layer)]; }

  // Entries currently held by each KV head of a layer.
  int n_entries(int layer) const;
  const float* keys(int layer, int head) const;        // [n_entries × head_dim]
  const float* values(int layer, int head) const;      // [n_entries × head_dim]
  const int32_t* positions(int layer, int head) const;  // [n_entries], increasing

  // Appends m rows of keys and values, laid out [m × n_head_kv × head_dim] like the projections'
  // output, at the given positions (increasing and above every position already held).
  void append(int layer, const float* k, const float* v, const int32_t* positions, int m);

  // Drops the entries of a sliding-window layer that no query at a position above max_position
  // can see. No-op for other layers.
  void trim_window(int layer, int32_t max_position);

  // Keeps, for every listed layer and KV head, only the entries at the given indices (increasing,
  // unique, in range, the same count for every head of a layer). kept[layer] empty: layer untouched.
  // Memory of dropped entries is released. Validates everything first: on error (lkv::Error) the
  // cache is unchanged.
  void compact(const std::vector<std::vector<std::vector<int32_t>>>& kept);

  // A new cache holding only the kept entries of the listed layers (other layers copied whole),
  // with the same next_position(). Same validation as compact(); this cache is not modified. Costs
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
  size_t bytes() const;
  size_t bytes_global_layers() const;
  size_t bytes_swa_layers() const;

 private:
  struct HeadStore {
    std::vector<float> k, v;
    std::vector<int32_t> pos;
  };
  HeadStore& store(int layer, int head) { return heads_[static_cast<size_t>(layer * shape_.n_head_kv + head)]; }
  const HeadStore& store(int layer, int head) const {
    return heads_[static_cast<size_t>(layer * shape_.n_head_kv + head)];
  }
  size_t layer_bytes(int layer) const;
  void validate_kept(const std::vector<std::vector<std::vector<int32_t>>>& kept) const;
  static void gather(const HeadStore& from, const std::vector<int32_t>& idx, size_t head_dim, HeadStore& to);

  KVCacheShape shape_;
  std::vector<HeadStore> heads_;  // [n_layer × n_head_kv]
  int32_t next_position_ = 0;
};

}  // namespace lkv
