// The f16 KV cache without a model: rounding on append, typed accessors, trimming, compaction,
// copies, truncation and byte counts, each against an f32 cache fed the same rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <string>

#include "kvcache/kv_cache.h"
#include "tensor/float_convert.h"
#include "util/error.h"

namespace lkv {
namespace {

using KeptIndices = std::vector<std::vector<std::vector<int32_t>>>;

KVCacheShape test_shape(int n_layer, int n_head_kv, int head_dim, int window = 0) {
  KVCacheShape shape;
  shape.n_layer = n_layer;
  shape.n_head_kv = n_head_kv;
  shape.head_dim = head_dim;
  shape.sliding_window = window;
  shape.layer_is_swa.assign(static_cast<size_t>(n_layer), false);
  // With a window, every layer but the last is a sliding-window layer (Gemma 3's pattern, shorter).
  if (window > 0) {
    for (int l = 0; l + 1 < n_layer; ++l) shape.layer_is_swa[static_cast<size_t>(l)] = true;
  }
  return shape;
}

// Rows of K and V for one append to every layer, [n × n_head_kv × head_dim] each. Values are
// normal with a spread of 3, plus edge cases: zeros of both signs, f16 subnormals, values that
// round to f16's largest finite number or overflow to infinity, and exact ties between two f16
// values.
struct Rows {
  std::vector<float> k, v;
  std::vector<int32_t> pos;
};

Rows random_rows(const KVCacheShape& shape, int n, int32_t first, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  Rows r;
  const size_t count = static_cast<size_t>(n) * shape.n_head_kv * shape.head_dim;
  r.k.resize(count);
  r.v.resize(count);
  for (float& x : r.k) x = dist(rng);
  for (float& x : r.v) x = dist(rng);
  const float edges[] = {0.0f, -0.0f, 3e-6f, -5.96e-8f, 1e-8f, 65504.0f, 65519.0f, 65520.0f, -1e6f,
                         1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 2049.0f, -2051.0f};
  for (size_t i = 0; i < std::size(edges) && i < count; ++i) {
    r.k[i * 7 % count] = edges[i];
    r.v[i * 11 % count] = edges[i];
  }
  for (int i = 0; i < n; ++i) r.pos.push_back(first + i);
  return r;
}

// The same rows appended to an f32 and an f16 cache of one shape.
struct CachePair {
  KVCache f32, f16;
};

CachePair filled_pair(const KVCacheShape& shape, int n, uint32_t seed) {
  CachePair p{KVCache(shape, KVCacheType::F32), KVCache(shape, KVCacheType::F16)};
  for (int l = 0; l < shape.n_layer; ++l) {
    const Rows r = random_rows(shape, n, 0, seed + static_cast<uint32_t>(l));
    p.f32.append(l, r.k.data(), r.v.data(), r.pos.data(), n);
    p.f16.append(l, r.k.data(), r.v.data(), r.pos.data(), n);
  }
  return p;
}

// Bitwise comparison of two floats, so that -0.0 and 0.0 differ and NaN equals itself.
bool same_bits(float a, float b) { return float_bits(a) == float_bits(b); }

TEST(KVCacheF16, AppendRoundsToNearestEven) {
  const KVCacheShape shape = test_shape(2, 3, 20);  // head_dim 20: two 8-wide blocks and a scalar tail
  const CachePair p = filled_pair(shape, 9, 5);
  for (int l = 0; l < shape.n_layer; ++l) {
    for (int h = 0; h < shape.n_head_kv; ++h) {
      const size_t count = static_cast<size_t>(p.f16.n_entries(l)) * shape.head_dim;
      const float* k32 = p.f32.keys(l, h);
      const float* v32 = p.f32.values(l, h);
      const uint16_t* k16 = p.f16.keys_f16(l, h);
      const uint16_t* v16 = p.f16.values_f16(l, h);
      for (size_t i = 0; i < count; ++i) {
        // The portable conversion is the reference for the F16C path that append uses.
        ASSERT_EQ(k16[i], fp32_to_fp16_scalar(k32[i])) << "layer " << l << " head " << h << " key " << i << " = " << k32[i];
        ASSERT_EQ(v16[i], fp32_to_fp16_scalar(v32[i])) << "layer " << l << " head " << h << " value " << i << " = " << v32[i];
      }
    }
  }
}

TEST(KVCacheF16, CopyF32ReturnsRoundedValues) {
  const KVCacheShape shape = test_shape(2, 2, 16);
  const CachePair p = filled_pair(shape, 12, 9);
  size_t infinities = 0;
  for (int l = 0; l < shape.n_layer; ++l) {
    for (int h = 0; h < shape.n_head_kv; ++h) {
      const std::vector<float> k = p.f16.copy_keys_f32(l, h);
      const std::vector<float> v = p.f16.copy_values_f32(l, h);
      ASSERT_EQ(k.size(), static_cast<size_t>(12 * 16));
      ASSERT_EQ(v.size(), k.size());
      for (size_t i = 0; i < k.size(); ++i) {
        ASSERT_TRUE(same_bits(k[i], fp16_to_fp32_scalar(fp32_to_fp16_scalar(p.f32.keys(l, h)[i])))) << i;
        ASSERT_TRUE(same_bits(v[i], fp16_to_fp32_scalar(fp32_to_fp16_scalar(p.f32.values(l, h)[i])))) << i;
        if (std::isinf(k[i])) ++infinities;
      }
      // On an f32 cache the copy is the stored data.
      const std::vector<float> k32 = p.f32.copy_keys_f32(l, h);
      ASSERT_EQ(std::memcmp(k32.data(), p.f32.keys(l, h), k32.size() * sizeof(float)), 0);
    }
  }
  EXPECT_GT(infinities, 0u) << "the edge cases include values that overflow f16";
}

TEST(KVCacheF16, AccessorsRejectOtherType) {
  const CachePair p = filled_pair(test_shape(1, 1, 8), 2, 1);
  EXPECT_EQ(p.f16.type(), KVCacheType::F16);
  EXPECT_EQ(p.f32.type(), KVCacheType::F32);
  EXPECT_THROW(p.f16.keys(0, 0), Error);
  EXPECT_THROW(p.f16.values(0, 0), Error);
  EXPECT_THROW(p.f32.keys_f16(0, 0), Error);
  EXPECT_THROW(p.f32.values_f16(0, 0), Error);
  try {
    p.f16.keys(0, 0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stores f16"), std::string::npos) << e.what();
  }
}

TEST(KVCacheF16, ParsesTypeNames) {
  EXPECT_EQ(parse_kv_cache_type("f32"), KVCacheType::F32);
  EXPECT_EQ(parse_kv_cache_type("f16"), KVCacheType::F16);
  EXPECT_STREQ(kv_cache_type_name(KVCacheType::F16), "f16");
  EXPECT_STREQ(kv_cache_type_name(KVCacheType::F32), "f32");
  try {
    parse_kv_cache_type("q8_0");
    FAIL() << "q8_0 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("use f32 or f16"), std::string::npos) << e.what();
  }
}

TEST(KVCacheF16, BytesHalve) {
  const KVCacheShape shape = test_shape(3, 2, 16, /*window=*/4);
  CachePair p = filled_pair(shape, 10, 3);
  for (int l = 0; l < shape.n_layer; ++l) {
    p.f32.trim_window(l, 9);
    p.f16.trim_window(l, 9);
  }
  // Global layer: 10 entries. Sliding-window layers: the 3 entries a query at position 10 can see.
  const size_t row = 2 * 16;  // K and V of one head and entry
  EXPECT_EQ(p.f16.bytes_global_layers(), 10u * 2 * row * 2);
  EXPECT_EQ(p.f16.bytes_swa_layers(), 2u * 3 * 2 * row * 2);
  EXPECT_EQ(p.f32.bytes(), 2 * p.f16.bytes());
  EXPECT_EQ(p.f32.bytes_global_layers(), 2 * p.f16.bytes_global_layers());
  EXPECT_EQ(p.f32.bytes_swa_layers(), 2 * p.f16.bytes_swa_layers());
  EXPECT_EQ(p.f16.element_bytes(), 2u);
  EXPECT_EQ(p.f32.element_bytes(), 4u);
}

TEST(KVCacheF16, TrimWindowKeepsSameEntries) {
  const KVCacheShape shape = test_shape(2, 2, 8, /*window=*/5);
  CachePair p = filled_pair(shape, 12, 21);
  p.f32.trim_window(0, 11);
  p.f16.trim_window(0, 11);
  ASSERT_EQ(p.f16.n_entries(0), 4);
  for (int h = 0; h < 2; ++h) {
    const std::vector<float> k = p.f16.copy_keys_f32(0, h);
    const std::vector<float> v = p.f16.copy_values_f32(0, h);
    for (size_t i = 0; i < k.size(); ++i) {
      ASSERT_TRUE(same_bits(k[i], round_to_fp16(p.f32.keys(0, h)[i]))) << i;
      ASSERT_TRUE(same_bits(v[i], round_to_fp16(p.f32.values(0, h)[i]))) << i;
    }
    EXPECT_EQ(p.f16.positions(0, h)[0], 8);
  }
}

// Every head of the global layers keeps its own random subset of the same size.
KeptIndices random_kept(const KVCache& c, int keep, uint32_t seed) {
  std::mt19937 rng(seed);
  KeptIndices kept(static_cast<size_t>(c.shape().n_layer));
  for (int l = 0; l < c.shape().n_layer; ++l) {
    if (c.is_swa(l)) continue;
    for (int h = 0; h < c.shape().n_head_kv; ++h) {
      std::vector<int32_t> all(static_cast<size_t>(c.n_entries(l)));
      for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(static_cast<size_t>(keep));
      std::sort(all.begin(), all.end());
      kept[static_cast<size_t>(l)].push_back(all);
    }
  }
  return kept;
}

// Checks that `after` contains exactly rows `kept` of `before` (both f16), bit for bit, with their positions.
void expect_kept_rows(const KVCache& before, const KVCache& after, const KeptIndices& kept) {
  const size_t hd = static_cast<size_t>(before.shape().head_dim);
  for (int l = 0; l < before.shape().n_layer; ++l) {
    const auto& per_head = kept[static_cast<size_t>(l)];
    for (int h = 0; h < before.shape().n_head_kv; ++h) {
      std::vector<int32_t> idx;
      if (per_head.empty()) {
        for (int i = 0; i < before.n_entries(l); ++i) idx.push_back(i);
      } else {
        idx = per_head[static_cast<size_t>(h)];
      }
      ASSERT_EQ(after.n_entries(l), static_cast<int>(idx.size())) << "layer " << l;
      for (size_t i = 0; i < idx.size(); ++i) {
        const size_t src = static_cast<size_t>(idx[i]);
        EXPECT_EQ(after.positions(l, h)[i], before.positions(l, h)[src]) << "layer " << l << " head " << h;
        EXPECT_EQ(std::memcmp(after.keys_f16(l, h) + i * hd, before.keys_f16(l, h) + src * hd, hd * 2), 0)
            << "layer " << l << " head " << h << " kept row " << i;
        EXPECT_EQ(std::memcmp(after.values_f16(l, h) + i * hd, before.values_f16(l, h) + src * hd, hd * 2), 0)
            << "layer " << l << " head " << h << " kept row " << i;
      }
    }
  }
}

TEST(KVCacheF16, CompactKeepsChosenRows) {
  const KVCacheShape shape = test_shape(3, 2, 24, /*window=*/6);
  CachePair p = filled_pair(shape, 30, 17);
  for (int l = 0; l < shape.n_layer; ++l) p.f16.trim_window(l, 29);
  const KVCache before = p.f16;
  const KeptIndices kept = random_kept(before, 11, 4);

  KVCache copy = before.compacted_copy(kept);
  EXPECT_EQ(copy.type(), KVCacheType::F16);
  EXPECT_EQ(copy.next_position(), 30);
  expect_kept_rows(before, copy, kept);

  p.f16.compact(kept);
  expect_kept_rows(before, p.f16, kept);
  EXPECT_EQ(p.f16.next_position(), 30);
  EXPECT_EQ(p.f16.bytes_global_layers(), 11u * 2 * 2 * 24 * 2);
  EXPECT_EQ(p.f16.bytes_swa_layers(), before.bytes_swa_layers());

  // Rows appended after compaction continue at the original numbering and read back correctly.
  const Rows more = random_rows(shape, 2, 30, 99);
  p.f16.append(2, more.k.data(), more.v.data(), more.pos.data(), 2);
  ASSERT_EQ(p.f16.n_entries(2), 13);
  EXPECT_EQ(p.f16.positions(2, 1)[12], 31);
  const std::vector<float> k = p.f16.copy_keys_f32(2, 1);
  EXPECT_TRUE(same_bits(k[12 * 24 + 5], round_to_fp16(more.k[(1 * 2 + 1) * 24 + 5])));
}

TEST(KVCacheF16, FailedCompactLeavesCacheUnchanged) {
  CachePair p = filled_pair(test_shape(2, 2, 8), 10, 8);
  const KVCache before = p.f16;
  KeptIndices kept = random_kept(before, 4, 2);
  kept[1][1].back() = 10;  // out of range in the last layer
  EXPECT_THROW(p.f16.compact(kept), Error);
  expect_kept_rows(before, p.f16, KeptIndices(2));
}

TEST(KVCacheF16, TruncateDropsTrailingRows) {
  CachePair p = filled_pair(test_shape(2, 1, 16), 10, 12);
  const KVCache before = p.f16;
  p.f16.truncate_from(6);
  EXPECT_EQ(p.f16.next_position(), 6);
  EXPECT_EQ(p.f16.bytes(), before.bytes() * 6 / 10);
  KeptIndices first_six(2, std::vector<std::vector<int32_t>>{{0, 1, 2, 3, 4, 5}});
  expect_kept_rows(before, p.f16, first_six);
}

TEST(KVCacheF16, CopyAndClearKeepType) {
  CachePair p = filled_pair(test_shape(1, 1, 8), 3, 2);
  KVCache copy = p.f16;
  EXPECT_EQ(copy.type(), KVCacheType::F16);
  copy.clear();
  EXPECT_EQ(copy.type(), KVCacheType::F16);
  EXPECT_EQ(copy.bytes(), 0u);
  EXPECT_EQ(copy.next_position(), 0);
}

}  // namespace
}  // namespace lkv
