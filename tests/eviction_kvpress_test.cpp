// Kept indices of our SnapKV, StreamingLLM and PyramidKV against kvpress on SmolLM2
// (tests/golden/kvpress_smollm2.json, made by scripts/golden/make_kvpress_golden.py).
//
// kvpress runs the model in float32 on dequantized weights; we run the quantized kernels with 8-bit
// activation quantization (as llama.cpp does), so attention scores differ slightly and entries
// whose pooled scores sit near the selection cut-off can swap. StreamingLLM uses no scores and
// must agree exactly. Measured (golden of this commit): SnapKV mean 0.991, lowest head 0.953;
// PyramidKV mean 0.998; StreamingLLM 1.000. The SnapKV thresholds (mean ≥ 0.95, every layer and
// KV head ≥ 0.85) leave room for those near-ties, while a real difference in the method (window
// queries, causal mask, pooling, GQA reduction, protected window) drops the mean far below them:
// the window plus randomly chosen entries would overlap about 0.45 at this budget. kvpress's
// PyramidKV spreads the budget with a different formula than ours (its top layer gets
// B/β, ours w + (B − w)/β), so layers keep different counts; there the overlap is
// |ours ∩ kvpress| / the smaller set, with the same mean threshold.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "eviction_model_util.h"

namespace lkv {
namespace {

struct Overlap {
  double mean = 0.0, min = 1.0;
};

TEST(EvictionKvpress, KeptSetsOverlapWithKvpress) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  const nlohmann::json golden = test::read_json("tests/golden/kvpress_smollm2.json");
  const std::vector<int32_t> ids = golden["ids"].get<std::vector<int32_t>>();
  const int n = static_cast<int>(ids.size());
  const int budget = golden["budget"].get<int>();

  struct Case {
    std::string name;
    PolicyOptions options;
  };
  std::vector<Case> cases;
  for (const auto& [name, entry] : golden["policies"].items()) {
    PolicyOptions o;
    o.name = name;
    o.budget = budget;
    const auto& p = entry["params"];
    if (p.contains("window")) o.window = p["window"].get<int>();
    if (p.contains("kernel")) o.kernel = p["kernel"].get<int>();
    if (p.contains("pooling")) o.pooling = parse_pooling(p["pooling"].get<std::string>());
    if (p.contains("sinks")) o.sinks = p["sinks"].get<int>();
    if (p.contains("beta")) o.beta = p["beta"].get<double>();
    cases.push_back({name, o});
  }
  ASSERT_EQ(cases.size(), 3u);

  Transformer tr(*model, 2);
  KVCache cache = tr.make_cache();
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);
  std::vector<std::shared_ptr<const EvictionPolicy>> policies;
  std::vector<std::unique_ptr<Scorer>> scorers;
  test::FanoutObserver fanout;
  for (const Case& c : cases) {
    policies.push_back(make_policy(c.options));
    scorers.push_back(policies.back()->make_scorer());
    if (scorers.back()) fanout.add(scorers.back()->prefill_observer(tr, layers, 0, n));
  }
  std::vector<float> logits;
  tr.forward(Batch::from_tokens(ids, 0), cache, &logits, &fanout);

  for (size_t ci = 0; ci < cases.size(); ++ci) {
    KVCache pruned = cache;
    ScoreContext ctx{tr, pruned, layers, 0, n, &logits, budget, nullptr};
    policies[ci]->evict(scorers[ci].get(), ctx);
    const auto& theirs = golden["policies"][cases[ci].name]["kept"];
    Overlap o;
    int count = 0;
    std::vector<double> per_layer;
    for (int l : layers) {
      double layer_sum = 0.0;
      for (int h = 0; h < model->hparams.n_head_kv; ++h) {
        const std::vector<int32_t> want = theirs[static_cast<size_t>(l)][static_cast<size_t>(h)].get<std::vector<int32_t>>();
        const std::set<int32_t> mine(pruned.positions(l, h), pruned.positions(l, h) + pruned.n_entries(l));
        int common = 0;
        for (int32_t j : want) common += static_cast<int>(mine.count(j));
        const double frac = static_cast<double>(common) / static_cast<double>(std::min(mine.size(), want.size()));
        o.mean += frac;
        o.min = std::min(o.min, frac);
        layer_sum += frac;
        ++count;
      }
      per_layer.push_back(layer_sum / model->hparams.n_head_kv);
    }
    o.mean /= count;
    std::printf("kvpress overlap %-12s (n=%d, budget %d): mean %.3f, min %.3f; per layer:", cases[ci].name.c_str(), n, budget,
                o.mean, o.min);
    for (double x : per_layer) std::printf(" %.2f", x);
    std::printf("\n");
    if (cases[ci].name == "streamingllm") {
      EXPECT_EQ(o.min, 1.0);
    } else if (cases[ci].name == "snapkv") {
      EXPECT_GE(o.mean, 0.95);
      EXPECT_GE(o.min, 0.85);
    } else {
      EXPECT_GE(o.mean, 0.95);
    }
  }
}

}  // namespace
}  // namespace lkv
