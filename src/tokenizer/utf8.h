// UTF-8 helpers shared by the tokenizers.
//
// Encoding rejects malformed input up front (see decode_utf8) so the algorithms after it can step
// through text by sequence length without bounds surprises.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lkv {

// Length of the UTF-8 sequence that starts with `lead`, from the lead byte alone (1 for stray
// continuation bytes, so a caller stepping through validated text never stalls).
inline size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Byte offset of the first malformed sequence in `text`, or npos when the text is valid UTF-8.
// Malformed means: a stray continuation byte, a truncated sequence, an overlong encoding, a
// surrogate (U+D800..U+DFFF) or a value above U+10FFFF. NUL bytes are valid.
size_t find_invalid_utf8(std::string_view text);

// Throws lkv::Error naming the offset and byte of the first malformed sequence.
void check_utf8(std::string_view text);

// Decodes valid UTF-8 (call check_utf8 first) into code points and, when `starts` is given, the
// byte offset where each code point begins (plus a final entry equal to text.size()).
void decode_utf8(std::string_view text, std::vector<char32_t>& cps, std::vector<uint32_t>* starts);

}  // namespace lkv
