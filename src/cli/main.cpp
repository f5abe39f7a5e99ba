// Entry point of the `lookaheadkv` command: parses the subcommand, runs it, and turns any error
// into one message on stderr and exit code 1.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "util/error.h"
#include "util/log.h"

int main(int argc, char** argv) {
  CLI::App app{"lookaheadkv: LLM inference on CPU with KV cache eviction for long prompts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lookaheadkv 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "Log verbosity: trace, debug, info, warn, error, off")->capture_default_str();

  std::vector<std::pair<CLI::App*, lkv::cli::Runner>> commands;
  auto add = [&](const char* name, const char* help, lkv::cli::Runner (*make)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands.emplace_back(sub, make(*sub));
  };
  add("generate", "Prefill a prompt and generate a continuation", lkv::cli::add_generate);
  add("tokenize", "Print the token ids of a text", lkv::cli::add_tokenize);
  add("inspect", "Print a GGUF file's metadata and tensors", lkv::cli::add_inspect);
  add("bench-eviction", "Measure eviction cost, KV bytes and decode speed per policy and budget",
      lkv::cli::add_bench_eviction);
  add("train", "Train a LookaheadKV module on a prompt file", lkv::cli::add_train);
  add("adapter-info", "Print a LookaheadKV adapter's metadata and parameter count", lkv::cli::add_adapter_info);
  add("bench", "Measure prefill and decode speed at several prompt lengths", lkv::cli::add_bench);
  add("eval", "Score eviction policies and budgets on long-context tasks against the full cache", lkv::cli::add_eval);
  add("report", "Render Markdown tables and SVG plots from an eval results folder", lkv::cli::add_report);

  lkv::cli::set_command_line(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    lkv::set_log_level(log_level);
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) return run();
    }
  } catch (const lkv::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 1;
}
