// `lookaheadkv bench-eviction`: the cost of every policy at several prompt lengths and budgets.
//
// Per prompt length the prompt is prefilled twice: once with no observer (the plain prefill every
// percentage refers to) and once with every policy's capture attached at the same time (window
// queries for snapkv/pyramidkv/laq, H2O's column sums), which shows what capture adds. Then for
// each budget and policy a copy of the prefilled cache is evicted (scorers do not depend on the
// budget, so one capture serves every budget) and `decode` greedy tokens are timed on it, next to
// the same decode on the full cache. Each eviction runs --repeat times on fresh copies and the
// median is reported with the spread (max − min). Results go to stdout as a Markdown table and to --out as JSON
// lines (one object per configuration). Non-goals: quality (that is `eval`).
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "eviction/registry.h"
#include "lookahead/policy.h"
#include "model/fanout_observer.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv::cli {

namespace {

struct BenchArgs {
  std::string model, file, out, adapter;
  std::vector<int> lengths = {2048, 8192};
  std::vector<int> budgets = {64, 128, 256, 512};
  std::vector<std::string> policies = {"streamingllm", "h2o", "snapkv", "pyramidkv", "laq", "laq++"};
  int decode = 32;
  int repeat = 3;
  int threads = 2;
  std::string cache_type = "f32";
};

// Greedy decode of n tokens from `logits` on `cache`; returns tokens per second.
double time_decode(Transformer& transformer, KVCache& cache, std::vector<float> logits, int n) {
  const int n_vocab = transformer.model().hparams.n_vocab;
  Timer t;
  for (int i = 0; i < n; ++i) {
    const int32_t token = argmax(logits.data(), n_vocab);
    transformer.forward(Batch::from_tokens({token}, cache.next_position()), cache, &logits);
  }
  return n * 1000.0 / std::max(t.elapsed_ms(), 1e-9);
}

std::vector<TokenId> make_prompt(const Tokenizer& tokenizer, const std::string& text, int length) {
  std::vector<TokenId> ids = tokenizer.encode(text, true, false);
  if (ids.size() < 16) fail("the benchmark text has only {} tokens; give a longer -f FILE", ids.size());
  const std::vector<TokenId> body(ids.begin() + (tokenizer.add_bos() ? 1 : 0), ids.end());
  while (static_cast<int>(ids.size()) < length) ids.insert(ids.end(), body.begin(), body.end());
  ids.resize(static_cast<size_t>(length));
  return ids;
}

int run_bench(const BenchArgs& args) {
  const KVCacheType cache_type = parse_kv_cache_type(args.cache_type);
  auto model = Model::load(args.model);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  const std::string text = read_prompt("", args.file);
  PolicyOptions adapter_options;  // lookaheadkv's module, loaded once for every configuration
  adapter_options.adapter_path = args.adapter;
  load_policy_adapter(adapter_options, *model);
  std::unique_ptr<std::ofstream> out;
  if (!args.out.empty()) {
    out = std::make_unique<std::ofstream>(args.out, std::ios::app);
    if (!*out) fail("cannot open --out file '{}' for appending", args.out);
  }

  std::printf("| model | prompt | policy | budget | eviction ms (median ± spread/2) | %% of prefill | "
              "capture/scoring/selection/compaction/draft ms | KV MiB before → after | decode tok/s pruned | decode tok/s full |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (int length : args.lengths) {
    SessionOptions so;
    so.n_threads = args.threads;
    so.cache_type = cache_type;
    so.n_ctx = std::max(length + args.decode + 64, model->hparams.n_ctx_train);
    Session session(*model, *tokenizer, so);
    const std::vector<TokenId> prompt = make_prompt(*tokenizer, text, length);

    // Plain prefill: the reference time, and the full-cache decode speed.
    double prefill_plain_ms = 0.0;
    std::vector<float> logits = session.prefill(prompt, &prefill_plain_ms);
    const size_t kv_full = session.cache().bytes();
    // Median of --repeat runs (the first one also warms the caches up).
    std::vector<double> full_tps;
    for (int rep = 0; rep < std::max(1, args.repeat); ++rep) {
      KVCache copy = session.cache();
      full_tps.push_back(time_decode(session.transformer(), copy, logits, args.decode));
    }
    std::sort(full_tps.begin(), full_tps.end());
    const double full_decode_tps = full_tps[full_tps.size() / 2];

    // Capture prefill: every policy's observer at once; scorers are shared across budgets.
    session.reset();
    std::vector<std::shared_ptr<const EvictionPolicy>> first_policies;
    std::vector<std::unique_ptr<Scorer>> scorers;
    FanoutObserver fanout;
    const std::vector<int> layers = EvictionPolicy::evicted_layers(session.cache());
    for (const std::string& name : args.policies) {
      PolicyOptions po;
      po.name = name;
      po.budget = args.budgets.front();
      if (name == "lookaheadkv") po.adapter = adapter_options.adapter;
      first_policies.push_back(make_policy(po));
      scorers.push_back(first_policies.back()->make_scorer());
      if (scorers.back()) fanout.add(scorers.back()->prefill_observer(session.transformer(), layers, 0, length));
    }
    double prefill_capture_ms = 0.0;
    logits = session.prefill(prompt, &prefill_capture_ms, &fanout);
    spdlog::info("{} tokens: prefill {:.0f} ms plain, {:.0f} ms with every policy's capture attached", length,
                 prefill_plain_ms, prefill_capture_ms);
    if (out) {
      nlohmann::json j = {{"model", args.model},       {"prompt_tokens", length}, {"policy", "full"},
                          {"prefill_ms", prefill_plain_ms}, {"prefill_with_capture_ms", prefill_capture_ms},
                          {"kv_bytes", kv_full},      {"decode_tokens_per_second", full_decode_tps},
                          {"threads", args.threads},  {"cache_type", args.cache_type}};
      *out << j.dump() << "\n";
    }

    for (int budget : args.budgets) {
      for (size_t pi = 0; pi < args.policies.size(); ++pi) {
        PolicyOptions po;
        po.name = args.policies[pi];
        po.budget = budget;
        if (po.name == "lookaheadkv") po.adapter = adapter_options.adapter;
        std::shared_ptr<const EvictionPolicy> policy;
        try {
          policy = make_policy(po);
        } catch (const Error& e) {
          spdlog::warn("skipping {} at budget {}: {}", po.name, budget, e.what());
          continue;
        }
        // Repeated evictions on fresh copies; the run with the median total is reported.
        std::vector<EvictionReport> runs;
        std::unique_ptr<KVCache> cache;
        for (int rep = 0; rep < std::max(1, args.repeat); ++rep) {
          cache = std::make_unique<KVCache>(session.cache());
          ScoreContext ctx{session.transformer(), *cache, layers, 0, length, &logits, budget, nullptr};
          runs.push_back(policy->evict(scorers[pi].get(), ctx));
        }
        std::vector<size_t> order(runs.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return runs[a].timings.total_ms < runs[b].timings.total_ms; });
        const EvictionReport& r = runs[order[order.size() / 2]];
        const double spread = runs[order.back()].timings.total_ms - runs[order.front()].timings.total_ms;
        const double tps = time_decode(session.transformer(), *cache, logits, args.decode);
        const EvictionTimings& t = r.timings;
        std::printf("| %s | %d | %s | %d | %.1f ± %.1f | %.2f%% | %.1f/%.1f/%.1f/%.1f/%.1f | %.1f → %.2f | %.1f | %.1f |\n",
                    model->hparams.arch.c_str(), length, po.name.c_str(), budget, t.total_ms, spread / 2,
                    100.0 * t.total_ms / prefill_plain_ms, t.capture_ms, t.scoring_ms, t.selection_ms, t.compaction_ms,
                    t.draft_ms, r.kv_bytes_before / 1048576.0, r.kv_bytes_after / 1048576.0, tps, full_decode_tps);
        std::fflush(stdout);
        if (out) {
          nlohmann::json j = {{"model", args.model},
                              {"prompt_tokens", length},
                              {"policy", policy->params_json()},
                              {"eviction_ms", t.total_ms},
                              {"eviction_ms_spread", spread},
                              {"repeat", runs.size()},
                              {"eviction_percent_of_prefill", 100.0 * t.total_ms / prefill_plain_ms},
                              {"detail_ms",
                               {{"capture", t.capture_ms},
                                {"scoring", t.scoring_ms},
                                {"selection", t.selection_ms},
                                {"compaction", t.compaction_ms},
                                {"draft", t.draft_ms}}},
                              {"prefill_ms", prefill_plain_ms},
                              {"kv_bytes_before", r.kv_bytes_before},
                              {"kv_bytes_after", r.kv_bytes_after},
                              {"kept_per_evicted_layer", r.kept},
                              {"decode_tokens_per_second", tps},
                              {"decode_tokens_per_second_full", full_decode_tps},
                              {"threads", args.threads},
                              {"cache_type", args.cache_type}};
          *out << j.dump() << "\n";
          out->flush();
        }
      }
    }
  }
  return 0;
}

}  // namespace

Runner add_bench_eviction(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("-f,--file", args->file, "Text repeated and cut to each prompt length")->required();
  app.add_option("--lengths", args->lengths, "Prompt lengths in tokens")->delimiter(',')->capture_default_str();
  app.add_option("--budgets", args->budgets, "Budgets (entries per KV head)")->delimiter(',')->capture_default_str();
  app.add_option("--policies", args->policies, "Policies to measure")->delimiter(',')->capture_default_str();
  app.add_option("--repeat", args->repeat, "Evictions per configuration; the median is reported")
      ->capture_default_str();
  app.add_option("--decode", args->decode, "Greedy tokens decoded after eviction to time decode")->capture_default_str();
  app.add_option("-t,--threads", args->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--adapter", args->adapter, "LookaheadKV module (GGUF adapter) for the lookaheadkv policy");
  app.add_option("--out", args->out, "Append one JSON object per configuration to this file");
  app.add_option("--cache-type", args->cache_type, "KV cache element type: f32 or f16")->capture_default_str();
  return [args] { return run_bench(*args); };
}

}  // namespace lkv::cli
