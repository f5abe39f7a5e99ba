// The forward pass against llama.cpp on the real models: teacher-forced next-token logits and
// greedy continuations (golden files from scripts/golden/make_logits_golden.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/sampler.h"
#include "model/transformer.h"
#include "model_test_util.h"

namespace lkv {
namespace {

struct GoldenCase {
  const char* model;
  const char* golden;
};

class ModelGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(ModelGolden, TeacherForcedLogitsMatchLlamaCpp) {
  LKV_REQUIRE_MODEL(model, GetParam().model);
  const nlohmann::json golden = test::read_json(GetParam().golden);
  const auto& tf = golden["teacher_forced"];
  const std::vector<int32_t> ids = tf["ids"].get<std::vector<int32_t>>();
  const std::vector<int32_t> fixed_ids = tf["fixed_ids"].get<std::vector<int32_t>>();

  Transformer transformer(*model, 2);
  KVCache cache = transformer.make_cache();
  std::vector<float> logits;
  transformer.forward(Batch::from_tokens(ids, 0, /*all_logits=*/true), cache, &logits);
  const size_t n_vocab = static_cast<size_t>(model->hparams.n_vocab);

  int top1_agree = 0;
  double max_diff = 0.0, sum_diff = 0.0;
  size_t n_diff = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const float* row = logits.data() + i * n_vocab;
    const auto& pos = tf["positions"][i];
    if (argmax(row, static_cast<int>(n_vocab)) == pos["top_ids"][0].get<int32_t>()) ++top1_agree;
    for (size_t k = 0; k < pos["top_ids"].size(); ++k) {
      const double d = std::fabs(row[pos["top_ids"][k].get<size_t>()] - pos["top_logits"][k].get<double>());
      max_diff = std::max(max_diff, d);
      sum_diff += d;
      ++n_diff;
    }
    for (size_t k = 0; k < fixed_ids.size(); ++k) {
      const double d = std::fabs(row[static_cast<size_t>(fixed_ids[k])] - pos["fixed_logits"][k].get<double>());
      max_diff = std::max(max_diff, d);
      sum_diff += d;
      ++n_diff;
    }
  }
  const double agreement = static_cast<double>(top1_agree) / static_cast<double>(ids.size());
  // These small quantized models amplify rounding: llama.cpp disagrees with itself on about 5% of
  // top-1 tokens, with logit differences up to 2.7-4.4, when only its attention kernel changes
  // (flash attention on vs off). That measured noise floor, stored with the golden file, sets
  // the bar; exact math is checked separately against a float64 reference (ModelExact).
  const auto& self = golden["llama_cpp_self_agreement"];
  const double self_agreement = self["top1_agreement"].get<double>();
  const double self_max_diff = self["max_abs_logit_diff"].get<double>();
  std::printf("%s: top-1 agreement with llama.cpp %d/%zu (%.2f%%), max |logit diff| %.4f, mean %.5f over %zu logits; "
              "llama.cpp flash attention on vs off: %.2f%%, max %.4f\n",
              GetParam().model, top1_agree, ids.size(), 100.0 * agreement, max_diff, sum_diff / n_diff, n_diff,
              100.0 * self_agreement, self_max_diff);
  EXPECT_GE(agreement, self_agreement - 0.03);
  EXPECT_LT(max_diff, 1.5 * self_max_diff);
}

TEST_P(ModelGolden, GreedyContinuationsMatchLlamaCpp) {
  LKV_REQUIRE_MODEL(model, GetParam().model);
  const nlohmann::json golden = test::read_json(GetParam().golden);
  Transformer transformer(*model, 2);
  const int n_vocab = model->hparams.n_vocab;
  int identical = 0;
  for (const auto& run : golden["greedy"]) {
    const std::vector<int32_t> prompt = run["prompt_ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> expected = run["generated"].get<std::vector<int32_t>>();
    const std::vector<double> margins = run["margins"].get<std::vector<double>>();
    KVCache cache = transformer.make_cache();
    std::vector<float> logits;
    transformer.forward(Batch::from_tokens(prompt, 0), cache, &logits);
    size_t step = 0;
    for (; step < expected.size(); ++step) {
      const int32_t next = argmax(logits.data(), n_vocab);
      if (next != expected[step]) break;
      transformer.forward(Batch::from_tokens({next}, cache.next_position()), cache, &logits);
    }
    if (step == expected.size()) {
      ++identical;
      continue;
    }
    // A divergence is accepted only where llama.cpp's own top-2 margin is within the rounding
    // noise measured above (mean per-row max logit difference 0.6-0.9 between llama.cpp's own
    // attention kernels); 0.5 keeps the bar below that.
    std::printf("%s: prompt %s diverges at step %zu where llama.cpp's top-2 margin is %.4f\n", GetParam().model,
                run["prompt"].dump().c_str(), step, margins[step]);
    EXPECT_LT(margins[step], 0.5) << "divergence at step " << step << " is not explained by a near tie";
  }
  std::printf("%s: %d of %zu greedy continuations identical to llama.cpp over 64 tokens\n", GetParam().model, identical,
              golden["greedy"].size());
}

INSTANTIATE_TEST_SUITE_P(RealModels, ModelGolden,
                         ::testing::Values(GoldenCase{"models/gemma-3-270m-q4_k_m.gguf", "tests/golden/logits_gemma3.json"},
                                           GoldenCase{"models/SmolLM2-135M-Instruct.Q4_1.gguf",
                                                      "tests/golden/logits_smollm2.json"}),
                         [](const auto& info) { return info.index == 0 ? std::string("Gemma3") : std::string("SmolLM2"); });

}  // namespace
}  // namespace lkv
