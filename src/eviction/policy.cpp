#include "eviction/policy.h"

#include <algorithm>

#include "eviction/scoring.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv {

Protection ProtectionRule::at(int layer_budget) const {
  Protection p;
  p.sinks = sinks;
  switch (recent_kind) {
    case Recent::Fixed: p.recent = recent; break;
    case Recent::HalfBudget: p.recent = layer_budget / 2; break;
    case Recent::RestOfBudget: p.recent = std::max(0, layer_budget - sinks); break;
  }
  return p;
}

EvictionPolicy::EvictionPolicy(PolicyParams params, ScorerFactory scorer, std::shared_ptr<const BudgetSchedule> schedule,
                               ProtectionRule protection, std::vector<std::string> used_options)
    : params_(std::move(params)), scorer_factory_(std::move(scorer)), schedule_(std::move(schedule)),
      protection_(protection), used_options_(std::move(used_options)) {}

nlohmann::json EvictionPolicy::params_json() const {
  nlohmann::json j;
  j["name"] = params_.name;
  if (params_.budget) j["budget"] = *params_.budget;
  if (params_.ratio) j["ratio"] = *params_.ratio;
  if (schedule_) j["schedule"] = schedule_->name();
  for (const std::string& o : used_options_) {
    if (o == "window") j["window"] = params_.window;
    else if (o == "kernel") j["kernel"] = params_.kernel;
    else if (o == "pooling") j["pooling"] = pooling_name(params_.pooling);
    else if (o == "sinks") j["sinks"] = params_.sinks;
    else if (o == "beta") j["beta"] = params_.beta;
    else if (o == "draft_length") j["draft_length"] = params_.draft_length;
    else if (o == "prompt_queries") j["prompt_queries"] = params_.prompt_queries;
    else if (o == "reduction") j["reduction"] = reduction_name(params_.reduction);
    else if (o == "adapter") j["adapter"] = params_.adapter;
  }
  return j;
}

std::unique_ptr<Scorer> EvictionPolicy::make_scorer() const { return scorer_factory_ ? scorer_factory_() : nullptr; }

std::vector<int> EvictionPolicy::evicted_layers(const KVCache& cache) {
  std::vector<int> layers;
  for (int il = 0; il < cache.shape().n_layer; ++il) {
    if (!cache.is_swa(il)) layers.push_back(il);
  }
  return layers;
}

int EvictionPolicy::budget_for(int n_tokens) const { return resolve_budget(params_.budget, params_.ratio, n_tokens); }

std::vector<int> EvictionPolicy::layer_budgets(const KVCache& cache, const std::vector<int>& layers, int budget) const {
  LKV_CHECK(schedule_ != nullptr);
  int min_entries = layers.empty() ? 0 : cache.n_entries(layers[0]);
  for (int l : layers) min_entries = std::min(min_entries, cache.n_entries(l));
  return schedule_->layer_budgets(budget, min_entries, static_cast<int>(layers.size()));
}

KeptIndices EvictionPolicy::select(const KVCache& cache, const std::vector<int>& layers, int budget,
                                   HeadScores* head_scores, EvictionTimings* timings) const {
  if (budget <= 0) fail("budget {} is invalid: give a positive number of entries per KV head", budget);
  const std::vector<int> budgets = layer_budgets(cache, layers, budget);
  const int n_kv = cache.shape().n_head_kv;
  KeptIndices kept(static_cast<size_t>(cache.shape().n_layer));
  std::vector<float> kv_scores;
  double scoring_ms = 0.0, selection_ms = 0.0;
  for (size_t li = 0; li < layers.size(); ++li) {
    const int layer = layers[li];
    const int n = cache.n_entries(layer);
    const int b = budgets[li];
    if (b >= n) continue;  // within budget: untouched
    Timer t;
    const Protection p = protection_.at(b);
    const float* scores_for_head = nullptr;
    if (head_scores) {
      LKV_CHECK(head_scores->layers.size() == layers.size() && head_scores->layers[li] == layer);
      std::vector<float>& hs = head_scores->layer_scores[li];
      LKV_CHECK(n > 0 && hs.size() % static_cast<size_t>(n) == 0);
      const int n_head = static_cast<int>(hs.size() / static_cast<size_t>(n));
      // Pool only over the entries selection may drop (the protected ones are kept anyway and
      // would otherwise lift their neighbours).
      const int sinks = std::min(p.sinks, b);
      const int recent = std::min(p.recent, b - sinks);
      for (int h = 0; h < n_head; ++h) {
        pool_scores(hs.data() + static_cast<size_t>(h) * n, sinks, n - recent, params_.pooling, params_.kernel);
      }
      kv_scores.resize(static_cast<size_t>(n_kv) * n);
      reduce_query_groups(hs.data(), n_head, n_kv, n, params_.reduction, kv_scores.data());
      scores_for_head = kv_scores.data();
    }
    scoring_ms += t.elapsed_ms();
    t.reset();
    auto& per_head = kept[static_cast<size_t>(layer)];
    per_head.resize(static_cast<size_t>(n_kv));
    for (int g = 0; g < n_kv; ++g) {
      per_head[static_cast<size_t>(g)] =
          select_entries(scores_for_head ? scores_for_head + static_cast<size_t>(g) * n : nullptr, n, b, p);
    }
    selection_ms += t.elapsed_ms();
  }
  if (timings) {
    timings->scoring_ms += scoring_ms;
    timings->selection_ms += selection_ms;
  }
  return kept;
}

EvictionReport EvictionPolicy::evict(Scorer* scorer, ScoreContext& ctx) const {
  Timer total;
  KVCache& cache = ctx.cache;
  EvictionReport r;
  r.policy = params_.name;
  r.n_tokens = cache.next_position();
  r.kv_bytes_before = cache.bytes();
  r.layers = ctx.layers;
  auto finish = [&] {
    for (int l : r.layers) r.kept.push_back(cache.n_entries(l));
    r.kv_bytes_after = cache.bytes();
    r.timings.total_ms = total.elapsed_ms();
    if (ctx.timings) *ctx.timings = r.timings;
    return r;
  };
  if (!evicts()) {
    r.note = "the full policy keeps every entry";
    return finish();
  }
  r.budget = ctx.budget;
  if (ctx.budget <= 0) fail("budget {} is invalid: give a positive number of entries per KV head", ctx.budget);
  const std::vector<int> budgets = layer_budgets(cache, ctx.layers, ctx.budget);
  bool any = false;
  for (size_t li = 0; li < ctx.layers.size(); ++li) any = any || budgets[li] < cache.n_entries(ctx.layers[li]);
  if (!any) {
    // Nothing to drop: skip scoring as well, so the cache and the output equal `full` exactly.
    r.note = fmt::format("every evicted layer holds at most its budget ({} entries); nothing evicted", ctx.budget);
    return finish();
  }
  if (auto* pyramid = dynamic_cast<const PyramidSchedule*>(schedule_.get())) {
    int min_entries = cache.n_entries(ctx.layers[0]);
    for (int l : ctx.layers) min_entries = std::min(min_entries, cache.n_entries(l));
    if (pyramid->falls_back(ctx.budget, min_entries, static_cast<int>(ctx.layers.size()))) {
      r.note = "prompt too short for a pyramid at this budget; uniform budgets used";
    }
  }

  HeadScores scores;
  HeadScores* scores_ptr = nullptr;
  if (scorer) {
    const int n_head = ctx.transformer.model().hparams.n_head;
    scores.layers = ctx.layers;
    for (int l : ctx.layers) scores.layer_scores.emplace_back(static_cast<size_t>(n_head) * cache.n_entries(l), 0.0f);
    EvictionTimings* saved = ctx.timings;
    ctx.timings = &r.timings;
    scorer->score(ctx, scores);
    ctx.timings = saved;
    scores_ptr = &scores;
  }
  const KeptIndices kept = select(cache, ctx.layers, ctx.budget, scores_ptr, &r.timings);
  Timer t;
  cache.compact(kept);
  r.timings.compaction_ms = t.elapsed_ms();
  r.applied = true;
  return finish();
}

}  // namespace lkv
