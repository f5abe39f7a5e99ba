// Eviction on the real models: a pruned cache decodes exactly like the full cache with the evicted
// entries masked out; a budget at or above the prompt changes nothing; sessions reset fully;
// conversations continue on the pruned cache at the right positions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/sampler.h"
#include "engine/session.h"
#include "eviction_model_util.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv {
namespace {

std::vector<TokenId> prompt_tokens(const Tokenizer& tok, size_t n, size_t skip_chars = 0) {
  std::vector<TokenId> ids = tok.encode(test::opticks_text().substr(skip_chars), true, false);
  ids.resize(std::min(ids.size(), n));
  return ids;
}

void expect_masked_equivalence(const char* path) {
  const Model* model = test::real_model(path);
  if (!model) GTEST_SKIP() << path << " is absent; run scripts/fetch_models.sh";
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  const std::vector<TokenId> ids = prompt_tokens(*tokenizer, 300);
  const int n = static_cast<int>(ids.size());
  const int budget = 64;
  Transformer tr(*model, 2);
  KVCache cache = tr.make_cache();
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache);

  // One prefill feeds every policy's capture.
  std::vector<std::shared_ptr<const EvictionPolicy>> policies;
  std::vector<std::unique_ptr<Scorer>> scorers;
  test::FanoutObserver fanout;
  for (const std::string& name : policy_names()) {
    policies.push_back(test::policy_named(name, budget, model));
    scorers.push_back(policies.back()->make_scorer());
    if (scorers.back()) fanout.add(scorers.back()->prefill_observer(tr, layers, 0, n));
  }
  std::vector<float> logits;
  tr.forward(Batch::from_tokens(ids, 0), cache, &logits, &fanout);
  const int n_vocab = model->hparams.n_vocab;
  const int n_kv = model->hparams.n_head_kv;

  for (size_t pi = 0; pi < policies.size(); ++pi) {
    SCOPED_TRACE(policies[pi]->name());
    KVCache pruned = cache;
    ScoreContext ctx{tr, pruned, layers, 0, n, &logits, budget, nullptr};
    const EvictionReport report = policies[pi]->evict(scorers[pi].get(), ctx);
    EXPECT_EQ(report.applied, policies[pi]->evicts());
    KVCache full = cache;
    test::MaskObserver mask(model->hparams.n_layer, n_kv);
    for (int l : layers) {
      if (policies[pi]->evicts()) EXPECT_LT(pruned.n_entries(l), n);
      for (int g = 0; g < n_kv; ++g) {
        std::vector<uint8_t>& m = mask.mask(l, g);
        m.assign(static_cast<size_t>(n), 0);
        for (int i = 0; i < pruned.n_entries(l); ++i) m[static_cast<size_t>(pruned.positions(l, g)[i])] = 1;
      }
    }
    // Decode the same tokens on both; the logits must agree at every step.
    std::vector<float> lp = logits, lf = logits;
    double max_diff = 0.0;
    for (int step = 0; step < 4; ++step) {
      const int32_t token = argmax(lp.data(), n_vocab);
      tr.forward(Batch::from_tokens({token}, n + step), pruned, &lp);
      tr.forward(Batch::from_tokens({token}, n + step), full, &lf, &mask);
      for (int v = 0; v < n_vocab; ++v) max_diff = std::max(max_diff, static_cast<double>(std::fabs(lp[v] - lf[v])));
    }
    std::printf("%s %-12s kept %d of %d per KV head (first evicted layer): max |logit diff| pruned vs masked %.3g\n",
                model->hparams.arch.c_str(), policies[pi]->name().c_str(), report.kept.empty() ? n : report.kept[0], n,
                max_diff);
    EXPECT_LE(max_diff, 1e-5);
  }
}

TEST(EvictionModel, PrunedEqualsMaskedSmolLM2) { expect_masked_equivalence(test::kSmolPath); }
TEST(EvictionModel, PrunedEqualsMaskedGemma3) { expect_masked_equivalence(test::kGemmaPath); }

bool same_cache(const KVCache& a, const KVCache& b) {
  if (a.next_position() != b.next_position() || a.bytes() != b.bytes()) return false;
  const size_t hd = static_cast<size_t>(a.shape().head_dim);
  for (int l = 0; l < a.shape().n_layer; ++l) {
    if (a.n_entries(l) != b.n_entries(l)) return false;
    const size_t n = static_cast<size_t>(a.n_entries(l));
    for (int h = 0; h < a.shape().n_head_kv; ++h) {
      if (std::memcmp(a.keys(l, h), b.keys(l, h), n * hd * sizeof(float)) ||
          std::memcmp(a.values(l, h), b.values(l, h), n * hd * sizeof(float)) ||
          std::memcmp(a.positions(l, h), b.positions(l, h), n * sizeof(int32_t))) {
        return false;
      }
    }
  }
  return true;
}

TEST(EvictionModel, LargeBudgetEqualsFull) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  GenerateRequest request;
  request.prompt = prompt_tokens(*tokenizer, 90);
  request.n_predict = 6;
  Session reference(*model, *tokenizer, {});
  const GenerateResult full = reference.generate(request);
  Session session(*model, *tokenizer, {});
  int i = 0;
  for (const std::string& name : policy_names()) {
    {
      const int budget = i++ % 2 == 0 ? 90 : 1000;  // exactly the prompt length, or far above it
      request.policy = test::policy_named(name, budget, model);
      const GenerateResult r = session.generate(request);
      EXPECT_EQ(r.tokens, full.tokens) << name;
      EXPECT_FALSE(r.eviction.applied) << name;
      EXPECT_TRUE(same_cache(session.cache(), reference.cache())) << name << " budget " << budget;
    }
  }
}

TEST(EvictionModel, BackToBackEqualsFresh) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  GenerateRequest a, b;
  a.prompt = prompt_tokens(*tokenizer, 120);
  a.policy = test::policy_named("snapkv", 48);
  a.n_predict = 6;
  b.prompt = prompt_tokens(*tokenizer, 100, 3000);
  b.policy = test::policy_named("h2o", 40);
  b.n_predict = 6;
  b.sampling.temperature = 0.8f;
  b.sampling.seed = 7;
  Session shared(*model, *tokenizer, {});
  const GenerateResult ra = shared.generate(a);
  const GenerateResult rb = shared.generate(b);
  Session fresh_a(*model, *tokenizer, {}), fresh_b(*model, *tokenizer, {});
  const GenerateResult fa = fresh_a.generate(a);
  const GenerateResult fb = fresh_b.generate(b);
  EXPECT_EQ(ra.tokens, fa.tokens);
  EXPECT_EQ(rb.tokens, fb.tokens);
  EXPECT_EQ(rb.eviction.kept, fb.eviction.kept);
  EXPECT_TRUE(same_cache(shared.cache(), fresh_b.cache()));
}

TEST(EvictionModel, ConversationContinuesOnPrunedCache) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  Session session(*model, *tokenizer, {});
  GenerateRequest turn1;
  turn1.prompt = prompt_tokens(*tokenizer, 100);
  turn1.policy = test::policy_named("snapkv", 48);
  turn1.n_predict = 5;
  const GenerateResult r1 = session.generate(turn1);
  ASSERT_EQ(r1.tokens.size(), 5u);
  ASSERT_TRUE(r1.eviction.applied);
  EXPECT_EQ(session.cache().next_position(), 104);  // the 5th token is sampled but not yet fed

  GenerateRequest turn2;
  turn2.prompt = prompt_tokens(*tokenizer, 40, 5000);
  turn2.policy = test::policy_named("snapkv", 48);
  turn2.n_predict = 3;
  const GenerateResult r2 = session.continue_generate(turn2);
  EXPECT_EQ(r2.n_prompt, 41);  // the unfed token, then the new turn
  ASSERT_TRUE(r2.eviction.applied);
  EXPECT_EQ(r2.eviction.n_tokens, 145);
  const KVCache& c = session.cache();
  for (int l : EvictionPolicy::evicted_layers(c)) {
    EXPECT_EQ(c.n_entries(l), 48 + 2);  // budget, then two decoded tokens fed back
    for (int h = 0; h < c.shape().n_head_kv; ++h) {
      const int32_t* pos = c.positions(l, h);
      for (int i = 1; i < c.n_entries(l); ++i) ASSERT_LT(pos[i - 1], pos[i]);
      EXPECT_EQ(pos[48 - 32], 145 - 32);  // the observation window is the new turn's last 32 tokens
      EXPECT_EQ(pos[48], 145);            // decoding continued at the original numbering
    }
  }
  session.reset();
  EXPECT_THROW(session.continue_generate(turn2), Error);
}

TEST(EvictionModel, SplitModeEvictsOnlyContext) {
  LKV_REQUIRE_MODEL(model, test::kSmolPath);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  Session session(*model, *tokenizer, {});
  GenerateRequest request;
  request.prompt = prompt_tokens(*tokenizer, 120);
  request.question = tokenizer->encode("\n\nWhat is this about?", false, false);
  request.policy = test::policy_named("pyramidkv", 50);
  request.n_predict = 2;
  const GenerateResult r = session.generate(request);
  ASSERT_TRUE(r.eviction.applied);
  const int q = static_cast<int>(request.question.size());
  EXPECT_EQ(r.n_question, q);
  const std::vector<int> layers = EvictionPolicy::evicted_layers(session.cache());
  for (size_t li = 0; li < layers.size(); ++li) {
    EXPECT_EQ(session.cache().n_entries(layers[li]), r.eviction.kept[li] + q + 1);
  }
}

}  // namespace
}  // namespace lkv
