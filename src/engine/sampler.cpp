#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace lkv {

int32_t argmax(const float* logits, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

Sampler::Sampler(SamplerOptions options) : options_(options), rng_(options.seed) {
  if (!(options_.temperature >= 0.0f)) fail("temperature {} is invalid: use 0 for greedy or a positive value", options_.temperature);
  if (options_.top_k < 0) fail("top-k {} is invalid: use 0 to disable or a positive count", options_.top_k);
  if (!(options_.top_p > 0.0f && options_.top_p <= 1.0f)) fail("top-p {} is invalid: use a value in (0, 1]", options_.top_p);
}

void Sampler::reset() { rng_.seed(options_.seed); }

int32_t Sampler::sample(const float* logits, int n_vocab) {
  if (options_.temperature == 0.0f) return argmax(logits, n_vocab);

  candidates_.resize(static_cast<size_t>(n_vocab));
  for (int i = 0; i < n_vocab; ++i) candidates_[static_cast<size_t>(i)] = {logits[i], i};
  size_t keep = candidates_.size();
  if (options_.top_k > 0 && static_cast<size_t>(options_.top_k) < keep) keep = static_cast<size_t>(options_.top_k);
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep), candidates_.end(), by_logit);
  candidates_.resize(keep);

  const float max_logit = candidates_[0].first;
  std::vector<double> probs(keep);
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp(static_cast<double>(candidates_[i].first - max_logit) / options_.temperature);
    sum += probs[i];
  }
  // Nucleus: the smallest prefix whose probability mass reaches top_p.
  double cumulative = 0.0;
  size_t nucleus = keep;
  for (size_t i = 0; i < keep; ++i) {
    cumulative += probs[i] / sum;
    if (cumulative >= options_.top_p) {
      nucleus = i + 1;
      break;
    }
  }
  std::discrete_distribution<size_t> pick(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(nucleus));
  return candidates_[pick(rng_)].second;
}

}  // namespace lkv
