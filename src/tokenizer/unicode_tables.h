// Unicode character classes used by the BPE pre-tokenizers: \p{L}, \p{N}, \p{P} and \s.
//
// The range table is generated (scripts/gen_unicode_tables.py) so the classes follow one named
// Unicode version instead of the C library's locale. Lookups are a 128-entry table for ASCII and a
// binary search over about a thousand ranges otherwise. Non-goals: case mapping, normalisation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lkv::unicode {

enum : uint8_t {
  kLetter = 1,       // general category L*
  kNumber = 2,       // general category N*
  kPunctuation = 4,  // general category P*
  kWhitespace = 8,   // White_Space property (what \s matches in the models' regexes)
};

struct CategoryRange {
  uint32_t first;
  uint32_t last;
  uint8_t flags;
};

extern const char* const kUnicodeVersion;
extern const CategoryRange kCategoryRanges[];
extern const size_t kCategoryRangeCount;

// Flags of one code point; 0 for unassigned code points and everything outside the four classes.
uint8_t flags(char32_t cp);

inline bool is_letter(char32_t cp) { return flags(cp) & kLetter; }
inline bool is_number(char32_t cp) { return flags(cp) & kNumber; }
inline bool is_whitespace(char32_t cp) { return flags(cp) & kWhitespace; }

}  // namespace lkv::unicode
