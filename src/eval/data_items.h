// The data items of `lookaheadkv eval --data`, loaded into samples.
//
// An item is a LongBench-format JSON Lines file, a RULER spec "ruler:TASK@LENGTH" (TASK "all"
// expands to every RULER task), "mtbench" (the questions scripts/fetch_mtbench.sh installs) or
// "mtbench:FILE".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/sample.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

struct DataSet {
  std::string name;           // results folder: "<task>@<length>", or "mt_bench"
  nlohmann::json source;      // what produced the samples, for config.json (no absolute paths)
  std::vector<EvalSample> samples;
  bool multi_turn = false;    // MT-Bench
  bool truncate = false;      // contexts may be cut to fit (files); generated RULER prompts must fit
  int nominal_length = 0;     // prompt tokens to expect, for the progress estimate
};

struct DataOptions {
  int samples = 10;           // per item; 0 for every sample of a file
  uint64_t seed = 0;          // RULER generation seed
  int n_ctx = 0;              // the session's context in tokens
  int max_new_tokens = 0;     // 0: each task's own limit
  BadLineAction on_bad_line = BadLineAction::Stop;
  std::string haystack_dir;   // "builtin" for the built-in prose
};

// Expands "ruler:all@LENGTH" into one item per RULER task; other items are returned unchanged.
std::vector<std::string> expand_data_items(const std::vector<std::string>& items);

// Loads one item. Throws lkv::Error for an invalid item, a missing file, bad data, or a RULER
// length that leaves no room for the task's generation limit within n_ctx.
DataSet load_data_item(const std::string& item, const Tokenizer& tokenizer, const DataOptions& options);

// FNV-1a (64-bit) of a file's bytes as 16 hex digits; identifies a data file's content in config.json.
std::string file_content_hash(const std::string& path);

}  // namespace lkv::eval
