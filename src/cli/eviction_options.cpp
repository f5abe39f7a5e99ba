// The eviction flags shared by `generate` and `bench-eviction`.
#include "cli/commands.h"
#include "eviction/registry.h"

namespace lkv::cli {

void add_eviction_options(CLI::App& app, EvictionCliOptions& o) {
  app.add_option("--policy", o.policy,
                 "Eviction policy: full, streamingllm, h2o, snapkv, pyramidkv, laq, laq++, lookaheadkv")
      ->capture_default_str();
  o.budget_opt = app.add_option("--budget", o.budget, "Entries kept per KV head in each evicted layer, protected tokens included");
  o.ratio_opt = app.add_option("--ratio", o.ratio, "Kept fraction of the prompt's entries, in (0, 1]");
  o.budget_opt->excludes(o.ratio_opt);
  o.window_opt = app.add_option("--window", o.window,
                                "Observation window (snapkv, pyramidkv: 32), protected recent tokens (laq: 8; h2o: budget/2)");
  o.kernel_opt = app.add_option("--kernel", o.kernel, "Pooling kernel, odd (snapkv, pyramidkv, laq: 7)");
  o.pooling_opt = app.add_option("--pooling", o.pooling, "Pooling of scores along the prompt: max, avg or none");
  o.sinks_opt = app.add_option("--sinks", o.sinks, "Attention-sink tokens kept by streamingllm (4)");
  o.beta_opt = app.add_option("--beta", o.beta, "PyramidKV slope parameter β ≥ 1 (20)");
  o.draft_opt = app.add_option("--draft-length", o.draft_length, "LAQ draft tokens (8)");
  o.prompt_queries_opt = app.add_option("--prompt-queries", o.prompt_queries, "laq++: last prompt queries scored with the draft (8)");
  app.add_option("--adapter", o.adapter, "lookaheadkv: the trained module, a GGUF adapter file (adapters/*.gguf)");
  o.reduction_opt = app.add_option("--reduction", o.reduction, "GQA reduction of query-head scores per KV head: mean or max");
}

PolicyOptions EvictionCliOptions::to_options() const {
  PolicyOptions p = parse_policy_spec(policy);  // "NAME" or "NAME:KEY=VALUE..."; flags below take precedence
  if (budget_opt && budget_opt->count()) p.budget = budget;
  if (ratio_opt && ratio_opt->count()) p.ratio = ratio;
  if (window_opt && window_opt->count()) p.window = window;
  if (kernel_opt && kernel_opt->count()) p.kernel = kernel;
  if (pooling_opt && pooling_opt->count()) p.pooling = parse_pooling(pooling);
  if (sinks_opt && sinks_opt->count()) p.sinks = sinks;
  if (beta_opt && beta_opt->count()) p.beta = beta;
  if (draft_opt && draft_opt->count()) p.draft_length = draft_length;
  if (prompt_queries_opt && prompt_queries_opt->count()) p.prompt_queries = prompt_queries;
  if (reduction_opt && reduction_opt->count()) p.reduction = parse_reduction(reduction);
  p.adapter_path = adapter;
  return p;
}

}  // namespace lkv::cli
