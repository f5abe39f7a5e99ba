#include "eval/ruler_sizing.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace lkv::eval {

int count_prompt_tokens(const Tokenizer& tokenizer, const EvalSample& sample) {
  return static_cast<int>(tokenizer.encode(ruler_prompt(sample), /*add_special=*/true, /*parse_special=*/false).size());
}

SizedSample fit_to_length(const RulerTask& task, const TaskInput& input, const Tokenizer& tokenizer,
                          SizeEstimate& estimate) {
  const int target = input.length;
  const int slack = static_cast<int>(std::floor(target * kLengthTolerance));
  const int lowest_fit = target - slack;
  const double aim = target - slack / 2.0;
  // Every unit costs at least one token, so this many units never fit; it bounds the search.
  const int64_t min_units = task.min_units(target);
  const int64_t max_units = std::max<int64_t>(min_units + 1, 4LL * target);

  int tokenizations = 0;
  auto measure = [&](int64_t units) {
    SizedSample sized;
    sized.built = task.build(input, units);
    sized.units = units;
    sized.tokens = count_prompt_tokens(tokenizer, sized.built.sample);
    ++tokenizations;
    return sized;
  };

  SizedSample smallest = measure(min_units);
  if (smallest.tokens > target) {
    fail("length {} is too short for RULER task {}: its prompt has {} tokens even with the smallest haystack", target,
         task.name, smallest.tokens);
  }

  // best: the largest size known to fit; over: the smallest size known not to.
  SizedSample best = smallest;
  int64_t over = max_units;
  int64_t guess = estimate.units;
  double slope = estimate.tokens_per_unit;
  if (guess <= min_units || slope <= 0.0) {
    // No history: probe a small haystack to learn the slope, then extrapolate.
    const int64_t probe_units = min_units + 64;
    SizedSample probe = measure(probe_units);
    slope = std::max(1e-3, static_cast<double>(probe.tokens - smallest.tokens) / (probe_units - min_units));
    if (probe.tokens <= target) {
      best = std::move(probe);
    } else {
      over = probe_units;
    }
    guess = min_units + static_cast<int64_t>((aim - smallest.tokens) / slope);
  }

  while (best.tokens < lowest_fit && over - best.units > 1) {
    int64_t units = guess;
    if (units <= best.units || units >= over) units = best.units + (over - best.units) / 2;
    SizedSample sized = measure(units);
    spdlog::debug("ruler {}: {} units give {} tokens (target {})", task.name, units, sized.tokens, target);
    if (sized.units > min_units) {
      slope = std::max(1e-3, static_cast<double>(sized.tokens - smallest.tokens) / (sized.units - min_units));
    }
    guess = units + static_cast<int64_t>(std::llround((aim - sized.tokens) / slope));
    if (sized.tokens <= target) {
      best = std::move(sized);
    } else {
      over = units;
    }
  }

  estimate.units = best.units;
  estimate.tokens_per_unit = slope;
  best.tokenizations = tokenizations;
  return best;
}

}  // namespace lkv::eval
