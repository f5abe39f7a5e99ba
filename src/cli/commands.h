// Subcommands of the `lookaheadkv` command line tool. Each registers its options on the app and
// returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace lkv::cli {

using Runner = std::function<int()>;

Runner add_generate(CLI::App& app);
Runner add_tokenize(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_bench(CLI::App& app);

// Reads the prompt from -p TEXT or -f FILE (exactly one); throws lkv::Error otherwise.
std::string read_prompt(const std::string& text, const std::string& file);

// Peak resident memory of this process in bytes (VmHWM), 0 if unknown.
size_t peak_rss_bytes();

}  // namespace lkv::cli
