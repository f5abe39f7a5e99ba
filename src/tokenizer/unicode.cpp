// Lookups over the generated category table and the UTF-8 validation used by every encode call.
#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace lkv {
namespace unicode {
namespace {

uint8_t search_flags(char32_t cp) {
  const CategoryRange* begin = kCategoryRanges;
  const CategoryRange* end = kCategoryRanges + kCategoryRangeCount;
  // First range whose last code point is >= cp; it contains cp only if it also starts at or before it.
  const CategoryRange* it = std::lower_bound(begin, end, cp, [](const CategoryRange& r, char32_t c) { return r.last < c; });
  return (it != end && it->first <= cp) ? it->flags : 0;
}

// ASCII dominates source text and code, so it skips the binary search.
const std::array<uint8_t, 128> kAscii = [] {
  std::array<uint8_t, 128> table{};
  for (char32_t c = 0; c < 128; ++c) table[c] = search_flags(c);
  return table;
}();

}  // namespace

uint8_t flags(char32_t cp) { return cp < 128 ? kAscii[cp] : search_flags(cp); }

}  // namespace unicode

size_t find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    char32_t cp, min;
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else {
      return i;  // continuation byte without a lead, or 0xF8..0xFF
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

void check_utf8(std::string_view text) {
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    fail("text is not valid UTF-8: malformed sequence at byte offset {} (byte 0x{:02X}); convert the "
         "input to UTF-8 before tokenizing",
         bad, static_cast<uint8_t>(text[bad]));
  }
}

void decode_utf8(std::string_view text, std::vector<char32_t>& cps, std::vector<uint32_t>* starts) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  cps.clear();
  if (starts) starts->clear();
  size_t i = 0;
  while (i < n) {
    const size_t len = std::min(utf8_sequence_length(s[i]), n - i);
    char32_t cp = len == 1 ? s[i] : (s[i] & (0x7F >> len));
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    cps.push_back(cp);
    if (starts) starts->push_back(static_cast<uint32_t>(i));
    i += len;
  }
  if (starts) starts->push_back(static_cast<uint32_t>(n));
}

}  // namespace lkv
