#include "eviction/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <exception>
#include <string>

#include "eviction/factory.h"
#include "util/error.h"

namespace lkv {

namespace detail {

PolicyParams base_params(const PolicyOptions& options) {
  PolicyParams p;
  p.name = options.name;
  if (options.budget && options.ratio) {
    fail("both --budget {} and --ratio {} were given; use one of them", *options.budget, *options.ratio);
  }
  if (!options.budget && !options.ratio) {
    fail("policy {} needs a budget: give --budget N (entries kept per KV head) or --ratio R (kept fraction in (0, 1])",
         options.name);
  }
  if (options.budget && *options.budget <= 0) {
    fail("budget {} is invalid: give a positive number of entries to keep per KV head", *options.budget);
  }
  if (options.ratio && !(*options.ratio > 0.0 && *options.ratio <= 1.0)) {
    fail("ratio {} is outside (0, 1]: it is the fraction of the prompt's entries to keep", *options.ratio);
  }
  p.budget = options.budget;
  p.ratio = options.ratio;
  return p;
}

void reject_unused(const PolicyOptions& options, std::initializer_list<std::string_view> allowed) {
  auto check = [&](bool set, std::string_view key, const char* flag) {
    if (!set) return;
    for (std::string_view a : allowed) {
      if (a == key) return;
    }
    fail("option {} does not apply to policy {}; drop it (see `lookaheadkv generate --help` for which policy uses it)",
         flag, options.name);
  };
  check(options.window.has_value(), "window", "--window");
  check(options.kernel.has_value(), "kernel", "--kernel");
  check(options.pooling.has_value(), "pooling", "--pooling");
  check(options.sinks.has_value(), "sinks", "--sinks");
  check(options.beta.has_value(), "beta", "--beta");
  check(options.draft_length.has_value(), "draft_length", "--draft-length");
  check(options.prompt_queries.has_value(), "prompt_queries", "--prompt-queries");
  check(options.reduction.has_value(), "reduction", "--reduction");
  check(!options.adapter_path.empty() || options.adapter != nullptr, "adapter", "--adapter");
}

int int_option(const std::optional<int>& value, int fallback, int min_value, const char* flag) {
  if (!value) return fallback;
  if (*value < min_value) fail("{} {} is invalid: it must be at least {}", flag, *value, min_value);
  return *value;
}

int kernel_option(const std::optional<int>& value, int fallback) {
  const int k = int_option(value, fallback, 1, "--kernel");
  if (k % 2 == 0) fail("--kernel {} is even: use an odd pooling kernel so each entry sits at its centre", k);
  return k;
}

void check_protected_below_budget(const PolicyParams& params, int protected_tokens, const char* what, const char* flag) {
  if (params.budget && protected_tokens >= *params.budget) {
    fail("{} {} fills the whole budget {} of policy {}: lower {} or raise --budget", what, protected_tokens, *params.budget,
         params.name, flag);
  }
}

}  // namespace detail

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> names = {"full", "streamingllm", "h2o", "snapkv", "pyramidkv", "laq", "laq++",
                                                  "lookaheadkv"};
  return names;
}

std::shared_ptr<const EvictionPolicy> make_policy(const PolicyOptions& options) {
  const std::string& n = options.name;
  if (n == "full") return detail::make_full(options);
  if (n == "streamingllm") return detail::make_streamingllm(options);
  if (n == "h2o") return detail::make_h2o(options);
  if (n == "snapkv") return detail::make_snapkv(options);
  if (n == "pyramidkv") return detail::make_pyramidkv(options);
  if (n == "laq") return detail::make_laq(options, false);
  if (n == "laq++") return detail::make_laq(options, true);
  if (n == "lookaheadkv") return detail::make_lookaheadkv(options);
  fail("unknown eviction policy '{}'; valid policies: {}", n, fmt::join(policy_names(), ", "));
}

PolicyOptions parse_policy_spec(const std::string& spec) {
  PolicyOptions o;
  size_t at = spec.find(':');
  o.name = spec.substr(0, at);
  if (o.name.empty()) fail("policy '{}' has no name; write NAME or NAME:KEY=VALUE, e.g. snapkv:window=16", spec);
  auto to_int = [&](const std::string& key, const std::string& value) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size()) fail("policy '{}': {}={} is not an integer", spec, key, value);
    return v;
  };
  while (at != std::string::npos) {
    const size_t next = spec.find(':', at + 1);
    const std::string item = spec.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) fail("policy '{}': option '{}' is not KEY=VALUE", spec, item);
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "window") {
      o.window = to_int(key, value);
    } else if (key == "kernel") {
      o.kernel = to_int(key, value);
    } else if (key == "sinks") {
      o.sinks = to_int(key, value);
    } else if (key == "draft-length") {
      o.draft_length = to_int(key, value);
    } else if (key == "prompt-queries") {
      o.prompt_queries = to_int(key, value);
    } else if (key == "pooling") {
      o.pooling = parse_pooling(value);
    } else if (key == "reduction") {
      o.reduction = parse_reduction(value);
    } else if (key == "beta") {
      try {
        o.beta = std::stod(value);
      } catch (const std::exception&) {
        fail("policy '{}': beta={} is not a number", spec, value);
      }
    } else {
      fail("policy '{}': unknown option '{}'; use window, kernel, pooling, sinks, beta, draft-length, prompt-queries "
           "or reduction",
           spec, key);
    }
    at = next;
  }
  return o;
}

}  // namespace lkv
