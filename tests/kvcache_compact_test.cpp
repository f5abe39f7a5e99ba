// KVCache compaction: validation before any change, memory and byte counts, compacted copies.
#include <gtest/gtest.h>

#include <cstring>

#include "eviction_test_util.h"
#include "util/error.h"

namespace lkv {
namespace {

bool same_contents(const KVCache& a, const KVCache& b) {
  if (a.next_position() != b.next_position()) return false;
  for (int l = 0; l < a.shape().n_layer; ++l) {
    if (a.n_entries(l) != b.n_entries(l)) return false;
    const size_t n = static_cast<size_t>(a.n_entries(l));
    const size_t hd = static_cast<size_t>(a.shape().head_dim);
    for (int h = 0; h < a.shape().n_head_kv; ++h) {
      if (std::memcmp(a.keys(l, h), b.keys(l, h), n * hd * sizeof(float)) != 0) return false;
      if (std::memcmp(a.values(l, h), b.values(l, h), n * hd * sizeof(float)) != 0) return false;
      if (std::memcmp(a.positions(l, h), b.positions(l, h), n * sizeof(int32_t)) != 0) return false;
    }
  }
  return true;
}

KeptIndices keep_every_other(const KVCache& c) {
  KeptIndices kept(static_cast<size_t>(c.shape().n_layer));
  for (int l = 0; l < c.shape().n_layer; ++l) {
    if (c.is_swa(l)) continue;
    kept[static_cast<size_t>(l)].resize(static_cast<size_t>(c.shape().n_head_kv));
    for (auto& idx : kept[static_cast<size_t>(l)]) {
      for (int j = 0; j < c.n_entries(l); j += 2) idx.push_back(j);
    }
  }
  return kept;
}

TEST(KVCacheCompact, FailureLeavesCacheUnchanged) {
  const KVCache original = test::fake_cache(4, 2, 8, 20, 3);
  auto expect_unchanged_after = [&](KeptIndices kept, const char* what) {
    KVCache c = original;
    EXPECT_THROW(c.compact(kept), Error) << what;
    EXPECT_TRUE(same_contents(c, original)) << what;
  };
  KeptIndices good = keep_every_other(original);
  {
    KeptIndices k = good;
    k[3][1].back() = 20;  // out of range, in the last layer: earlier layers must not be touched either
    expect_unchanged_after(k, "index out of range");
  }
  {
    KeptIndices k = good;
    std::swap(k[2][0][0], k[2][0][1]);
    expect_unchanged_after(k, "not increasing");
  }
  {
    KeptIndices k = good;
    k[1][1].pop_back();
    expect_unchanged_after(k, "head counts differ");
  }
  {
    KeptIndices k = good;
    k[0].pop_back();
    expect_unchanged_after(k, "missing KV head");
  }
  {
    KeptIndices k = good;
    k.pop_back();
    expect_unchanged_after(k, "missing layer");
  }
  {
    KeptIndices k = good;
    k[3][0][0] = -1;
    expect_unchanged_after(k, "negative index");
  }
}

TEST(KVCacheCompact, SlidingWindowLayerRejected) {
  KVCache c = test::fake_cache(6, 1, 4, 30, 5, /*swa_every=*/6, /*window=*/8);
  const KVCache original = c;
  KeptIndices k(6);
  k[0] = {{0, 1}};
  EXPECT_THROW(c.compact(k), Error);
  EXPECT_TRUE(same_contents(c, original));
}

TEST(KVCacheCompact, BytesAndPositionsAfterCompaction) {
  for (int n_kv : {1, 2, 3}) {
    KVCache c = test::fake_cache(5, n_kv, 16, 37, 11);
    const KVCache before = c;
    const KeptIndices kept = keep_every_other(c);
    c.compact(kept);
    for (int l = 0; l < 5; ++l) {
      EXPECT_EQ(c.n_entries(l), 19);
      for (int h = 0; h < n_kv; ++h) {
        for (int i = 0; i < 19; ++i) {
          EXPECT_EQ(c.positions(l, h)[i], 2 * i);  // original positions, not compacted ones
          EXPECT_EQ(std::memcmp(c.keys(l, h) + i * 16, before.keys(l, h) + 2 * i * 16, 16 * sizeof(float)), 0);
        }
      }
    }
    EXPECT_EQ(c.bytes(), size_t{5} * n_kv * 19 * 16 * 2 * sizeof(float));
    EXPECT_EQ(c.next_position(), 37);  // decoding continues at the original numbering
  }
}

TEST(KVCacheCompact, CompactedCopyEqualsCompact) {
  KVCache c = test::fake_cache(6, 2, 8, 50, 7, 3, 16);
  const KVCache original = c;
  const KeptIndices kept = keep_every_other(c);
  KVCache copy = c.compacted_copy(kept);
  EXPECT_TRUE(same_contents(c, original));
  c.compact(kept);
  EXPECT_TRUE(same_contents(c, copy));
  KeptIndices bad = kept;
  bad[2][0].push_back(1000);
  EXPECT_THROW((void)original.compacted_copy(bad), Error);
}

TEST(KVCacheCompact, TruncateDropsAppendedRows) {
  KVCache c = test::fake_cache(3, 2, 4, 10, 1);
  const KVCache original = c;
  std::vector<float> k(2 * 2 * 4, 1.0f), v(k.size(), 2.0f);
  const int32_t pos[2] = {10, 11};
  for (int l = 0; l < 3; ++l) c.append(l, k.data(), v.data(), pos, 2);
  EXPECT_EQ(c.next_position(), 12);
  c.truncate_from(10);
  EXPECT_TRUE(same_contents(c, original));
}

}  // namespace
}  // namespace lkv
