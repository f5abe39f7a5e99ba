// `lookaheadkv eval`: a sweep of policies and budgets over data sets, one results folder per
// configuration (see eval/runner.h and docs/evaluation.md).
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/commands.h"
#include "eval/runner.h"
#include "eviction/registry.h"
#include "lookahead/policy.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv::cli {

namespace {

struct EvalArgs {
  eval::EvalOptions options;
  std::string on_bad_line = "stop";
};

int run_eval_command(EvalArgs& args) {
  eval::EvalOptions& o = args.options;
  o.on_bad_line = eval::parse_bad_line_action(args.on_bad_line);
  auto model = Model::load(o.model_path);
  auto tokenizer = Tokenizer::from_gguf(*model->file);

  std::shared_ptr<const LookaheadAdapter> adapter;
  if (!o.adapter_path.empty()) {
    PolicyOptions po;
    po.adapter_path = o.adapter_path;
    load_policy_adapter(po, *model);  // loaded once and shared by every lookaheadkv configuration
    adapter = po.adapter;
  }
  eval::run_eval(o, *model, *tokenizer, adapter);
  return 0;
}

}  // namespace

Runner add_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  eval::EvalOptions& o = args->options;
  o.policies = {"streamingllm", "h2o", "snapkv", "pyramidkv", "laq"};
  o.budgets = {64, 128, 256, 512};

  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("--data", o.data,
                 "Data sets, comma-separated: FILE.jsonl (LongBench format), ruler:TASK@LENGTH (TASK 'all' for every "
                 "RULER task, LENGTH in tokens, K suffix allowed), mtbench or mtbench:FILE")
      ->delimiter(',')
      ->required();
  app.add_option("--policies", o.policies,
                 "Eviction policies, each NAME or NAME:KEY=VALUE... (snapkv:window=16); the full cache always runs "
                 "as the reference")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--budgets", o.budgets, "Budgets: entries kept per KV head in each evicted layer")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--out", o.out_dir, "Results folder; one subfolder per model, data set and configuration")->required();

  app.add_option("--samples", o.samples, "Samples per data set (the first N of a file; 0: all of a file)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the generated RULER samples")->capture_default_str();
  app.add_option("--adapter", o.adapter_path, "LookaheadKV module (GGUF adapter) for the lookaheadkv policy");

  app.add_flag("--chat", o.chat, "Wrap prompts in the model's chat template (MT-Bench always uses it)");
  app.add_flag("--split-question", o.split_question,
               "Evict the context only and prefill the question after eviction (kvpress's default); by default the "
               "question is part of the evicted prompt");
  app.add_option("--max-new-tokens", o.max_new_tokens, "Generation limit for every task; 0 keeps each task's own")
      ->capture_default_str();
  app.add_option("--haystack", o.haystack_dir,
                 "Haystack texts for RULER tasks (scripts/fetch_haystacks.sh), or 'builtin' for the built-in prose")
      ->capture_default_str();

  app.add_option("-t,--threads", o.threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("-c,--ctx-size", o.n_ctx,
                 "Context size in tokens; 0 uses the model's trained context. Longer file prompts are cut in the middle")
      ->capture_default_str();
  app.add_option("--on-bad-line", args->on_bad_line, "What to do with a malformed data line: stop or skip")
      ->capture_default_str();
  return [args] { return run_eval_command(*args); };
}

}  // namespace lkv::cli
