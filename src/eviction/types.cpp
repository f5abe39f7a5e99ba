#include "eviction/types.h"

#include "util/error.h"

namespace lkv {

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Max: return "max";
    case Pooling::Avg: return "avg";
    case Pooling::None: return "none";
  }
  return "?";
}

const char* reduction_name(Reduction r) { return r == Reduction::Max ? "max" : "mean"; }

Pooling parse_pooling(const std::string& text) {
  if (text == "max") return Pooling::Max;
  if (text == "avg") return Pooling::Avg;
  if (text == "none") return Pooling::None;
  fail("pooling '{}' is unknown; use max, avg or none", text);
}

Reduction parse_reduction(const std::string& text) {
  if (text == "mean") return Reduction::Mean;
  if (text == "max") return Reduction::Max;
  fail("GQA reduction '{}' is unknown; use mean or max", text);
}

}  // namespace lkv
