// Finite-difference checks of LookaheadKV's backward pass (src/lookahead/backward.h, loss.h,
// train_step.h): first each differentiable piece on its own, then the whole loss with respect to
// the lookahead embeddings and every LoRA matrix on tiny synthetic models of each architecture.
//
// Everything is checked in double precision, where central differences resolve relative errors
// near 1e-9: with step h the truncation error is about h²·|f'''| and the rounding error about
// 1e-16·|f|/h, both below 1e-8 relative at the steps used here (h = 1e-5 for the pieces, 1e-4 along
// a unit direction for the whole loss). An error in a backward formula (a missing term, a wrong
// sign or transpose) shows up as a relative error of 1e-2 or more, so the 1e-6 bound leaves a wide
// margin on both sides. The float path, which training uses, runs the same code. Its gradient is
// compared with the double one separately, with a bound set by float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <vector>

#include "lookahead/backward.h"
#include "lookahead/loss.h"
#include "lookahead/params.h"
#include "lookahead/rng.h"
#include "lookahead/train_step.h"
#include "lookahead_test_util.h"
#include "tensor/quantize.h"

namespace lkv {
namespace {

using test::random_adapter;
using test::random_target;

constexpr double kComponentTolerance = 1e-6;
constexpr double kLossTolerance = 1e-6;

std::vector<double> random_values(size_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<double> v(n);
  for (double& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}

std::vector<float> random_floats(size_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

// Largest error of `analytic` against central differences of f over every coordinate of x, each
// relative to max(|analytic|, |numeric|, 1e-3 · the largest |analytic|), so coordinates whose
// derivative is nearly zero are judged on the gradient's own scale.
double max_relative_error(std::vector<double>& x, const std::function<double()>& f, const std::vector<double>& analytic,
                          double h = 1e-5) {
  EXPECT_EQ(x.size(), analytic.size());
  double scale = 0.0;
  for (double a : analytic) scale = std::max(scale, std::abs(a));
  EXPECT_GT(scale, 0.0) << "a gradient that is zero everywhere checks nothing";
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f();
    x[i] = saved - h;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double denom = std::max({std::abs(analytic[i]), std::abs(numeric), 1e-3 * scale});
    worst = std::max(worst, std::abs(analytic[i] - numeric) / denom);
  }
  return worst;
}

void report(const std::string& what, double err) { std::printf("[ measured ] %-44s max relative error %.2e\n", what.c_str(), err); }

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(LookaheadGradComponents, RmsNorm) {
  Rng rng(1);
  const int n = 24;
  std::vector<double> x = random_values(n, rng, -2.0, 2.0);
  const std::vector<float> w = random_floats(n, rng, 0.5, 1.5);
  const std::vector<double> c = random_values(n, rng);
  const float eps = 1e-6f;
  auto f = [&] {
    std::vector<double> y(n);
    grad::rms_norm_forward(x.data(), w.data(), y.data(), n, eps);
    return dot(c, y);
  };
  std::vector<double> y(n), dx(n, 0.0);
  const double inv = grad::rms_norm_forward(x.data(), w.data(), y.data(), n, eps);
  grad::rms_norm_backward(x.data(), w.data(), inv, c.data(), dx.data(), n);
  const double err = max_relative_error(x, f, dx);
  report("rms_norm", err);
  EXPECT_LT(err, kComponentTolerance);
}

TEST(LookaheadGradComponents, Rope) {
  for (RopeStyle style : {RopeStyle::Norm, RopeStyle::Neox}) {
    Rng rng(2);
    const int n_heads = 3, head_dim = 16, n_rot = 12;  // partial rotation: the last 4 dims pass through
    const size_t n = static_cast<size_t>(n_heads * head_dim);
    std::vector<double> x = random_values(n, rng);
    const std::vector<double> c = random_values(n, rng);
    auto rotate = [&](std::vector<double> v, bool inverse) {
      grad::rope(v.data(), n_heads, head_dim, n_rot, 37, 10000.0f, 0.5f, style, inverse);
      return v;
    };
    auto f = [&] { return dot(c, rotate(x, false)); };
    const std::vector<double> dx = rotate(c, true);
    const double err = max_relative_error(x, f, dx);
    report(style == RopeStyle::Norm ? "rope (adjacent pairs)" : "rope (halves)", err);
    EXPECT_LT(err, kComponentTolerance);
    // The inverse undoes the rotation.
    const std::vector<double> back = rotate(rotate(x, false), true);
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(back[i], x[i], 1e-12);
  }
}

TEST(LookaheadGradComponents, GatedActivation) {
  for (FfnActivation act : {FfnActivation::Silu, FfnActivation::GeluTanh}) {
    Rng rng(3);
    const size_t n = 60;
    std::vector<double> gate = random_values(n, rng, -5.0, 5.0);
    std::vector<double> up = random_values(n, rng, -2.0, 2.0);
    const std::vector<double> c = random_values(n, rng);
    auto f = [&] {
      std::vector<double> out(n);
      grad::gated_forward(gate.data(), up.data(), out.data(), static_cast<int64_t>(n), act);
      return dot(c, out);
    };
    std::vector<double> dgate(n, 0.0), dup(n, 0.0);
    grad::gated_backward(gate.data(), up.data(), c.data(), dgate.data(), dup.data(), static_cast<int64_t>(n), act);
    const double err = std::max(max_relative_error(gate, f, dgate), max_relative_error(up, f, dup));
    report(act == FfnActivation::Silu ? "gated FFN (SiLU)" : "gated FFN (GELU-tanh)", err);
    EXPECT_LT(err, kComponentTolerance);
  }
}

// A frozen weight matrix [n_out × n_in] stored in `type`, and its view.
struct Frozen {
  std::vector<uint8_t> bytes;
  WeightView view;
  Frozen(GgmlType type, int64_t n_in, int64_t n_out, Rng& rng) {
    const std::vector<float> values = random_floats(static_cast<size_t>(n_in * n_out), rng, -0.3, 0.3);
    const size_t row = row_size(type, n_in);
    bytes.resize(row * static_cast<size_t>(n_out));
    for (int64_t o = 0; o < n_out; ++o) quantize_row(type, &values[static_cast<size_t>(o * n_in)], &bytes[row * o], n_in);
    view = {type, bytes.data(), n_in, n_out, row};
  }
};

TEST(LookaheadGradComponents, LoraProjection) {
  struct Case {
    GgmlType type;
    int64_t n_in, n_out;
    int threads;
  };
  // Q8_0 with 320 inputs splits dx into three column chunks (128, 128, 64) over two threads.
  for (const Case& cs : {Case{GgmlType::F32, 40, 24, 1}, Case{GgmlType::Q8_0, 320, 20, 2}}) {
    Rng rng(4);
    ThreadPool pool(cs.threads);
    Frozen w(cs.type, cs.n_in, cs.n_out, rng);
    const int m = 3, rank = 4;
    std::vector<double> x = random_values(static_cast<size_t>(m * cs.n_in), rng);
    std::vector<double> a = random_values(static_cast<size_t>(rank * cs.n_in), rng, -0.2, 0.2);
    std::vector<double> b = random_values(static_cast<size_t>(cs.n_out * rank), rng, -0.2, 0.2);
    const std::vector<double> c = random_values(static_cast<size_t>(m * cs.n_out), rng);
    const double scale = 2.5;
    auto lora = [&] { return grad::LoraRef<double>{a.data(), b.data(), rank, scale}; };
    auto f = [&] {
      std::vector<double> y(static_cast<size_t>(m * cs.n_out)), t(static_cast<size_t>(m * rank));
      grad::projection_forward(w.view, lora(), x.data(), m, y.data(), t.data(), &pool);
      return dot(c, y);
    };
    std::vector<double> y(static_cast<size_t>(m * cs.n_out)), t(static_cast<size_t>(m * rank));
    grad::projection_forward(w.view, lora(), x.data(), m, y.data(), t.data(), &pool);
    std::vector<double> dx(x.size(), 0.0), da(a.size(), 0.0), db(b.size(), 0.0);
    grad::projection_backward(w.view, lora(), x.data(), t.data(), c.data(), m, dx.data(),
                              grad::LoraGrad<double>{da.data(), db.data()}, &pool);
    const double err = std::max({max_relative_error(x, f, dx), max_relative_error(a, f, da), max_relative_error(b, f, db)});
    report(std::string("LoRA projection (") + type_name(static_cast<uint32_t>(cs.type)) + ")", err);
    EXPECT_LT(err, kComponentTolerance);
  }
}

TEST(LookaheadGradComponents, AttentionWithCache) {
  for (int window : {0, 6}) {
    Rng rng(5);
    const grad::AttentionShape shape{4, 2, 8, window};
    const int n_cache = 10, m = 4, hd = shape.head_dim;
    // Cache positions with gaps, as after an eviction; the new rows continue after the last one.
    const std::vector<int32_t> cache_pos = {0, 1, 3, 4, 6, 7, 9, 10, 12, 13};
    const std::vector<int32_t> positions = {14, 15, 16, 17};
    std::vector<std::vector<float>> keys, values;
    std::vector<grad::CacheHead> cache;
    for (int g = 0; g < shape.n_head_kv; ++g) {
      keys.push_back(random_floats(static_cast<size_t>(n_cache * hd), rng));
      values.push_back(random_floats(static_cast<size_t>(n_cache * hd), rng));
    }
    for (int g = 0; g < shape.n_head_kv; ++g) cache.push_back({keys[g].data(), values[g].data(), cache_pos.data(), n_cache});
    std::vector<double> q = random_values(static_cast<size_t>(m * shape.n_head * hd), rng);
    std::vector<double> k = random_values(static_cast<size_t>(m * shape.n_head_kv * hd), rng);
    std::vector<double> v = random_values(static_cast<size_t>(m * shape.n_head_kv * hd), rng);
    const std::vector<double> c = random_values(q.size(), rng);
    const std::vector<double> w = random_values(static_cast<size_t>(shape.n_head * n_cache), rng);
    // L = Σ c ⊙ out + Σ_h,j w[h, j] · Σ_i A[i, h, j]: both ways the training loss reads attention.
    auto loss = [&](const grad::AttentionSaved<double>& saved, const std::vector<double>& out) {
      double l = dot(c, out);
      for (int i = 0; i < m; ++i) {
        for (int h = 0; h < shape.n_head; ++h) {
          const double* p = saved.row(i, h, shape.n_head);
          for (int j = 0; j < n_cache; ++j) l += w[static_cast<size_t>(h * n_cache + j)] * p[j];
        }
      }
      return l;
    };
    auto f = [&] {
      grad::AttentionSaved<double> saved;
      std::vector<double> out(q.size());
      grad::attention_forward(shape, cache, positions.data(), m, q.data(), k.data(), v.data(), out.data(), saved, nullptr);
      return loss(saved, out);
    };
    grad::AttentionSaved<double> saved;
    std::vector<double> out(q.size());
    grad::attention_forward(shape, cache, positions.data(), m, q.data(), k.data(), v.data(), out.data(), saved, nullptr);
    std::vector<double> dq(q.size(), 0.0), dk(k.size(), 0.0), dv(v.size(), 0.0);
    grad::attention_backward(shape, cache, m, q.data(), k.data(), v.data(), saved, c.data(), w.data(), dq.data(),
                             dk.data(), dv.data(), nullptr);
    const double err = std::max({max_relative_error(q, f, dq), max_relative_error(k, f, dk), max_relative_error(v, f, dv)});
    report(window ? "attention with cache (window 6)" : "attention with cache (global)", err);
    EXPECT_LT(err, kComponentTolerance);

    // Rows sum to 1, and the window hides what it should: row 3 (position 17) attends to 12 .. 17.
    for (int i = 0; i < m; ++i) {
      for (int h = 0; h < shape.n_head; ++h) {
        const double* p = saved.row(i, h, shape.n_head);
        double sum = 0.0;
        for (int j = 0; j < n_cache + m; ++j) sum += p[j];
        EXPECT_NEAR(sum, 1.0, 1e-12);
        for (int j = i + 1; j < m; ++j) EXPECT_EQ(p[n_cache + j], 0.0) << "row " << i << " sees a later row";
        if (window && i == 3) {
          for (int j = 0; j < n_cache; ++j) EXPECT_EQ(p[j] > 0.0, cache_pos[static_cast<size_t>(j)] >= 12) << j;
        }
      }
    }
  }
}

TEST(LookaheadGradComponents, KlLoss) {
  Rng rng(6);
  const int n_head = 4, n_kv = 2, n = 7;
  std::vector<double> s = random_values(static_cast<size_t>(n_head * n), rng, 0.01, 0.2);
  std::vector<float> g = random_floats(static_cast<size_t>(n_kv * n), rng, 0.0, 1.0);
  g[3] = 0.0f;  // a zero target entry contributes 0·log 0 = 0
  for (int h = 0; h < n_kv; ++h) {
    float sum = 0.0f;
    for (int j = 0; j < n; ++j) sum += g[static_cast<size_t>(h * n + j)];
    for (int j = 0; j < n; ++j) g[static_cast<size_t>(h * n + j)] /= sum;
  }
  const double weight = 0.3;
  auto f = [&] { return layer_kl(s.data(), g.data(), n_head, n_kv, n, weight, static_cast<double*>(nullptr)); };
  std::vector<double> ds(s.size(), 0.0);
  layer_kl(s.data(), g.data(), n_head, n_kv, n, weight, ds.data());
  const double err = max_relative_error(s, f, ds);
  report("KL loss", err);
  EXPECT_LT(err, kComponentTolerance);

  // KL(g ‖ ŝ) is zero when ŝ equals g, whatever the scale of s, up to the ε floor, which moves
  // each of the n·n_kv terms by about −ε.
  std::vector<double> same(static_cast<size_t>(n_head * n));
  for (int h = 0; h < n_head; ++h) {
    for (int j = 0; j < n; ++j) same[static_cast<size_t>(h * n + j)] = 0.4 * g[static_cast<size_t>((h / 2) * n + j)];
  }
  EXPECT_NEAR(layer_kl(same.data(), g.data(), n_head, n_kv, n, 1.0, static_cast<double*>(nullptr)), 0.0,
              2.0 * n * n_kv * kKlEpsilon);
}

// The whole loss of one example on a tiny model of each architecture.
struct LossCase {
  const char* arch;
  GgmlType type;
};

class LookaheadGradLoss : public ::testing::TestWithParam<LossCase> {};

// Prompt length and lookahead count: 14 prompt tokens exceed gemma3's 8-token window, and 10
// lookahead rows make the window hide the first lookahead rows from the last ones.
constexpr int kPrompt = 14;
constexpr int kLookahead = 10;

LookaheadConfig test_config() {
  LookaheadConfig c;
  c.n_lookahead = kLookahead;
  c.rank = 4;
  c.alpha = 8.0f;
  return c;
}

TEST_P(LookaheadGradLoss, MatchesFiniteDifferences) {
  const LossCase cs = GetParam();
  test::TinyModel tm = test::tiny_model(cs.arch, cs.type, "grad");
  const Model& model = *tm.model;
  const KVCache cache = test::prefill(model, test::prompt_tokens(kPrompt, model.hparams.n_vocab), /*exact=*/true);
  const LookaheadConfig config = test_config();
  const LookaheadAdapter adapter = random_adapter(model, config, 21);
  const ImportanceTarget target = random_target(cache, 31);
  const ParamLayout layout(model.hparams, config);
  const std::vector<float> flat = layout.pack(adapter);

  ThreadPool pool(2);
  LookaheadStep<double> step(model, layout, &pool);
  std::vector<double> params(flat.begin(), flat.end());
  std::vector<double> gradient(params.size(), 0.0);
  const double loss = step.run(params.data(), cache, target, gradient.data());
  EXPECT_GT(loss, 0.0);

  // Tensors that cannot reach the loss: everything after the attention probabilities of the last
  // evicted layer, whose values (and so its V) feed nothing the loss reads.
  const int last = target.layers.back();
  auto unreachable = [&](const ParamLayout::Tensor& t) {
    return t.layer > last || (t.layer == last && t.proj != Projection::Q && t.proj != Projection::K);
  };

  Rng rng(41);
  double worst = 0.0;
  std::map<std::string, double> worst_by_kind;
  for (const ParamLayout::Tensor& t : layout.tensors()) {
    // Derivative along a random unit direction inside this tensor.
    std::vector<double> u(t.size());
    double norm = 0.0;
    for (double& x : u) {
      x = rng.normal();
      norm += x * x;
    }
    for (double& x : u) x /= std::sqrt(norm);
    const double h = 1e-4;
    auto loss_at = [&](double step_size) {
      std::vector<double> p = params;
      for (size_t i = 0; i < u.size(); ++i) p[t.offset + i] += step_size * u[i];
      return step.run(p.data(), cache, target, nullptr);
    };
    const double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
    double analytic = 0.0;
    for (size_t i = 0; i < u.size(); ++i) analytic += gradient[t.offset + i] * u[i];
    if (unreachable(t)) {
      for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(gradient[t.offset + i], 0.0) << t.name;
      EXPECT_LT(std::abs(numeric), 1e-12) << t.name;
      continue;
    }
    const double err = std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), 1e-12});
    EXPECT_LT(err, kLossTolerance) << t.name << ": analytic " << analytic << ", numeric " << numeric;
    EXPECT_GT(std::abs(analytic), 1e-9) << t.name << " has a vanishing gradient; the check would prove nothing";
    worst = std::max(worst, err);
    const std::string kind = t.layer < 0 ? "embeddings" : std::string(projection_short_name(t.proj)) + (t.is_b ? ".B" : ".A");
    worst_by_kind[kind] = std::max(worst_by_kind[kind], err);
  }
  report(std::string("whole loss, ") + cs.arch + " " + type_name(static_cast<uint32_t>(cs.type)), worst);
  for (const auto& [kind, err] : worst_by_kind) report(std::string("  ") + cs.arch + " " + kind, err);
}

// The float path, used for training, against the double path on the same inputs. Float rounding
// of about 6e-8 per operation, compounded over a few hundred operations per gradient entry and by
// the softmax and normalizations, stays below 1e-4 of each tensor's gradient norm (measured: at
// most 2e-6). A formula difference between the two paths would show at 1e-2 or more.
TEST_P(LookaheadGradLoss, FloatPathMatchesDouble) {
  const LossCase cs = GetParam();
  test::TinyModel tm = test::tiny_model(cs.arch, cs.type, "gradf");
  const Model& model = *tm.model;
  const KVCache cache = test::prefill(model, test::prompt_tokens(kPrompt, model.hparams.n_vocab), true);
  const LookaheadConfig config = test_config();
  const LookaheadAdapter adapter = random_adapter(model, config, 22);
  const ImportanceTarget target = random_target(cache, 32);
  const ParamLayout layout(model.hparams, config);
  const std::vector<float> flat = layout.pack(adapter);

  ThreadPool pool(2);
  LookaheadStep<double> step_d(model, layout, &pool);
  LookaheadStep<float> step_f(model, layout, &pool);
  std::vector<double> params_d(flat.begin(), flat.end()), grad_d(flat.size(), 0.0);
  std::vector<float> grad_f(flat.size(), 0.0f);
  const double loss_d = step_d.run(params_d.data(), cache, target, grad_d.data());
  const double loss_f = step_f.run(flat.data(), cache, target, grad_f.data());
  EXPECT_NEAR(loss_f, loss_d, 1e-5 * std::abs(loss_d));
  double worst = 0.0;
  for (const ParamLayout::Tensor& t : layout.tensors()) {
    double diff = 0.0, ref = 0.0;
    for (size_t i = t.offset; i < t.offset + t.size(); ++i) {
      diff += (grad_f[i] - grad_d[i]) * (grad_f[i] - grad_d[i]);
      ref += grad_d[i] * grad_d[i];
    }
    if (ref == 0.0) {
      EXPECT_EQ(diff, 0.0) << t.name;
      continue;
    }
    const double err = std::sqrt(diff / ref);
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-4) << t.name;
  }
  report(std::string("float vs double gradient, ") + cs.arch, worst);
}

std::string loss_case_name(const ::testing::TestParamInfo<LossCase>& info) {
  return std::string(info.param.arch) + "_" + type_name(static_cast<uint32_t>(info.param.type));
}

// gemma3: sliding-window and global layers, four norms per block, QK-norm, GELU, embedding scale.
// llama: adjacent-pair RoPE, GQA 2. qwen2: q/k/v biases, GQA 4. qwen3: QK-norm, q width ≠ d_model.
// One quantized case exercises the dequantizing products on blocked rows.
INSTANTIATE_TEST_SUITE_P(LookaheadGrad, LookaheadGradLoss,
                         ::testing::Values(LossCase{"gemma3", GgmlType::F32}, LossCase{"llama", GgmlType::F32},
                                           LossCase{"qwen2", GgmlType::F32}, LossCase{"qwen3", GgmlType::F32},
                                           LossCase{"llama", GgmlType::Q8_0}),
                         loss_case_name);

}  // namespace
}  // namespace lkv
