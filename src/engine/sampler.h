// Next-token selection from logits: greedy, or temperature with top-k and top-p, seeded.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace lkv {

struct SamplerOptions {
  float temperature = 0.0f;  // 0: greedy (argmax)
  int top_k = 40;            // 0: no top-k cut
  float top_p = 0.95f;       // 1: no nucleus cut
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  // Picks a token id from n_vocab logits. Greedy ties go to the lowest id.
  int32_t sample(const float* logits, int n_vocab);
  void reset();  // restarts the random stream from the seed

 private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* logits, int n);

}  // namespace lkv
