// Shared vocabulary of the eviction subsystem: user options, resolved parameters, scores and the
// report of one eviction step.
//
// Goals: one place for the names the CLI, the JSON output and the tests share. Non-goals: any
// arithmetic (budget.h, scoring.h, select.h) or policy behaviour (policy.h and one file per policy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lkv {

struct LookaheadAdapter;

// 1-D pooling of the scores along the prompt (stride 1, same length, odd kernel centred on each
// entry). Max pads with −∞ and avg with zeros divided by the full kernel, as torch's max_pool1d and
// avg_pool1d (count_include_pad) do, so edge entries are not favoured.
enum class Pooling { Max, Avg, None };

// Reduction of the scores of the query heads that share one KV head to that KV head's score.
enum class Reduction { Mean, Max };

const char* pooling_name(Pooling p);
const char* reduction_name(Reduction r);
Pooling parse_pooling(const std::string& text);      // "max", "avg", "none"; throws lkv::Error otherwise
Reduction parse_reduction(const std::string& text);  // "mean", "max"; throws lkv::Error otherwise

// Policy request from a user (CLI flags, eval configurations). Unset fields take the policy's
// defaults, and make_policy() rejects fields a policy does not use.
struct PolicyOptions {
  std::string name = "full";
  std::optional<int> budget;           // entries kept per KV head in each evicted layer
  std::optional<double> ratio;         // kept fraction of the tokens in the cache, in (0, 1]
  std::optional<int> window;           // observation window / protected most recent tokens
  std::optional<int> kernel;           // pooling kernel (odd)
  std::optional<Pooling> pooling;
  std::optional<int> sinks;            // protected first tokens (StreamingLLM)
  std::optional<double> beta;          // PyramidKV slope parameter
  std::optional<int> draft_length;     // LAQ draft tokens
  std::optional<int> prompt_queries;   // LAQ: last prompt queries scored with the draft queries
  std::optional<Reduction> reduction;  // GQA reduction
  // lookaheadkv: the trained module, loaded and checked against the model by the caller
  // (load_policy_adapter in lookahead/policy.h reads adapter_path).
  std::string adapter_path;
  std::shared_ptr<const LookaheadAdapter> adapter;
};

// A policy's parameters after defaults and validation. Fields a policy does not use stay at their
// zero values and are left out of to_json-style reports (see EvictionPolicy::params_json).
struct PolicyParams {
  std::string name;
  std::optional<int> budget;
  std::optional<double> ratio;
  int window = 0;
  int kernel = 1;
  Pooling pooling = Pooling::None;
  int sinks = 0;
  double beta = 0.0;
  int draft_length = 0;
  int prompt_queries = 0;
  Reduction reduction = Reduction::Mean;
  std::string adapter;  // lookaheadkv: the adapter file's path, for reports
};

// Scores of the entries of each evicted layer, one row per query head: layer_scores[i] holds
// n_head × n_entries(layers[i]) values, row-major by head. Higher means more important.
struct HeadScores {
  std::vector<int> layers;                       // evicted layer indices, increasing
  std::vector<std::vector<float>> layer_scores;  // [layers.size()][n_head × n_entries]
};

// Kept entry indices per layer and KV head, as KVCache::compact takes them; an empty layer is
// left untouched.
using KeptIndices = std::vector<std::vector<std::vector<int32_t>>>;

// Wall-clock cost of one eviction step, in milliseconds. capture: attention statistics from what
// prefill captured (window-query attention recomputed over the cache, H2O accumulators merged).
// scoring: pooling and GQA reduction. draft: LAQ's compressed copy and draft decode.
struct EvictionTimings {
  double capture_ms = 0.0;
  double scoring_ms = 0.0;
  double selection_ms = 0.0;
  double compaction_ms = 0.0;
  double draft_ms = 0.0;
  double total_ms = 0.0;
};

struct EvictionReport {
  std::string policy = "full";
  bool applied = false;       // false: nothing was evicted (full, or every layer within budget)
  int budget = 0;             // resolved uniform budget (0 for full)
  int n_tokens = 0;           // tokens the cache had seen (positions 0 .. n_tokens − 1)
  std::vector<int> layers;    // evicted (global) layers
  std::vector<int> kept;      // entries per KV head after eviction, per evicted layer
  size_t kv_bytes_before = 0;
  size_t kv_bytes_after = 0;
  EvictionTimings timings;
  std::string note;           // why nothing was evicted, or which fallback applied
};

}  // namespace lkv
