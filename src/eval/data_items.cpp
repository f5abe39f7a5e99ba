#include "eval/data_items.h"

#include <spdlog/spdlog.h>

#include <fstream>

#include "eval/haystack.h"
#include "eval/mtbench.h"
#include "eval/ruler.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv::eval {
namespace {

constexpr std::string_view kRulerPrefix = "ruler:";
constexpr std::string_view kMtBenchItem = "mtbench";

// MT-Bench prompts are short; this only weighs its samples in the progress estimate.
constexpr int kMtBenchNominalLength = 1024;

void keep_first(std::vector<EvalSample>& samples, int n) {
  if (n > 0 && static_cast<size_t>(n) < samples.size()) samples.resize(static_cast<size_t>(n));
}

DataSet load_ruler(const std::string& item, const Tokenizer& tokenizer, const DataOptions& options) {
  const RulerSpec spec = parse_ruler_spec(item);
  if (options.samples <= 0) fail("{}: RULER tasks are generated, so give --samples N with N >= 1", item);
  if (spec.length >= options.n_ctx) {
    fail("{} asks for {}-token prompts but the context is {} tokens; use a shorter length or raise -c (up to the "
         "model's trained context)",
         item, spec.length, options.n_ctx);
  }
  HaystackSources sources;
  if (options.haystack_dir != "builtin") sources = haystack_sources_in(options.haystack_dir);

  Timer timer;
  DataSet set;
  set.samples = generate_ruler(spec, tokenizer, options.samples, options.seed, sources);
  spdlog::info("{}: generated {} samples in {:.1f} s", item, set.samples.size(), timer.elapsed_ms() / 1000.0);
  for (const EvalSample& s : set.samples) {
    const int max_new = options.max_new_tokens > 0 ? options.max_new_tokens : s.max_new_tokens;
    if (s.length + max_new > options.n_ctx) {
      fail("{}: sample {} has {} prompt tokens and may generate {} more, above the context of {} tokens; use a "
           "shorter length, lower --max-new-tokens or raise -c",
           item, s.id, s.length, max_new, options.n_ctx);
    }
  }
  set.name = fmt::format("{}@{}", spec.task, spec.length);
  set.source = {{"kind", "ruler"},
                {"task", spec.task},
                {"length", spec.length},
                {"seed", options.seed},
                {"haystack", options.haystack_dir == "builtin" ? "built-in prose" : "data/haystack texts"}};
  set.nominal_length = spec.length;
  return set;
}

DataSet load_mtbench_item(const std::string& item, const DataOptions& options) {
  const std::string path = item == kMtBenchItem ? kMtBenchDefaultPath : item.substr(kMtBenchItem.size() + 1);
  DataSet set;
  set.samples = load_mtbench(path, options.on_bad_line);
  keep_first(set.samples, options.samples);
  set.name = "mt_bench";
  set.source = {{"kind", "mt_bench"}, {"file", file_stem(path) + ".jsonl"}, {"content_fnv1a64", file_content_hash(path)}};
  set.multi_turn = true;
  set.nominal_length = kMtBenchNominalLength;
  return set;
}

DataSet load_jsonl(const std::string& path, const DataOptions& options) {
  DatasetLoad load = load_longbench_jsonl(path, options.on_bad_line);
  DataSet set;
  set.samples = std::move(load.samples);
  keep_first(set.samples, options.samples);
  set.name = fmt::format("{}@{}", file_stem(path), options.n_ctx);
  set.source = {{"kind", "longbench_jsonl"},
                {"file", file_stem(path)},
                {"content_fnv1a64", file_content_hash(path)},
                {"skipped_lines", load.n_skipped}};
  set.truncate = true;
  set.nominal_length = options.n_ctx;
  spdlog::info("{}: {} samples ({} lines, {} skipped)", path, set.samples.size(), load.n_lines, load.n_skipped);
  return set;
}

}  // namespace

std::vector<std::string> expand_data_items(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    const std::string all = std::string(kRulerPrefix) + "all@";
    if (item.rfind(all, 0) != 0) {
      out.push_back(item);
      continue;
    }
    const std::string length = item.substr(all.size());
    for (const std::string& task : ruler_task_names()) out.push_back(std::string(kRulerPrefix) + task + "@" + length);
  }
  return out;
}

DataSet load_data_item(const std::string& item, const Tokenizer& tokenizer, const DataOptions& options) {
  if (item.empty()) fail("empty --data item; give FILE.jsonl, ruler:TASK@LENGTH or mtbench[:FILE]");
  if (item.rfind(kRulerPrefix, 0) == 0) return load_ruler(item, tokenizer, options);
  if (item == kMtBenchItem || item.rfind(std::string(kMtBenchItem) + ":", 0) == 0) return load_mtbench_item(item, options);
  return load_jsonl(item, options);
}

std::string file_content_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("'{}' not found or unreadable", path);
  uint64_t hash = 0xCBF29CE484222325ULL;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof(buffer));
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash ^= static_cast<uint8_t>(buffer[i]);
      hash *= 0x100000001B3ULL;
    }
  }
  return fmt::format("{:016x}", hash);
}

}  // namespace lkv::eval
