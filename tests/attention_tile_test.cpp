// The tiled attention kernel against a float64 softmax attention, and its shape independence: a
// query gives bit-identical output alone or inside a tile, and a mask gives the same output as
// dropping the masked entries from the cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "model/attention_tile.h"
#include "tensor/float_convert.h"

namespace lkv {
namespace {

struct Problem {
  int hd = 0, n_entries = 0, n_query = 0;
  std::vector<float> q, k, v;
  std::vector<int> lo, hi;
};

Problem make_problem(int hd, int n_entries, int n_query, uint32_t seed) {
  Problem p;
  p.hd = hd;
  p.n_entries = n_entries;
  p.n_query = n_query;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](std::vector<float>& x, size_t n, float scale) {
    x.resize(n);
    for (float& e : x) e = scale * normal(rng);
  };
  fill(p.q, static_cast<size_t>(n_query) * hd, 1.0f / std::sqrt(static_cast<float>(hd)));
  fill(p.k, static_cast<size_t>(n_entries) * hd, 1.0f);
  fill(p.v, static_cast<size_t>(n_entries) * hd, 1.0f);
  // Causal ranges with a sliding window on every other query, so ranges differ inside the tile.
  for (int r = 0; r < n_query; ++r) {
    const int hi = n_entries - (n_query - 1 - r) / 2;
    p.hi.push_back(hi);
    p.lo.push_back(r % 2 ? std::max(0, hi - 37) : 0);
  }
  return p;
}

// Runs the kernel on queries [first, first + count) of p; returns out and probabilities.
void run_tile(const Problem& p, int first, int count, const uint8_t* mask, const float* keys, const float* values,
              std::vector<float>& out, std::vector<float>& probs) {
  out.assign(static_cast<size_t>(count) * p.hd, -1.0f);
  probs.assign(static_cast<size_t>(count) * p.n_entries, -1.0f);
  std::vector<const float*> q;
  std::vector<float*> o;
  for (int r = 0; r < count; ++r) {
    q.push_back(p.q.data() + static_cast<size_t>(first + r) * p.hd);
    o.push_back(out.data() + static_cast<size_t>(r) * p.hd);
  }
  AttentionTile t;
  t.head_dim = p.hd;
  t.n_query = count;
  t.q = q.data();
  t.out = o.data();
  t.lo = p.lo.data() + first;
  t.hi = p.hi.data() + first;
  t.mask = mask;
  t.probs = probs.data();
  t.probs_stride = p.n_entries;
  attend_tile(t, keys, values);
}

TEST(AttentionTile, MatchesFloat64Reference) {
  for (int hd : {16, 64, 100, 256}) {
    const Problem p = make_problem(hd, 203, 11, 7u + static_cast<uint32_t>(hd));
    std::vector<float> out, probs;
    run_tile(p, 0, p.n_query, nullptr, p.k.data(), p.v.data(), out, probs);
    double max_diff = 0.0;
    for (int r = 0; r < p.n_query; ++r) {
      std::vector<double> s(static_cast<size_t>(p.n_entries), 0.0);
      double mx = -1e300, sum = 0.0;
      for (int j = p.lo[r]; j < p.hi[r]; ++j) {
        double d = 0.0;
        for (int c = 0; c < hd; ++c) d += static_cast<double>(p.q[static_cast<size_t>(r) * hd + c]) * p.k[static_cast<size_t>(j) * hd + c];
        s[static_cast<size_t>(j)] = d;
        mx = std::max(mx, d);
      }
      for (int j = p.lo[r]; j < p.hi[r]; ++j) sum += (s[static_cast<size_t>(j)] = std::exp(s[static_cast<size_t>(j)] - mx));
      for (int c = 0; c < hd; ++c) {
        double o = 0.0;
        for (int j = p.lo[r]; j < p.hi[r]; ++j) o += s[static_cast<size_t>(j)] / sum * p.v[static_cast<size_t>(j) * hd + c];
        max_diff = std::max(max_diff, std::abs(o - out[static_cast<size_t>(r) * hd + c]));
      }
      for (int j = 0; j < p.n_entries; ++j) {
        const double want = (j >= p.lo[r] && j < p.hi[r]) ? s[static_cast<size_t>(j)] / sum : 0.0;
        ASSERT_NEAR(probs[static_cast<size_t>(r) * p.n_entries + j], want, 1e-6) << "hd " << hd << " query " << r << " entry " << j;
      }
    }
    EXPECT_LT(max_diff, 1e-5) << "head_dim " << hd;
  }
}

TEST(AttentionTile, OutputDoesNotDependOnTileShape) {
  const Problem p = make_problem(64, 150, 9, 3u);
  std::vector<float> all, all_probs, one, one_probs;
  run_tile(p, 0, p.n_query, nullptr, p.k.data(), p.v.data(), all, all_probs);
  for (int r = 0; r < p.n_query; ++r) {
    run_tile(p, r, 1, nullptr, p.k.data(), p.v.data(), one, one_probs);
    EXPECT_EQ(0, std::memcmp(one.data(), all.data() + static_cast<size_t>(r) * p.hd, sizeof(float) * p.hd)) << "query " << r;
  }
}

TEST(AttentionTile, MaskEqualsCompactedCache) {
  Problem p = make_problem(32, 120, 6, 11u);
  for (int r = 0; r < p.n_query; ++r) p.lo[r] = 0, p.hi[r] = p.n_entries;  // compaction keeps full ranges simple
  std::vector<uint8_t> mask(static_cast<size_t>(p.n_entries));
  std::vector<float> kc, vc;
  for (int j = 0; j < p.n_entries; ++j) {
    mask[static_cast<size_t>(j)] = (j % 3 != 1 && j != 5) ? 1 : 0;
    if (!mask[static_cast<size_t>(j)]) continue;
    kc.insert(kc.end(), p.k.begin() + j * p.hd, p.k.begin() + (j + 1) * p.hd);
    vc.insert(vc.end(), p.v.begin() + j * p.hd, p.v.begin() + (j + 1) * p.hd);
  }
  std::vector<float> masked, masked_probs, compact, compact_probs;
  run_tile(p, 0, p.n_query, mask.data(), p.k.data(), p.v.data(), masked, masked_probs);
  Problem pc = p;
  pc.n_entries = static_cast<int>(kc.size()) / p.hd;
  for (int r = 0; r < p.n_query; ++r) pc.hi[r] = pc.n_entries;
  run_tile(pc, 0, p.n_query, nullptr, kc.data(), vc.data(), compact, compact_probs);
  EXPECT_EQ(0, std::memcmp(masked.data(), compact.data(), sizeof(float) * masked.size()));
  for (int r = 0; r < p.n_query; ++r) {
    for (int j = 0; j < p.n_entries; ++j) {
      if (!mask[static_cast<size_t>(j)]) {
        EXPECT_EQ(masked_probs[static_cast<size_t>(r) * p.n_entries + j], 0.0f);
      }
    }
  }
}

TEST(AttentionTile, EmptyRangesGiveZeros) {
  Problem p = make_problem(16, 40, 5, 5u);
  for (int r = 0; r < p.n_query; ++r) p.lo[r] = p.hi[r] = 0;
  p.lo[2] = 10, p.hi[2] = 20;  // only query 2 has visible entries
  std::vector<uint8_t> mask(40, 1);
  for (int j = 10; j < 20; ++j) mask[static_cast<size_t>(j)] = 0;  // ... but all of them are masked
  std::vector<float> out, probs;
  run_tile(p, 0, p.n_query, mask.data(), p.k.data(), p.v.data(), out, probs);
  for (float x : out) ASSERT_EQ(x, 0.0f);
}

TEST(AttentionTile, F16CacheMatchesWidenedF32) {
  const Problem p = make_problem(64, 90, 7, 13u);
  std::vector<uint16_t> k16(p.k.size()), v16(p.v.size());
  std::vector<float> kw(p.k.size()), vw(p.v.size());
  for (size_t i = 0; i < p.k.size(); ++i) {
    k16[i] = fp32_to_fp16_scalar(p.k[i]);
    v16[i] = fp32_to_fp16_scalar(p.v[i]);
    kw[i] = fp16_to_fp32_scalar(k16[i]);
    vw[i] = fp16_to_fp32_scalar(v16[i]);
  }
  std::vector<float> want, want_probs;
  run_tile(p, 0, p.n_query, nullptr, kw.data(), vw.data(), want, want_probs);
  std::vector<float> got(want.size()), probs(want_probs.size());
  std::vector<const float*> q;
  std::vector<float*> o;
  for (int r = 0; r < p.n_query; ++r) {
    q.push_back(p.q.data() + static_cast<size_t>(r) * p.hd);
    o.push_back(got.data() + static_cast<size_t>(r) * p.hd);
  }
  AttentionTile t;
  t.head_dim = p.hd;
  t.n_query = p.n_query;
  t.q = q.data();
  t.out = o.data();
  t.lo = p.lo.data();
  t.hi = p.hi.data();
  t.probs = probs.data();
  t.probs_stride = p.n_entries;
  attend_tile(t, k16.data(), v16.data());
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(float) * got.size()));
}

}  // namespace
}  // namespace lkv
