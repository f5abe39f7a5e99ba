// `lookaheadkv report`: Markdown tables and SVG plots over the results folder of `lookaheadkv eval`.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "eval/report.h"

namespace lkv::cli {

namespace {

struct ReportArgs {
  std::string dir, out;
};

int run_report(const ReportArgs& args) {
  const std::string out = args.out.empty() ? (std::filesystem::path(args.dir) / "report.md").string() : args.out;
  for (const std::string& path : eval::write_report(args.dir, out)) spdlog::info("wrote {}", path);
  return 0;
}

}  // namespace

Runner add_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  app.add_option("dir", args->dir, "Results folder written by lookaheadkv eval --out")->required();
  app.add_option("--out", args->out,
                 "Markdown file to write (default DIR/report.md); one SVG plot per model is written next to it");
  return [args] { return run_report(*args); };
}

}  // namespace lkv::cli
