#include "eval/metrics.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "util/error.h"

namespace lkv::eval {
namespace {

char ascii_lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool is_ascii_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Bytes of multi-byte UTF-8 characters count as word characters, so non-ASCII words stay whole.
bool is_word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) != 0;
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    if (is_space(c)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

// Lowercase runs of word characters: the tokens ROUGE-L compares.
std::vector<std::string> rouge_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : text) {
    if (is_word_char(c)) {
      current += ascii_lower(c);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

// Length of the longest common subsequence, with two rows of the dynamic programme.
template <typename Seq>
size_t lcs_length(const Seq& a, const Seq& b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], current[j - 1]);
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

double token_f1(const std::vector<std::string>& prediction, const std::vector<std::string>& gold) {
  if (prediction.empty() || gold.empty()) return 0.0;
  std::map<std::string, int> gold_counts;
  for (const std::string& w : gold) ++gold_counts[w];
  int common = 0;
  for (const std::string& w : prediction) {
    auto it = gold_counts.find(w);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / static_cast<double>(prediction.size());
  const double recall = static_cast<double>(common) / static_cast<double>(gold.size());
  return 2.0 * precision * recall / (precision + recall);
}

// Decimal numbers (runs of ASCII digits) in order of appearance.
std::vector<std::string> numbers_in(std::string_view text) {
  std::vector<std::string> numbers;
  std::string current;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      current += c;
    } else if (!current.empty()) {
      numbers.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) numbers.push_back(std::move(current));
  // "007" and "7" name the same paragraph or count.
  for (std::string& n : numbers) {
    const size_t first = n.find_first_not_of('0');
    n = first == std::string::npos ? "0" : n.substr(first);
  }
  return numbers;
}

double share_of_numbers_equal(std::string_view prediction, const std::string& target) {
  const std::vector<std::string> found = numbers_in(prediction);
  if (found.empty()) return 0.0;
  const auto hits = std::count(found.begin(), found.end(), target);
  return static_cast<double>(hits) / static_cast<double>(found.size());
}

std::string first_number_of(const std::string& answer, const char* metric) {
  const std::vector<std::string> numbers = numbers_in(answer);
  if (numbers.empty()) fail("the gold answer \"{}\" contains no number, which the {} metric needs", answer, metric);
  return numbers.front();
}

bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

template <typename F>
double max_over_answers(const std::vector<std::string>& answers, F score) {
  double best = 0.0;
  for (const std::string& a : answers) best = std::max(best, score(a));
  return best;
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"qa_f1",    "rouge_l",          "classification",   "retrieval", "count",
                                                 "code_sim", "string_match_all", "string_match_part"};
  return names;
}

void check_metric_name(const std::string& metric) {
  const auto& names = metric_names();
  if (std::find(names.begin(), names.end(), metric) != names.end()) return;
  std::string valid;
  for (const std::string& n : names) valid += (valid.empty() ? "" : ", ") + n;
  fail("unknown metric \"{}\"; valid metrics: {}", metric, valid);
}

std::string normalize_answer(std::string_view text) {
  std::string no_punct;
  no_punct.reserve(text.size());
  for (char c : text) {
    if (!is_ascii_punct(c)) no_punct += ascii_lower(c);
  }
  std::string out;
  for (const std::string& word : split_whitespace(no_punct)) {
    if (word == "a" || word == "an" || word == "the") continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::vector<std::string> normalized_words(std::string_view text) { return split_whitespace(normalize_answer(text)); }

double qa_f1(std::string_view prediction, const std::vector<std::string>& answers) {
  const std::vector<std::string> predicted = normalized_words(prediction);
  return max_over_answers(answers, [&](const std::string& a) { return token_f1(predicted, normalized_words(a)); });
}

double rouge_l(std::string_view prediction, std::string_view reference) {
  const std::vector<std::string> p = rouge_tokens(prediction);
  const std::vector<std::string> r = rouge_tokens(reference);
  const size_t lcs = lcs_length(p, r);
  if (lcs == 0) return 0.0;
  const double precision = static_cast<double>(lcs) / static_cast<double>(p.size());
  const double recall = static_cast<double>(lcs) / static_cast<double>(r.size());
  return 2.0 * precision * recall / (precision + recall);
}

double rouge_l(std::string_view prediction, const std::vector<std::string>& answers) {
  return max_over_answers(answers, [&](const std::string& a) { return rouge_l(prediction, std::string_view(a)); });
}

double classification_score(std::string_view prediction, const std::string& answer,
                            const std::vector<std::string>& all_classes) {
  if (all_classes.empty()) fail("the classification metric needs the sample's all_classes list; add it to the data");
  std::vector<std::string> found;
  for (const std::string& c : all_classes) {
    if (!c.empty() && contains(prediction, c)) found.push_back(c);
  }
  // A class that is part of a longer class also found ("city" in "capital city") was not named on
  // its own.
  std::vector<std::string> named;
  for (const std::string& c : found) {
    const bool inside_longer = std::any_of(found.begin(), found.end(), [&](const std::string& other) {
      return other.size() > c.size() && contains(other, c);
    });
    if (!inside_longer) named.push_back(c);
  }
  if (std::find(named.begin(), named.end(), answer) == named.end()) return 0.0;
  return 1.0 / static_cast<double>(named.size());
}

double retrieval_score(std::string_view prediction, const std::string& answer) {
  return share_of_numbers_equal(prediction, first_number_of(answer, "retrieval"));
}

double count_score(std::string_view prediction, const std::string& answer) {
  return share_of_numbers_equal(prediction, first_number_of(answer, "count"));
}

double fuzzy_ratio(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  const size_t lcs = lcs_length(a, b);
  return 2.0 * static_cast<double>(lcs) / static_cast<double>(a.size() + b.size());
}

std::string first_code_line(std::string_view prediction) {
  size_t start = 0;
  while (start <= prediction.size()) {
    size_t end = prediction.find('\n', start);
    if (end == std::string_view::npos) end = prediction.size();
    std::string_view line = prediction.substr(start, end - start);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) {
      const std::string_view body = line.substr(first);
      const bool fence = body.rfind("```", 0) == 0;
      const bool comment = body.rfind("#", 0) == 0 || body.rfind("//", 0) == 0;
      if (!fence && !comment) {
        const size_t last = line.find_last_not_of(" \t\r");
        return std::string(line.substr(0, last + 1));
      }
    }
    start = end + 1;
  }
  return "";
}

double code_similarity(std::string_view prediction, const std::string& answer) {
  const std::string line = first_code_line(prediction);
  if (line.empty()) return 0.0;
  return fuzzy_ratio(line, answer);
}

double string_match_all(std::string_view prediction, const std::vector<std::string>& answers) {
  if (answers.empty()) return 0.0;
  const std::string p = lowercase(prediction);
  double hits = 0.0;
  for (const std::string& a : answers) hits += contains(p, lowercase(a)) ? 1.0 : 0.0;
  return hits / static_cast<double>(answers.size());
}

double string_match_part(std::string_view prediction, const std::vector<std::string>& answers) {
  const std::string p = lowercase(prediction);
  for (const std::string& a : answers) {
    if (contains(p, lowercase(a))) return 1.0;
  }
  return 0.0;
}

double score_prediction(const std::string& metric, std::string_view prediction, const std::vector<std::string>& answers,
                        const std::vector<std::string>& all_classes) {
  check_metric_name(metric);
  if (prediction.find_first_not_of(" \t\r\n") == std::string_view::npos) return 0.0;
  if (metric == "qa_f1") return qa_f1(prediction, answers);
  if (metric == "rouge_l") return rouge_l(prediction, answers);
  if (metric == "classification") {
    return max_over_answers(answers, [&](const std::string& a) { return classification_score(prediction, a, all_classes); });
  }
  if (metric == "retrieval") return max_over_answers(answers, [&](const std::string& a) { return retrieval_score(prediction, a); });
  if (metric == "count") return max_over_answers(answers, [&](const std::string& a) { return count_score(prediction, a); });
  if (metric == "code_sim") return max_over_answers(answers, [&](const std::string& a) { return code_similarity(prediction, a); });
  if (metric == "string_match_all") return string_match_all(prediction, answers);
  return string_match_part(prediction, answers);
}

Fidelity fidelity(const std::string& text, const std::vector<TokenId>& tokens, const std::string& full_text,
                  const std::vector<TokenId>& full_tokens) {
  Fidelity f;
  f.exact = tokens == full_tokens;
  const size_t n = std::min(tokens.size(), full_tokens.size());
  while (f.common_prefix < static_cast<int>(n) && tokens[static_cast<size_t>(f.common_prefix)] ==
                                                     full_tokens[static_cast<size_t>(f.common_prefix)]) {
    ++f.common_prefix;
  }
  const bool both_empty = rouge_tokens(text).empty() && rouge_tokens(full_text).empty();
  f.rouge_l = both_empty ? 1.0 : rouge_l(text, std::string_view(full_text));
  return f;
}

}  // namespace lkv::eval
