// Softmax attention of a tile of query vectors that share one KV head, such as the query heads of a
// GQA group at a few consecutive positions. Every key and value row is loaded once per tile and
// used by all of the tile's queries. So prefill attention runs at matmul-like speed instead of one
// dot product and one axpy per query and key.
//
// Each query-key score and each output element are computed in an order that depends neither on the
// tile's shape nor on where the key sits in the cache. So a query gives bit-identical output alone
// (decode) and inside a prefill tile. A masked full cache gives the same output as a cache
// compacted to the unmasked entries.
#pragma once

#include <cstdint>

namespace lkv {

class KVCache;

struct AttentionTile {
  int head_dim = 0;
  int n_query = 0;                  // query vectors in the tile
  const float* const* q = nullptr;  // n_query query vectors of head_dim floats, already scaled
  float* const* out = nullptr;      // n_query output vectors, overwritten, or nullptr for probabilities only
  const int* lo = nullptr;          // per query: first visible cache entry
  const int* hi = nullptr;          // per query: one past the last visible entry
  const uint8_t* mask = nullptr;    // optional, per entry: 0 hides the entry from every query
  // Scratch for the scores, n_query rows of `probs_stride` floats. On return row r contains query
  // r's attention probabilities over entries [entry_lo(), entry_hi()), with 0 outside its visible
  // range and on masked entries. The rest of the row is left untouched.
  float* probs = nullptr;
  int64_t probs_stride = 0;

  int entry_lo() const;  // smallest lo over the tile
  int entry_hi() const;  // largest hi over the tile
};

// Keys and values are the KV head's cache rows, [n_entries × head_dim], as f32 or as f16 bits.
// values may be nullptr when tile.out is nullptr.
void attend_tile(const AttentionTile& tile, const float* keys, const float* values);
void attend_tile(const AttentionTile& tile, const uint16_t* keys, const uint16_t* values);

// Runs the tile on one KV head of a cache layer, f32 or f16. Values are read only when tile.out is
// set.
void attend_tile(const AttentionTile& tile, const KVCache& cache, int layer, int kv_head);

}  // namespace lkv
