// AdamW, the warm-up + cosine learning-rate schedule and gradient clipping
// (src/lookahead/optimizer.h), and a few real training steps of the LookaheadKV module.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lookahead/optimizer.h"
#include "lookahead/params.h"
#include "lookahead/train_step.h"
#include "lookahead_test_util.h"
#include "util/error.h"

namespace lkv {
namespace {

// f(x) = ½ Σ a_i (x_i − c_i)², an ill-conditioned quadratic (curvatures 0.1 to 10).
struct Quadratic {
  std::vector<double> a = {0.1, 1.0, 10.0, 3.0};
  std::vector<double> c = {1.5, -2.0, 0.25, 4.0};
  void gradient(const std::vector<float>& x, std::vector<float>& g) const {
    for (size_t i = 0; i < x.size(); ++i) g[i] = static_cast<float>(a[i] * (x[i] - c[i]));
  }
};

TEST(LookaheadOptimizer, AdamWMinimizesAQuadratic) {
  const Quadratic q;
  std::vector<float> x(4, 0.0f), g(4);
  AdamW opt(x.size(), AdamWConfig{});
  LrSchedule schedule{0.1, 20, 600, 0.01};
  schedule.validate();
  for (int64_t s = 0; s < schedule.total_steps; ++s) {
    q.gradient(x, g);
    opt.step(x.data(), g.data(), schedule.at(s));
  }
  EXPECT_EQ(opt.steps(), 600);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], q.c[i], 2e-2) << i;
}

TEST(LookaheadOptimizer, FirstStepMovesByLearningRate) {
  // After one step the bias-corrected moments are g and g², so the update is lr·g/(|g| + eps).
  std::vector<float> x = {1.0f, 1.0f, 1.0f};
  const std::vector<float> g = {0.5f, -3.0f, 0.0f};
  AdamW opt(x.size(), AdamWConfig{});
  opt.step(x.data(), g.data(), 0.01);
  EXPECT_NEAR(x[0], 0.99f, 1e-6);
  EXPECT_NEAR(x[1], 1.01f, 1e-6);
  EXPECT_EQ(x[2], 1.0f);
}

TEST(LookaheadOptimizer, WeightDecayIsDecoupledAndMasked) {
  AdamWConfig config;
  config.weight_decay = 0.1;
  std::vector<float> x = {2.0f, 2.0f};
  const std::vector<float> zero = {0.0f, 0.0f};
  AdamW opt(x.size(), config);
  opt.set_decay_mask({1, 0});
  for (int s = 0; s < 10; ++s) opt.step(x.data(), zero.data(), 0.5);
  EXPECT_NEAR(x[0], 2.0 * std::pow(1.0 - 0.5 * 0.1, 10), 1e-5);
  EXPECT_EQ(x[1], 2.0f);
}

TEST(LookaheadOptimizer, ScheduleWarmsUpThenDecays) {
  const LrSchedule s{1e-3, 10, 111, 0.1};  // cosine over steps 10 .. 110
  EXPECT_DOUBLE_EQ(s.at(0), 1e-4);
  EXPECT_DOUBLE_EQ(s.at(4), 5e-4);
  EXPECT_DOUBLE_EQ(s.at(9), 1e-3);
  EXPECT_DOUBLE_EQ(s.at(10), 1e-3);
  EXPECT_NEAR(s.at(60), 0.5 * (1e-3 + 1e-4), 1e-15);  // half way down the cosine
  EXPECT_DOUBLE_EQ(s.at(110), 1e-4);
  EXPECT_DOUBLE_EQ(s.at(500), 1e-4);
  for (int64_t i = 10; i < 110; ++i) EXPECT_GE(s.at(i), s.at(i + 1)) << i;
  EXPECT_DOUBLE_EQ((LrSchedule{2e-3, 0, 1, 0.0}).at(0), 2e-3);  // a single step runs at the peak
  EXPECT_THROW((LrSchedule{1e-3, 20, 10, 0.1}).validate(), Error);
  EXPECT_THROW((LrSchedule{0.0, 0, 10, 0.1}).validate(), Error);
}

TEST(LookaheadOptimizer, ClipsTheGlobalNorm) {
  std::vector<float> g = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(clip_grad_norm(g.data(), g.size(), 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6f, 1e-7);
  EXPECT_NEAR(g[1], 0.8f, 1e-7);
  std::vector<float> small = {0.3f, 0.4f};
  clip_grad_norm(small.data(), small.size(), 1.0);
  EXPECT_EQ(small[0], 0.3f);  // below the limit: unchanged
  clip_grad_norm(g.data(), g.size(), 0.0);  // 0: no clipping
  EXPECT_NEAR(g[0], 0.6f, 1e-7);
}

TEST(LookaheadOptimizer, RestoredStateContinuesExactly) {
  const Quadratic q;
  std::vector<float> x(4, 0.0f), g(4);
  AdamW a(4, AdamWConfig{});
  for (int s = 0; s < 5; ++s) {
    q.gradient(x, g);
    a.step(x.data(), g.data(), 0.05);
  }
  std::vector<float> y = x;
  AdamW b(4, AdamWConfig{});
  b.restore(a.steps(), a.first_moment(), a.second_moment());
  for (int s = 0; s < 5; ++s) {
    q.gradient(x, g);
    a.step(x.data(), g.data(), 0.05);
    q.gradient(y, g);
    b.step(y.data(), g.data(), 0.05);
  }
  EXPECT_EQ(x, y);
  EXPECT_THROW(b.restore(1, std::vector<float>(3), std::vector<float>(4)), Error);
}

// Real training steps on one example of a tiny model: the module learns to match its target.
TEST(LookaheadTraining, AdamWStepsReduceTheLoss) {
  test::TinyModel tm = test::tiny_model("llama", GgmlType::Q8_0, "train");
  const Model& model = *tm.model;
  const KVCache cache = test::prefill(model, test::prompt_tokens(24, model.hparams.n_vocab), false);
  LookaheadConfig config;
  config.n_lookahead = 8;
  config.rank = 4;
  config.alpha = 16.0f;
  const LookaheadAdapter adapter = LookaheadAdapter::create(model, config, 1);

  // A peaked target with most mass on three entries, since the attention of real responses
  // concentrates on a few tokens.
  ImportanceTarget target = test::random_target(cache, 2);
  for (std::vector<float>& g : target.g) {
    const size_t n = g.size() / static_cast<size_t>(target.n_head_kv);
    for (size_t h = 0; h < static_cast<size_t>(target.n_head_kv); ++h) {
      float* row = &g[h * n];
      for (size_t j = 0; j < n; ++j) row[j] = (j == 2 || j == 9 || j == 17) ? 0.3f : 0.1f / static_cast<float>(n - 3);
    }
  }

  const ParamLayout layout(model.hparams, config);
  std::vector<float> params = layout.pack(adapter), grad(params.size());
  ThreadPool pool(2);
  LookaheadStep<float> step(model, layout, &pool);
  AdamW opt(params.size(), AdamWConfig{});
  const LrSchedule schedule{1e-2, 3, 30, 0.1};
  double first = 0.0, last = 0.0;
  for (int64_t s = 0; s < schedule.total_steps; ++s) {
    std::fill(grad.begin(), grad.end(), 0.0f);
    const double loss = step.run(params.data(), cache, target, grad.data());
    if (s == 0) first = loss;
    last = loss;
    clip_grad_norm(grad.data(), grad.size(), 1.0);
    opt.step(params.data(), grad.data(), schedule.at(s));
  }
  std::printf("[ measured ] loss %.4f -> %.4f after %lld steps\n", first, last, static_cast<long long>(schedule.total_steps));
  EXPECT_LT(last, 0.5 * first);
}

// A training step gives the same loss and gradient bit for bit on one thread and on two, so a
// run is reproducible from its seed on any machine with the same instruction set.
TEST(LookaheadTraining, StepIgnoresThreadCount) {
  test::TinyModel tm = test::tiny_model("gemma3", GgmlType::Q8_0, "threads");
  const Model& model = *tm.model;
  const KVCache cache = test::prefill(model, test::prompt_tokens(20, model.hparams.n_vocab), false);
  LookaheadConfig config;
  config.n_lookahead = 6;
  config.rank = 4;
  const LookaheadAdapter adapter = test::random_adapter(model, config, 3);
  const ImportanceTarget target = test::random_target(cache, 4);
  const ParamLayout layout(model.hparams, config);
  const std::vector<float> params = layout.pack(adapter);

  std::vector<float> grad1(params.size(), 0.0f), grad2(params.size(), 0.0f);
  ThreadPool one(1), two(2);
  LookaheadStep<float> step1(model, layout, &one), step2(model, layout, &two);
  const double loss1 = step1.run(params.data(), cache, target, grad1.data());
  const double loss2 = step2.run(params.data(), cache, target, grad2.data());
  EXPECT_EQ(loss1, loss2);
  EXPECT_EQ(grad1, grad2);
}

}  // namespace
}  // namespace lkv
