// LookaheadKV's scoring pass and LoRA in the inference forward pass, on tiny synthetic models of
// each architecture:
//   - after scoring, the prompt's KV cache is bit-identical to one that never saw the module, and
//     decoding from it gives bit-identical logits;
//   - LoRA applied to a batch equals running the base pass on weights with B·A·scale merged in;
//   - a batch without LoRA, or with B = 0, is unchanged bit for bit;
//   - the scoring pass's scores equal the training forward's (train_step.h) in exact-math mode.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "eviction/budget.h"
#include "eviction/policy.h"
#include "eviction/scoring.h"
#include "lookahead/params.h"
#include "lookahead/scoring.h"
#include "lookahead/train_step.h"
#include "lookahead_test_util.h"
#include "util/error.h"

namespace lkv {
namespace {

using test::all_archs;
using test::prefill;
using test::prompt_tokens;
using test::random_adapter;

// 20 prompt tokens: more than gemma3's 8-token window, so its sliding-window layers are full and a
// trim caused by the lookahead rows would drop prompt entries.
constexpr int kPrompt = 20;

LookaheadConfig small_config(int m = 6) {
  LookaheadConfig c;
  c.n_lookahead = m;
  c.rank = 4;
  c.alpha = 8.0f;
  return c;
}

// Whether two caches hold the same entries bit for bit.
::testing::AssertionResult same_cache(const KVCache& a, const KVCache& b) {
  if (a.next_position() != b.next_position()) {
    return ::testing::AssertionFailure() << "next position " << a.next_position() << " vs " << b.next_position();
  }
  const KVCacheShape& s = a.shape();
  const size_t hd = static_cast<size_t>(s.head_dim);
  for (int il = 0; il < s.n_layer; ++il) {
    const int n = a.n_entries(il);
    if (n != b.n_entries(il)) return ::testing::AssertionFailure() << "layer " << il << ": " << n << " vs " << b.n_entries(il) << " entries";
    for (int h = 0; h < s.n_head_kv; ++h) {
      const size_t bytes = sizeof(float) * hd * static_cast<size_t>(n);
      if (std::memcmp(a.keys(il, h), b.keys(il, h), bytes) != 0 || std::memcmp(a.values(il, h), b.values(il, h), bytes) != 0 ||
          std::memcmp(a.positions(il, h), b.positions(il, h), sizeof(int32_t) * static_cast<size_t>(n)) != 0) {
        return ::testing::AssertionFailure() << "layer " << il << ", KV head " << h << " differs";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<float> decode_logits(Transformer& t, KVCache& cache, int32_t token) {
  std::vector<float> logits;
  t.forward(Batch::from_tokens({token}, cache.next_position()), cache, &logits);
  return logits;
}

class LookaheadScoringArch : public ::testing::TestWithParam<std::string> {};

TEST_P(LookaheadScoringArch, PromptCacheBitIdenticalAfterScoring) {
  test::TinyModel tm = test::tiny_model(GetParam(), GgmlType::Q8_0, "bitid");
  const Model& model = *tm.model;
  const LookaheadAdapter adapter = random_adapter(model, small_config(), 5);
  for (bool exact : {false, true}) {
    const std::vector<int32_t> tokens = prompt_tokens(kPrompt, model.hparams.n_vocab);
    KVCache scored = prefill(model, tokens, exact, 7, 2);
    KVCache plain = prefill(model, tokens, exact, 7, 2);
    Transformer t(model, 2);
    t.set_exact_math(exact);
    HeadScores scores = zero_head_scores(scored, EvictionPolicy::evicted_layers(scored), model.hparams.n_head);
    add_lookahead_scores(t, scored, adapter, scores);
    EXPECT_TRUE(same_cache(scored, plain)) << (exact ? "exact" : "fast");
    // Decoding continues at position n and attends to exactly the prompt.
    EXPECT_EQ(scored.next_position(), kPrompt);
    const std::vector<float> a = decode_logits(t, scored, 3);
    const std::vector<float> b = decode_logits(t, plain, 3);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * a.size()), 0) << (exact ? "exact" : "fast");
  }
}

// Without the transient flag, the lookahead rows would push gemma3's sliding-window layers past
// prompt entries that decoding still needs: the bit-identity test above would catch it.
TEST(LookaheadScoring, TransientFlagKeepsTheSlidingWindow) {
  test::TinyModel tm = test::tiny_model("gemma3", GgmlType::Q8_0, "transient");
  const Model& model = *tm.model;
  const LookaheadAdapter adapter = random_adapter(model, small_config(), 6);
  const std::vector<int32_t> tokens = prompt_tokens(kPrompt, model.hparams.n_vocab);
  KVCache cache = prefill(model, tokens, false);
  const KVCache plain = cache;
  Transformer t(model, 1);
  const std::vector<float> rows = adapter.input_rows(model.hparams);
  Batch b;
  b.embeddings = rows.data();
  b.n_rows = adapter.config.n_lookahead;
  for (int i = 0; i < b.n_rows; ++i) b.positions.push_back(kPrompt + i);
  b.lora = &adapter.lora;
  t.forward(b, cache, nullptr);  // not transient
  cache.truncate_from(kPrompt);
  EXPECT_FALSE(same_cache(cache, plain));
  EXPECT_LT(cache.n_entries(0), plain.n_entries(0));
}

// LoRA in the forward pass against a naive computation: the same rows through the base pass on a
// copy of the model whose targeted weights are W + scale·B·A. Both run in exact-math mode over
// the same prompt cache. The only difference is where the low-rank term is added, so they agree to
// float rounding (measured below 1e-6 of the largest logit).
TEST_P(LookaheadScoringArch, LoraForwardMatchesMergedWeights) {
  const std::string arch = GetParam();
  test::TinyModel tm = test::tiny_model(arch, GgmlType::F32, "lora");
  const Model& model = *tm.model;
  const HParams& hp = model.hparams;
  const LookaheadAdapter adapter = random_adapter(model, small_config(), 7);

  test::TinyModel merged = test::tiny_model(arch, GgmlType::F32, "merged", [&](test::SyntheticModel& sm) {
    for (int il = 0; il < hp.n_layer; ++il) {
      for (int p = 0; p < kProjectionCount; ++p) {
        const LoraMatrix& mat = adapter.lora.layers[static_cast<size_t>(il)][static_cast<size_t>(p)];
        const Projection proj = static_cast<Projection>(p);
        const int64_t n_in = projection_n_in(hp, proj), n_out = projection_n_out(hp, proj);
        std::vector<float>& w = sm.tensor(fmt::format("blk.{}.{}.weight", il, projection_tensor_stem(proj))).values;
        ASSERT_EQ(static_cast<int64_t>(w.size()), n_in * n_out);
        for (int64_t o = 0; o < n_out; ++o) {
          for (int64_t i = 0; i < n_in; ++i) {
            double delta = 0.0;
            for (int k = 0; k < adapter.lora.rank; ++k) {
              delta += static_cast<double>(mat.b[static_cast<size_t>(o * adapter.lora.rank + k)]) *
                       mat.a[static_cast<size_t>(k * n_in + i)];
            }
            w[static_cast<size_t>(o * n_in + i)] += static_cast<float>(adapter.lora.scale * delta);
          }
        }
      }
    }
  });

  const std::vector<int32_t> tokens = prompt_tokens(kPrompt, hp.n_vocab);
  KVCache cache_lora = prefill(model, tokens, true);
  KVCache cache_merged = cache_lora;
  const std::vector<float> rows = adapter.input_rows(hp);
  Batch b;
  b.embeddings = rows.data();
  b.n_rows = adapter.config.n_lookahead;
  for (int i = 0; i < b.n_rows; ++i) {
    b.positions.push_back(kPrompt + i);
    b.logit_rows.push_back(i);
  }
  Transformer t_lora(model, 2), t_merged(*merged.model, 2);
  t_lora.set_exact_math(true);
  t_merged.set_exact_math(true);
  std::vector<float> with_lora, with_merged;
  Batch b_lora = b;
  b_lora.lora = &adapter.lora;
  t_lora.forward(b_lora, cache_lora, &with_lora);
  t_merged.forward(b, cache_merged, &with_merged);

  // The adapter changes the rows noticeably, so agreement is not agreement with the base pass.
  std::vector<float> base;
  KVCache cache_base = prefill(model, tokens, true);
  t_lora.forward(b, cache_base, &base);
  double scale = 0.0, diff = 0.0, change = 0.0;
  for (size_t i = 0; i < base.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::abs(with_merged[i])));
    diff = std::max(diff, static_cast<double>(std::abs(with_lora[i] - with_merged[i])));
    change = std::max(change, static_cast<double>(std::abs(base[i] - with_merged[i])));
  }
  std::printf("[ measured ] %s: LoRA vs merged weights %.2e, LoRA effect %.2e (of logit scale %.3f)\n", arch.c_str(),
              diff / scale, change / scale, scale);
  EXPECT_LT(diff, 1e-5 * scale);
  EXPECT_GT(change, 1e-2 * scale);
}

// A batch with an adapter whose B matrices are zero adds exactly zero to every projection, so it
// matches the batch without an adapter bit for bit (the no-adapter path itself is the one every
// model test already checks).
TEST_P(LookaheadScoringArch, ZeroLoraIsBitIdenticalToNoLora) {
  test::TinyModel tm = test::tiny_model(GetParam(), GgmlType::Q8_0, "zero");
  const Model& model = *tm.model;
  const LookaheadAdapter adapter = LookaheadAdapter::create(model, small_config(), 8);  // B = 0
  const std::vector<int32_t> tokens = prompt_tokens(kPrompt, model.hparams.n_vocab);
  KVCache c1 = prefill(model, tokens, false);
  KVCache c2 = c1;
  const std::vector<float> rows = adapter.input_rows(model.hparams);
  Batch b;
  b.embeddings = rows.data();
  b.n_rows = adapter.config.n_lookahead;
  for (int i = 0; i < b.n_rows; ++i) {
    b.positions.push_back(kPrompt + i);
    b.logit_rows.push_back(i);
  }
  Transformer t(model, 2);
  std::vector<float> plain, zero;
  t.forward(b, c1, &plain);
  Batch bz = b;
  bz.lora = &adapter.lora;
  t.forward(bz, c2, &zero);
  ASSERT_EQ(plain.size(), zero.size());
  EXPECT_EQ(std::memcmp(plain.data(), zero.data(), sizeof(float) * plain.size()), 0);
  EXPECT_TRUE(same_cache(c1, c2));
}

// The scoring pass (inference forward, exact math) and the training forward compute the same
// s_h[j]. Both are float32 over the same dequantized weights and differ only in summation order,
// because the reference products accumulate in double and the training products in float.
// Measured: below 1e-6 of the largest score.
TEST_P(LookaheadScoringArch, MatchesTrainingForward) {
  test::TinyModel tm = test::tiny_model(GetParam(), GgmlType::Q8_0, "train");
  const Model& model = *tm.model;
  const LookaheadConfig config = small_config();
  const LookaheadAdapter adapter = random_adapter(model, config, 9);
  KVCache cache = prefill(model, prompt_tokens(kPrompt, model.hparams.n_vocab), true);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);

  Transformer t(model, 2);
  t.set_exact_math(true);
  HeadScores scores = zero_head_scores(cache, layers, model.hparams.n_head);
  add_lookahead_scores(t, cache, adapter, scores);

  const ParamLayout layout(model.hparams, config);
  const std::vector<float> flat = layout.pack(adapter);
  ThreadPool pool(2);
  LookaheadStep<float> step(model, layout, &pool);
  step.run(flat.data(), cache, test::random_target(cache, 3), nullptr);
  ASSERT_EQ(step.head_scores().size(), layers.size());
  double worst = 0.0, top = 0.0;
  for (size_t k = 0; k < layers.size(); ++k) {
    const std::vector<float>& a = scores.layer_scores[k];
    const std::vector<float>& b = step.head_scores()[k];
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      worst = std::max(worst, static_cast<double>(std::abs(a[j] - b[j])));
      top = std::max(top, static_cast<double>(a[j]));
    }
    // Each head's scores are a part of a probability distribution: positive, summing below 1.
    const int n = cache.n_entries(layers[k]);
    for (int h = 0; h < model.hparams.n_head; ++h) {
      double sum = 0.0;
      for (int j = 0; j < n; ++j) sum += a[static_cast<size_t>(h * n + j)];
      EXPECT_GT(sum, 0.0);
      EXPECT_LT(sum, 1.0);
    }
  }
  std::printf("[ measured ] %s: scoring pass vs training forward %.2e of the top score %.3f\n", GetParam().c_str(),
              worst / top, top);
  EXPECT_LT(worst, 1e-5 * top);

  // The fast path (8-bit activations, table GELU), which inference uses, stays close to what
  // training optimized: the activation rounding moves scores by a few percent of the top score.
  Transformer fast(model, 2);
  HeadScores fast_scores = zero_head_scores(cache, layers, model.hparams.n_head);
  add_lookahead_scores(fast, cache, adapter, fast_scores);
  double fast_worst = 0.0;
  for (size_t k = 0; k < layers.size(); ++k) {
    for (size_t j = 0; j < fast_scores.layer_scores[k].size(); ++j) {
      fast_worst = std::max(fast_worst, static_cast<double>(std::abs(fast_scores.layer_scores[k][j] - step.head_scores()[k][j])));
    }
  }
  std::printf("[ measured ] %s: fast scoring pass vs training forward %.2e of the top score\n", GetParam().c_str(),
              fast_worst / top);
  EXPECT_LT(fast_worst, 0.1 * top);
}

// The adapter's scores reflect the adapter: a module with other weights scores differently.
TEST(LookaheadScoring, ScoresDependOnTheModule) {
  test::TinyModel tm = test::tiny_model("llama", GgmlType::Q8_0, "depends");
  const Model& model = *tm.model;
  KVCache cache = prefill(model, prompt_tokens(kPrompt, model.hparams.n_vocab), false);
  Transformer t(model, 1);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  HeadScores a = zero_head_scores(cache, layers, model.hparams.n_head);
  HeadScores b = zero_head_scores(cache, layers, model.hparams.n_head);
  add_lookahead_scores(t, cache, random_adapter(model, small_config(), 10), a);
  add_lookahead_scores(t, cache, random_adapter(model, small_config(), 11), b);
  EXPECT_NE(a.layer_scores, b.layer_scores);
}

TEST(LookaheadScoring, RejectsAdapterOfAnotherModel) {
  test::TinyModel llama = test::tiny_model("llama", GgmlType::Q8_0, "rej_llama");
  test::TinyModel qwen = test::tiny_model("qwen3", GgmlType::Q8_0, "rej_qwen");
  KVCache cache = prefill(*llama.model, prompt_tokens(kPrompt, llama.model->hparams.n_vocab), false);
  const KVCache before = cache;
  Transformer t(*llama.model, 1);
  HeadScores s = zero_head_scores(cache, EvictionPolicy::evicted_layers(cache), llama.model->hparams.n_head);
  try {
    add_lookahead_scores(t, cache, LookaheadAdapter::create(*qwen.model, small_config(), 1), s);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture qwen3"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(same_cache(cache, before));
}

// The scorer plugged into an eviction policy (uniform budget, no pooling, no protected tokens)
// keeps, per KV head, the entries with the highest group-mean lookahead scores.
TEST(LookaheadScoring, ScorerDrivesAnEvictionPolicy) {
  test::TinyModel tm = test::tiny_model("qwen3", GgmlType::Q8_0, "policy");
  const Model& model = *tm.model;
  const HParams& hp = model.hparams;
  auto adapter = std::make_shared<const LookaheadAdapter>(random_adapter(model, small_config(), 12));
  KVCache cache = prefill(model, prompt_tokens(kPrompt, hp.n_vocab), false);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  Transformer t(model, 2);

  KVCache copy = cache;
  HeadScores expected = zero_head_scores(copy, layers, hp.n_head);
  add_lookahead_scores(t, copy, *adapter, expected);

  PolicyParams params;
  params.name = "lookaheadkv";
  params.budget = 6;
  const EvictionPolicy policy(params, [adapter] { return std::make_unique<LookaheadScorer>(adapter); },
                              std::make_shared<UniformSchedule>(), ProtectionRule{}, {});
  EvictionTimings timings;
  ScoreContext ctx{t, cache, layers, 0, kPrompt, nullptr, 6, &timings};
  std::unique_ptr<Scorer> scorer = policy.make_scorer();
  const EvictionReport report = policy.evict(scorer.get(), ctx);
  EXPECT_TRUE(report.applied);
  EXPECT_GT(report.timings.capture_ms, 0.0);

  for (size_t k = 0; k < layers.size(); ++k) {
    ASSERT_EQ(cache.n_entries(layers[k]), 6);
    std::vector<float> kv(static_cast<size_t>(hp.n_head_kv) * kPrompt);
    reduce_query_groups(expected.layer_scores[k].data(), hp.n_head, hp.n_head_kv, kPrompt, Reduction::Mean, kv.data());
    for (int h = 0; h < hp.n_head_kv; ++h) {
      std::vector<int32_t> order(kPrompt);
      for (int j = 0; j < kPrompt; ++j) order[static_cast<size_t>(j)] = j;
      const float* row = kv.data() + static_cast<size_t>(h) * kPrompt;
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
      std::vector<int32_t> top(order.begin(), order.begin() + 6);
      std::sort(top.begin(), top.end());
      const int32_t* kept = cache.positions(layers[k], h);
      EXPECT_EQ(std::vector<int32_t>(kept, kept + 6), top) << "layer " << layers[k] << ", KV head " << h;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LookaheadScoring, LookaheadScoringArch, ::testing::ValuesIn(all_archs()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace lkv
