// LookaheadKV on the real models in models/: the scoring pass leaves the prompt cache bit-identical
// past Gemma's 512-token window, and the cost of a scoring pass and of one training step.
//
// Slow (a prefill of several hundred tokens per model), so these run only with LKV_LONG_TESTS=1;
// the synthetic-model tests cover the same code paths on every run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "eviction/policy.h"
#include "lookahead/params.h"
#include "lookahead/scoring.h"
#include "lookahead/train_step.h"
#include "lookahead_test_util.h"
#include "model_test_util.h"
#include "util/timer.h"

namespace lkv {
namespace {

void run_real_model(const Model& model, int n_prompt) {
  if (!std::getenv("LKV_LONG_TESTS")) GTEST_SKIP() << "set LKV_LONG_TESTS=1 to run";
  const HParams& hp = model.hparams;
  const std::vector<int32_t> tokens = test::prompt_tokens(n_prompt, hp.n_vocab);
  Timer prefill_timer;
  KVCache cache = test::prefill(model, tokens, false, 256, 2);
  const double prefill_ms = prefill_timer.elapsed_ms();
  const KVCache plain = cache;

  const LookaheadConfig config;  // m = 32, rank 8, alpha 32, every projection
  const LookaheadAdapter adapter = test::random_adapter(model, config, 1, 0.05f);
  Transformer t(model, 2);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  HeadScores scores = zero_head_scores(cache, layers, hp.n_head);
  Timer score_timer;
  add_lookahead_scores(t, cache, adapter, scores);
  const double score_ms = score_timer.elapsed_ms();
  for (int il = 0; il < hp.n_layer; ++il) {
    ASSERT_EQ(cache.n_entries(il), plain.n_entries(il)) << il;
    for (int h = 0; h < hp.n_head_kv; ++h) {
      const size_t n = static_cast<size_t>(cache.n_entries(il)) * static_cast<size_t>(hp.head_dim);
      ASSERT_EQ(std::memcmp(cache.keys(il, h), plain.keys(il, h), n * sizeof(float)), 0) << il;
      ASSERT_EQ(std::memcmp(cache.values(il, h), plain.values(il, h), n * sizeof(float)), 0) << il;
    }
  }

  const ParamLayout layout(hp, config);
  std::vector<float> params = layout.pack(adapter), grad(params.size(), 0.0f);
  ThreadPool pool(2);
  LookaheadStep<float> step(model, layout, &pool);
  const ImportanceTarget target = test::random_target(cache, 2);
  Timer step_timer;
  const double loss = step.run(params.data(), cache, target, grad.data());
  const double step_ms = step_timer.elapsed_ms();
  std::printf("[ measured ] %s, %d prompt tokens: prefill %.0f ms, scoring pass %.1f ms (%.2f%%), training step %.0f ms "
              "(loss %.3f, %zu parameters)\n",
              hp.arch.c_str(), n_prompt, prefill_ms, score_ms, 100.0 * score_ms / prefill_ms, step_ms, loss,
              params.size());
  EXPECT_TRUE(std::isfinite(loss));
}

TEST(LookaheadRealModel, Gemma3) {
  LKV_REQUIRE_MODEL(model, test::kGemmaPath);
  run_real_model(*model, 1024);
}

TEST(LookaheadRealModel, SmolLM2) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  run_real_model(*model, 1024);
}

}  // namespace
}  // namespace lkv
