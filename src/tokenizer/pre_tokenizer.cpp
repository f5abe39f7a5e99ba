#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/unicode_tables.h"
#include "util/error.h"

namespace lkv {
namespace {

// A matcher returns the length of the match that starts at `pos` (0: no match), never reading at
// or past `end`: a piece is split on its own, so no pattern may look across its boundary.
using Matcher = size_t (*)(const char32_t* cps, size_t pos, size_t end);

bool is_space(char32_t c) { return unicode::is_whitespace(c); }
bool is_letter(char32_t c) { return unicode::is_letter(c); }
bool is_number(char32_t c) { return unicode::is_number(c); }
// [^\s\p{L}\p{N}]
bool is_other(char32_t c) { return (unicode::flags(c) & (unicode::kLetter | unicode::kNumber | unicode::kWhitespace)) == 0; }
bool is_cr_lf(char32_t c) { return c == '\r' || c == '\n'; }
char32_t ascii_lower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

size_t run_length(const char32_t* cps, size_t pos, size_t end, bool (*pred)(char32_t)) {
  size_t i = pos;
  while (i < end && pred(cps[i])) ++i;
  return i - pos;
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally with ASCII case folded (Llama 3 and Qwen2 wrap the group
// in (?i:...)).
size_t match_contraction(const char32_t* cps, size_t pos, size_t end, bool fold_case) {
  if (cps[pos] != '\'' || pos + 1 >= end) return 0;
  auto at = [&](size_t i) { return fold_case ? ascii_lower(cps[i]) : cps[i]; };
  const char32_t a = at(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const char32_t b = at(pos + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S): the whole whitespace run at the end of the piece. Before a non-space the run gives up
// its last character, which then leads the next word, so a single whitespace there fails.
size_t match_trailing_space(const char32_t* cps, size_t pos, size_t end) {
  const size_t k = run_length(cps, pos, end, is_space);
  if (k == 0) return 0;
  if (pos + k == end) return k;
  return k >= 2 ? k - 1 : 0;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t match_gpt2(const char32_t* cps, size_t pos, size_t end) {
  if (size_t n = match_contraction(cps, pos, end, false)) return n;
  const size_t lead = (cps[pos] == ' ' && pos + 1 < end) ? 1 : 0;
  for (auto pred : {is_letter, is_number, is_other}) {
    // The optional space is taken only when the class matches right after it. Otherwise the class
    // must match at pos itself, which a space never does.
    if (lead && pred(cps[pos + 1])) return 1 + run_length(cps, pos + 1, end, pred);
    if (pred(cps[pos])) return run_length(cps, pos, end, pred);
  }
  return match_trailing_space(cps, pos, end);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+   with D = max_digits.
template <size_t max_digits>
size_t match_llama3(const char32_t* cps, size_t pos, size_t end) {
  if (size_t n = match_contraction(cps, pos, end, true)) return n;
  const char32_t c = cps[pos];

  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (is_letter(c)) return run_length(cps, pos, end, is_letter);
  if (!is_cr_lf(c) && !is_number(c) && pos + 1 < end && is_letter(cps[pos + 1])) {
    return 1 + run_length(cps, pos + 1, end, is_letter);
  }

  // \p{N}{1,D}
  if (is_number(c)) {
    size_t n = 1;
    while (n < max_digits && pos + n < end && is_number(cps[pos + n])) ++n;
    return n;
  }

  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t start = pos;
  if (c == ' ' && pos + 1 < end && is_other(cps[pos + 1])) start = pos + 1;
  if (is_other(cps[start])) {
    size_t i = start + run_length(cps, start, end, is_other);
    i += run_length(cps, i, end, is_cr_lf);
    return i - pos;
  }

  const size_t k = run_length(cps, pos, end, is_space);
  if (k == 0) return 0;
  // \s*[\r\n]+: backtracking leaves the match ending at the run's last CR or LF.
  for (size_t j = pos + k; j > pos; --j) {
    if (is_cr_lf(cps[j - 1])) return j - pos;
  }
  // \s+(?!\S), then \s+ for a single space before a non-space.
  if (size_t n = match_trailing_space(cps, pos, end)) return n;
  return k;
}

size_t match_one_number(const char32_t* cps, size_t pos, size_t /*end*/) { return is_number(cps[pos]) ? 1 : 0; }

size_t match_number_run(const char32_t* cps, size_t pos, size_t end) { return run_length(cps, pos, end, is_number); }

// [\p{P}\$\+<=>\^~\|]+
size_t match_punctuation_run(const char32_t* cps, size_t pos, size_t end) {
  auto pred = [](char32_t c) {
    if (unicode::flags(c) & unicode::kPunctuation) return true;
    switch (c) {
      case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|': return true;
      default: return false;
    }
  };
  size_t i = pos;
  while (i < end && pred(cps[i])) ++i;
  return i - pos;
}

// [0-9][0-9][0-9]
size_t match_three_ascii_digits(const char32_t* cps, size_t pos, size_t end) {
  if (pos + 3 > end) return 0;
  for (size_t i = pos; i < pos + 3; ++i) {
    if (cps[i] < '0' || cps[i] > '9') return 0;
  }
  return 3;
}

// One regex pass over every current piece. As with a regex "find all", text between matches
// becomes a piece of its own, so the pieces always cover the input.
void split_pass(Matcher match, const char32_t* cps, const std::vector<uint32_t>& in, std::vector<uint32_t>& out) {
  out.clear();
  size_t begin = 0;
  for (const uint32_t end : in) {
    size_t gap_start = begin;
    size_t pos = begin;
    while (pos < end) {
      const size_t n = match(cps, pos, end);
      if (n == 0) {
        ++pos;
        continue;
      }
      if (gap_start < pos) out.push_back(static_cast<uint32_t>(pos));
      pos += n;
      out.push_back(static_cast<uint32_t>(pos));
      gap_start = pos;
    }
    if (gap_start < end) out.push_back(end);
    begin = end;
  }
}

}  // namespace

PreTokenizer pre_tokenizer_from_name(std::string_view name) {
  if (name == "default") return PreTokenizer::Default;
  if (name == "gpt-2") return PreTokenizer::Gpt2;
  if (name == "smollm") return PreTokenizer::Smollm;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizer::Llama3;
  if (name == "qwen2" || name == "deepseek-r1-qwen") return PreTokenizer::Qwen2;
  fail("unsupported tokenizer.ggml.pre '{}': supported pre-tokenizers are default, gpt-2, smollm, "
       "llama-bpe (llama3) and qwen2",
       name);
}

const char* pre_tokenizer_name(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::Default: return "default";
    case PreTokenizer::Gpt2: return "gpt-2";
    case PreTokenizer::Smollm: return "smollm";
    case PreTokenizer::Llama3: return "llama-bpe";
    case PreTokenizer::Qwen2: return "qwen2";
  }
  return "?";
}

void pre_tokenize(PreTokenizer kind, const char32_t* cps, size_t n, std::vector<uint32_t>& ends) {
  if (n == 0) return;
  std::vector<uint32_t> pieces{static_cast<uint32_t>(n)};
  std::vector<uint32_t> next;
  auto pass = [&](Matcher m) {
    split_pass(m, cps, pieces, next);
    pieces.swap(next);
  };
  switch (kind) {
    case PreTokenizer::Default:
      pass(match_punctuation_run);
      pass(match_gpt2);
      pass(match_number_run);
      pass(match_three_ascii_digits);
      break;
    case PreTokenizer::Gpt2:
      pass(match_gpt2);
      break;
    case PreTokenizer::Smollm:
      pass(match_one_number);
      pass(match_gpt2);
      break;
    case PreTokenizer::Llama3:
      pass(match_llama3<3>);
      break;
    case PreTokenizer::Qwen2:
      pass(match_llama3<1>);
      break;
  }
  ends.insert(ends.end(), pieces.begin(), pieces.end());
}

}  // namespace lkv
