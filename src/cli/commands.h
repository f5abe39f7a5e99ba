// Subcommands of the `lookaheadkv` command line tool. Each registers its options on the app and
// returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "eviction/types.h"

namespace lkv::cli {

using Runner = std::function<int()>;

Runner add_generate(CLI::App& app);
Runner add_tokenize(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_bench_eviction(CLI::App& app);
Runner add_train(CLI::App& app);
Runner add_adapter_info(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_report(CLI::App& app);

// Values of the eviction flags; an option counts as given only when it was on the command line,
// so each policy's defaults apply otherwise.
struct EvictionCliOptions {
  std::string policy = "full";
  int budget = 0;
  double ratio = 0.0;
  int window = 0, kernel = 0, sinks = 0, draft_length = 0, prompt_queries = 0;
  double beta = 0.0;
  std::string pooling, reduction, adapter;
  CLI::Option *budget_opt = nullptr, *ratio_opt = nullptr, *window_opt = nullptr, *kernel_opt = nullptr,
              *pooling_opt = nullptr, *sinks_opt = nullptr, *beta_opt = nullptr, *draft_opt = nullptr,
              *prompt_queries_opt = nullptr, *reduction_opt = nullptr;

  PolicyOptions to_options() const;
};

// Registers --policy, --budget, --ratio and the policy parameters on a subcommand.
void add_eviction_options(CLI::App& app, EvictionCliOptions& options);
Runner add_bench(CLI::App& app);

// Reads the prompt from -p TEXT or -f FILE (exactly one); throws lkv::Error otherwise.
std::string read_prompt(const std::string& text, const std::string& file);

// The command line as typed (program name shortened to `lookaheadkv`), for training summaries.
void set_command_line(int argc, char** argv);
const std::string& command_line();

// Peak resident memory of this process in bytes (VmHWM), 0 if unknown.
size_t peak_rss_bytes();

}  // namespace lkv::cli
