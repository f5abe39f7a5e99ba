#include <gtest/gtest.h>

#include <cmath>

#include "engine/sampler.h"
#include "util/error.h"

namespace lkv {
namespace {

TEST(Sampler, GreedyPicksMaxWithLowestIdOnTies) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  Sampler sampler({0.0f, 40, 0.95f, 1});
  EXPECT_EQ(sampler.sample(logits.data(), 4), 1);
}

TEST(Sampler, TopKOneEqualsGreedy) {
  const std::vector<float> logits = {0.1f, 0.3f, 3.0f, 0.2f};
  Sampler sampler({1.5f, 1, 1.0f, 7});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sampler.sample(logits.data(), 4), 2);
}

TEST(Sampler, SameSeedSameSequence) {
  const std::vector<float> logits = {1.0f, 1.1f, 0.9f, 1.05f, 0.2f};
  Sampler a({1.0f, 0, 1.0f, 42}), b({1.0f, 0, 1.0f, 42});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(logits.data(), 5), b.sample(logits.data(), 5));
}

TEST(Sampler, TemperatureFollowsSoftmax) {
  // Two tokens with logits differing by ln 3 at temperature 1: about 75% / 25%.
  const std::vector<float> logits = {std::log(3.0f), 0.0f};
  Sampler sampler({1.0f, 0, 1.0f, 3});
  int first = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) first += sampler.sample(logits.data(), 2) == 0 ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(first) / n, 0.75, 0.03);
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  // Probabilities about 0.64, 0.24, 0.09, 0.03: top-p 0.6 keeps only the first token.
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  Sampler sampler({1.0f, 0, 0.6f, 5});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sampler.sample(logits.data(), 4), 0);
}

TEST(Sampler, InvalidOptionsAreRejected) {
  EXPECT_THROW(Sampler({-1.0f, 40, 0.9f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, -2, 0.9f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, 40, 0.0f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, 40, 1.5f, 0}), Error);
}

}  // namespace
}  // namespace lkv
