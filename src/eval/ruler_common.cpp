// Random values and text assembly shared by the RULER-style task builders.
#include <fmt/format.h>

#include <algorithm>

#include "eval/ruler_tasks.h"
#include "eval/word_lists.h"

namespace lkv::eval {

uint64_t mix_seed(uint64_t a, uint64_t b) {
  Rng rng(a ^ (b * 0x9E3779B97F4A7C15ULL));
  rng.next();
  return rng.next() ^ b;
}

int64_t random_between(Rng& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
}

std::string random_number_text(Rng& rng) { return std::to_string(random_between(rng, 1000000, 9999999)); }

std::string random_uuid(Rng& rng) {
  uint64_t high = rng.next();
  uint64_t low = rng.next();
  high = (high & ~0xF000ULL) | 0x4000ULL;                       // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xFFFF, high & 0xFFFF, low >> 48,
                     low & 0xFFFFFFFFFFFFULL);
}

std::string random_word_key(Rng& rng) {
  const auto& adjectives = common_adjectives();
  const auto& nouns = common_nouns();
  return fmt::format("{}-{}", adjectives[rng.below(adjectives.size())], nouns[rng.below(nouns.size())]);
}

std::string join_with_inserts(const std::vector<std::string>& units, std::vector<Insert> inserts,
                              std::string_view separator) {
  std::stable_sort(inserts.begin(), inserts.end(),
                   [](const Insert& a, const Insert& b) { return a.position < b.position; });
  std::string out;
  size_t next_insert = 0;
  bool first = true;
  auto append = [&](const std::string& piece) {
    if (!first) out += separator;
    out += piece;
    first = false;
  };
  for (size_t i = 0; i <= units.size(); ++i) {
    while (next_insert < inserts.size() && inserts[next_insert].position <= i) {
      append(inserts[next_insert].text);
      ++next_insert;
    }
    if (i < units.size()) append(units[i]);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string join_as_list(const std::vector<std::string>& parts) {
  if (parts.size() <= 1) return join(parts, "");
  std::vector<std::string> head(parts.begin(), parts.end() - 1);
  return join(head, ", ") + " and " + parts.back();
}

}  // namespace lkv::eval
