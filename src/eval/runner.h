// The evaluation sweep: every data set × every (policy, budget), with results folders per
// configuration (eval/results.h).
//
// Cost model, for a 2-core CPU: each sample's prompt is prefilled once, with the prefill observer of
// every policy in the sweep attached (one scorer per policy serves all its budgets). That full
// cache is kept; the full-cache answer is decoded from it once, and for every (policy, budget) a copy
// is evicted and decoded greedily. A budget at or above the prompt length evicts nothing, so that
// configuration reuses the full-cache answer without decoding again.
//
// Prompt modes: by default the question is part of the prompt that is prefilled before eviction
// (DESIGN's default, and what SnapKV's LongBench runs do). With split_question the context alone is
// prefilled and evicted and the question is prefilled afterwards, as kvpress does by default.
//
// MT-Bench runs its turns as one conversation per configuration: the first user turn is prefilled
// once and evicted per configuration, later turns are appended to that configuration's pruned
// cache and evicted again (Session::continue_generate).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "lookahead/adapter.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

struct EvalOptions {
  std::string model_path;          // names the results folder (its stem) and is recorded
  // Data items: FILE.jsonl (LongBench format), ruler:TASK@LENGTH (TASK "all" for every RULER
  // task), mtbench (kMtBenchDefaultPath) or mtbench:FILE.
  std::vector<std::string> data;
  // Policies as parse_policy_spec() reads them (NAME or NAME:KEY=VALUE...); the full cache always
  // runs as well.
  std::vector<std::string> policies;
  std::vector<int> budgets;
  std::string out_dir;
  int samples = 10;                // per data item; 0 takes every sample of a file (not for RULER)
  uint64_t seed = 0;               // RULER generation seed
  bool chat = false;               // wrap prompts in the model's chat template (MT-Bench always is)
  bool split_question = false;     // evict the context only, prefill the question after eviction
  int threads = 2;
  int n_ctx = 0;                   // context in tokens; 0: the model's trained context
  int max_new_tokens = 0;          // 0: each task's own limit
  BadLineAction on_bad_line = BadLineAction::Stop;
  // Haystack folder for RULER (the layout of scripts/fetch_haystacks.sh); "builtin" uses the
  // built-in prose.
  std::string haystack_dir = "data/haystack";
  // Shown in config.json for the lookaheadkv policy; the module itself is passed to run_eval().
  std::string adapter_path;
};

struct EvalSummary {
  std::vector<std::string> config_dirs;  // every configuration folder of the sweep
  int predictions_written = 0;           // (sample, configuration) pairs run now
  int predictions_reused = 0;            // already present from an earlier run
  int samples_prefilled = 0;
  double seconds = 0.0;
};

// Runs the sweep. `adapter` is required when the policies include lookaheadkv. Throws lkv::Error
// before any work for invalid options or data, a policy/budget pair the policy rejects, a RULER
// length that does not fit the context with its generation limit, and a results folder that contains
// another configuration.
EvalSummary run_eval(const EvalOptions& options, const Model& model, const Tokenizer& tokenizer,
                     std::shared_ptr<const LookaheadAdapter> adapter);

// Folder name of a configuration: "full" for the full cache, else "<policy>-b<budget>" with the
// colons of a policy spec replaced by underscores.
std::string config_folder_name(const std::string& policy, int budget);

}  // namespace lkv::eval
