#include "eval/ruler.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "eval/haystack.h"
#include "eval/ruler_sizing.h"
#include "eval/ruler_tasks.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

const std::vector<RulerTask>& ruler_tasks() {
  static const std::vector<RulerTask> tasks = [] {
    std::vector<RulerTask> all = niah_tasks();
    all.push_back(variable_tracking_task());
    all.push_back(common_words_task());
    all.push_back(frequent_words_task());
    all.push_back(question_answering_task());
    return all;
  }();
  return tasks;
}

std::string valid_task_list() { return join(ruler_task_names(), ", "); }

const RulerTask& find_task(const std::string& name, const std::string& where) {
  for (const RulerTask& task : ruler_tasks()) {
    if (task.name == name) return task;
  }
  fail("unknown RULER task \"{}\"{}; valid tasks: {}", name, where, valid_task_list());
}

// `as_written` is the length as the user wrote it.
void check_length(int64_t length, std::string_view as_written, const std::string& where) {
  if (length <= 0) fail("invalid RULER length {}{}: expected a positive number of tokens", as_written, where);
  if (length > kMaxRulerLength) {
    fail("RULER length {}{} exceeds the maximum of {} tokens", as_written, where, kMaxRulerLength);
  }
}

// FNV-1a: a hash that is the same on every platform, unlike std::hash.
uint64_t stable_hash(std::string_view text) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

// Needle depths in percent for samples 0, 1, 2, ...: a golden-ratio sequence from a seeded start,
// so any number of samples covers the range evenly and sample i does not depend on n_samples.
int spread_depth_percent(uint64_t stream_seed, int index) {
  constexpr double kGoldenFraction = 0.6180339887498949;
  Rng rng(stream_seed);
  const double position = std::fmod(rng.uniform() + kGoldenFraction * index, 1.0);
  return std::min(100, static_cast<int>(position * 101.0));
}

std::string sample_id(const RulerSpec& spec, uint64_t seed, int index, const std::vector<int>& depths) {
  std::string id = fmt::format("{}-{}-s{}-{}", spec.task, spec.length, seed, index);
  if (!depths.empty()) {
    id += "-d";
    for (size_t i = 0; i < depths.size(); ++i) id += fmt::format("{}{}", i ? "." : "", depths[i]);
  }
  return id;
}

}  // namespace

const std::vector<std::string>& ruler_task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const RulerTask& task : ruler_tasks()) out.push_back(task.name);
    return out;
  }();
  return names;
}

RulerSpec parse_ruler_spec(const std::string& text) {
  const std::string usage = "expected ruler:TASK@LENGTH, for example ruler:niah_single_1@4K";
  constexpr std::string_view kPrefix = "ruler:";
  const size_t at = text.find('@');
  if (text.rfind(kPrefix, 0) != 0 || at == std::string::npos) fail("invalid RULER spec \"{}\": {}", text, usage);

  RulerSpec spec;
  spec.task = text.substr(kPrefix.size(), at - kPrefix.size());
  const std::string where = fmt::format(" in \"{}\"", text);
  if (spec.task.empty()) fail("invalid RULER spec \"{}\": the task name is missing; {}", text, usage);
  find_task(spec.task, where);

  std::string_view number = std::string_view(text).substr(at + 1);
  int64_t multiplier = 1;
  if (!number.empty() && (number.back() == 'K' || number.back() == 'k')) {
    multiplier = 1024;
    number.remove_suffix(1);
  }
  int64_t value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || error != std::errc() || end != number.data() + number.size()) {
    fail("invalid RULER length \"{}\"{}: expected a number of tokens such as 4096 or 4K", text.substr(at + 1), where);
  }
  // A value above the maximum fails without the multiplier, which keeps the product in range.
  const int64_t length = value > kMaxRulerLength ? value : value * multiplier;
  check_length(length, text.substr(at + 1), where);
  spec.length = static_cast<int>(length);
  return spec;
}

std::string ruler_prompt(const EvalSample& sample) {
  std::string prompt = sample.context + "\n" + sample.input;
  if (!sample.answer_prefix.empty()) prompt += " " + sample.answer_prefix;
  return prompt;
}

std::vector<EvalSample> generate_ruler(const RulerSpec& spec, const Tokenizer& tokenizer, int n_samples, uint64_t seed,
                                       const HaystackSources& sources) {
  const RulerTask& task = find_task(spec.task, "");
  check_length(spec.length, std::to_string(spec.length), fmt::format(" for task {}", spec.task));
  if (seed >= kTrainingSeedBase) {
    fail("seed {} is reserved for training data (seeds from {} on); use an evaluation seed below {}", seed,
         kTrainingSeedBase, kTrainingSeedBase);
  }
  if (n_samples < 0) fail("invalid number of RULER samples {}: expected 0 or more", n_samples);
  check_haystack_sources(sources);

  std::optional<Haystack> prose;
  if (task.uses_prose) prose = Haystack::load(sources);

  const uint64_t stream = mix_seed(mix_seed(seed, stable_hash(spec.task)), static_cast<uint64_t>(spec.length));
  SizeEstimate estimate;
  std::vector<EvalSample> samples;
  for (int i = 0; i < n_samples; ++i) {
    TaskInput input;
    input.prose = prose ? &*prose : nullptr;
    input.length = spec.length;
    input.seed = mix_seed(stream, static_cast<uint64_t>(i) + 1);
    input.depth_percent = spread_depth_percent(stream, i);
    SizedSample sized = fit_to_length(task, input, tokenizer, estimate);
    spdlog::debug("ruler {}@{} sample {}: {} tokens after {} tokenizations", spec.task, spec.length, i, sized.tokens,
                  sized.tokenizations);

    EvalSample sample = std::move(sized.built.sample);
    sample.id = sample_id(spec, seed, i, sized.built.depths_percent);
    sample.task = spec.task;
    sample.length = sized.tokens;
    sample.max_new_tokens = task.max_new_tokens;
    sample.metric = task.metric;
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace lkv::eval
