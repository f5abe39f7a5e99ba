// Policy names, defaults and the errors for bad options.
#include <gtest/gtest.h>

#include "eviction/registry.h"
#include "util/error.h"

namespace lkv {
namespace {

std::string error_of(const PolicyOptions& o) {
  try {
    make_policy(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

PolicyOptions opts(const std::string& name, std::optional<int> budget = 128) {
  PolicyOptions o;
  o.name = name;
  o.budget = budget;
  return o;
}

TEST(PolicyRegistry, DefaultsPerPolicy) {
  for (const std::string& name : policy_names()) {
    if (name == "lookaheadkv") continue;  // needs a module: LookaheadPolicy tests below
    const auto p = make_policy(opts(name));
    EXPECT_EQ(p->name(), name);
    EXPECT_EQ(p->evicts(), name != "full");
  }
  const auto snap = make_policy(opts("snapkv"))->params_json();
  EXPECT_EQ(snap["window"], 32);
  EXPECT_EQ(snap["kernel"], 7);
  EXPECT_EQ(snap["pooling"], "max");
  EXPECT_EQ(snap["reduction"], "mean");
  EXPECT_EQ(snap["budget"], 128);
  EXPECT_EQ(make_policy(opts("pyramidkv"))->params_json()["beta"], 20.0);
  EXPECT_EQ(make_policy(opts("streamingllm"))->params_json()["sinks"], 4);
  const auto laq = make_policy(opts("laq++"))->params_json();
  EXPECT_EQ(laq["draft_length"], 8);
  EXPECT_EQ(laq["prompt_queries"], 8);
  EXPECT_EQ(laq["window"], 8);
  EXPECT_FALSE(make_policy(opts("laq"))->params_json().contains("prompt_queries"));
}

TEST(PolicyRegistry, BadOptionsRejected) {
  EXPECT_NE(error_of(opts("snapkv", 0)).find("budget 0 is invalid"), std::string::npos);
  EXPECT_NE(error_of(opts("h2o", -5)).find("budget -5"), std::string::npos);
  auto ratio = [](double r) {
    PolicyOptions o = opts("snapkv", std::nullopt);
    o.ratio = r;
    return error_of(o);
  };
  EXPECT_NE(ratio(0.0).find("ratio 0 is outside (0, 1]"), std::string::npos);
  EXPECT_NE(ratio(1.5).find("ratio 1.5"), std::string::npos);
  EXPECT_NE(ratio(-0.1).find("ratio -0.1"), std::string::npos);
  EXPECT_EQ(ratio(1.0), "");
  const std::string unknown = error_of(opts("snapkvv"));
  EXPECT_NE(unknown.find("'snapkvv'"), std::string::npos);
  EXPECT_NE(unknown.find("full, streamingllm, h2o, snapkv, pyramidkv, laq, laq++"), std::string::npos);
  EXPECT_NE(error_of(opts("snapkv", 32)).find("observation window 32 fills the whole budget 32"), std::string::npos);
  EXPECT_NE(error_of(opts("pyramidkv", 16)).find("--window"), std::string::npos);
  EXPECT_NE(error_of(opts("streamingllm", 4)).find("sink count 4"), std::string::npos);
  EXPECT_NE(error_of(opts("laq", 8)).find("--window"), std::string::npos);
  EXPECT_NE(error_of(opts("snapkv", std::nullopt)).find("needs a budget"), std::string::npos);
  PolicyOptions both = opts("snapkv");
  both.ratio = 0.5;
  EXPECT_NE(error_of(both).find("use one of them"), std::string::npos);
  PolicyOptions beta = opts("snapkv");
  beta.beta = 5;
  EXPECT_NE(error_of(beta).find("--beta does not apply to policy snapkv"), std::string::npos);
  PolicyOptions even = opts("snapkv");
  even.kernel = 6;
  EXPECT_NE(error_of(even).find("--kernel 6 is even"), std::string::npos);
  PolicyOptions small_beta = opts("pyramidkv");
  small_beta.beta = 0.5;
  EXPECT_NE(error_of(small_beta).find("--beta 0.5"), std::string::npos);
  PolicyOptions pq = opts("laq");
  pq.prompt_queries = 4;
  EXPECT_NE(error_of(pq).find("--prompt-queries does not apply to policy laq"), std::string::npos);
  EXPECT_THROW(parse_pooling("mean"), Error);
  EXPECT_THROW(parse_reduction("sum"), Error);
}

TEST(PolicyRegistry, FullAcceptsBudget) {
  const auto p = make_policy(opts("full", 64));
  EXPECT_FALSE(p->evicts());
  EXPECT_EQ(p->params_json()["budget"], 64);
  EXPECT_NE(error_of(opts("full", 0)).find("budget 0"), std::string::npos);
}

TEST(PolicyRegistry, SpecParsing) {
  const PolicyOptions plain = parse_policy_spec("snapkv");
  EXPECT_EQ(plain.name, "snapkv");
  EXPECT_FALSE(plain.window.has_value());
  const PolicyOptions o = parse_policy_spec("lookaheadkv:window=8:kernel=7:pooling=avg:reduction=max");
  EXPECT_EQ(o.name, "lookaheadkv");
  EXPECT_EQ(o.window, 8);
  EXPECT_EQ(o.kernel, 7);
  EXPECT_EQ(o.pooling, Pooling::Avg);
  EXPECT_EQ(o.reduction, Reduction::Max);
  EXPECT_EQ(parse_policy_spec("pyramidkv:beta=5").beta, 5.0);
  EXPECT_EQ(parse_policy_spec("laq++:draft-length=4:prompt-queries=2").draft_length, 4);
  auto message = [](const std::string& spec) {
    try {
      parse_policy_spec(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("snapkv:window").find("not KEY=VALUE"), std::string::npos);
  EXPECT_NE(message("snapkv:window=8x").find("not an integer"), std::string::npos);
  EXPECT_NE(message("snapkv:size=3").find("unknown option 'size'"), std::string::npos);
  EXPECT_NE(message(":window=3").find("has no name"), std::string::npos);
}

}  // namespace
}  // namespace lkv
