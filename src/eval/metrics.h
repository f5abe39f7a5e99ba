// Scores of a prediction against gold answers, and its agreement with the full-cache output.
//
// Every per-sample score is in [0, 1]; aggregates in metrics.json and reports multiply the mean by
// 100, as LongBench reports its scores. The definitions follow LongBench (QA F1, ROUGE-L,
// classification, retrieval, count, code similarity) and RULER (string_match_all and _part), written
// from their descriptions:
//   qa_f1              token F1 after normalization (lowercase, punctuation and the articles a/an/the
//                      removed, whitespace collapsed); the maximum over gold answers.
//   rouge_l            ROUGE-L F1 (beta 1) over lowercase alphanumeric tokens, from their longest
//                      common subsequence; the maximum over gold answers.
//   classification     the classes of `all_classes` found in the prediction, less those contained in
//                      a longer class also found; 1/count when the gold class is among them, else 0.
//   retrieval          numbers in the prediction equal to the number in the gold answer ("Paragraph
//                      12" → 12), divided by all numbers in the prediction.
//   count              numbers in the prediction equal to the gold count, divided by all numbers.
//   code_sim           character similarity 2·LCS / (|a| + |b|) (the Indel ratio of rapidfuzz's
//                      fuzz.ratio, on a 0–1 scale) between the gold answer and the prediction's first
//                      line that looks like code (not blank, not a Markdown fence, not a comment).
//   string_match_all   fraction of gold strings found in the prediction, ignoring case.
//   string_match_part  1 when any gold string is found in the prediction, ignoring case.
// An empty prediction scores 0 under every metric.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lkv::eval {

// Metric names accepted by score_prediction(), in the order above.
const std::vector<std::string>& metric_names();

// Throws lkv::Error naming the metric and the valid names when it is unknown.
void check_metric_name(const std::string& metric);

// LongBench's answer normalization: lowercase (ASCII), ASCII punctuation removed, the words a, an
// and the removed, runs of whitespace collapsed to one space, no leading or trailing space.
std::string normalize_answer(std::string_view text);

// Whitespace-separated words of normalize_answer(text).
std::vector<std::string> normalized_words(std::string_view text);

double qa_f1(std::string_view prediction, const std::vector<std::string>& answers);
double rouge_l(std::string_view prediction, const std::vector<std::string>& answers);
double rouge_l(std::string_view prediction, std::string_view reference);
double classification_score(std::string_view prediction, const std::string& answer,
                            const std::vector<std::string>& all_classes);
double retrieval_score(std::string_view prediction, const std::string& answer);
double count_score(std::string_view prediction, const std::string& answer);
double code_similarity(std::string_view prediction, const std::string& answer);
double string_match_all(std::string_view prediction, const std::vector<std::string>& answers);
double string_match_part(std::string_view prediction, const std::vector<std::string>& answers);

// Character similarity of two strings, 2·LCS / (|a| + |b|); 1 for two empty strings.
double fuzzy_ratio(std::string_view a, std::string_view b);

// The first line of `prediction` that looks like code, or "" when there is none.
std::string first_code_line(std::string_view prediction);

// Scores a prediction with the named metric. Metrics that compare against one answer take the
// maximum over `answers`. Throws lkv::Error for an unknown metric, and for classification without
// all_classes.
double score_prediction(const std::string& metric, std::string_view prediction, const std::vector<std::string>& answers,
                        const std::vector<std::string>& all_classes = {});

// Agreement of a policy's output with the full-cache output for the same prompt.
struct Fidelity {
  double rouge_l = 0.0;     // ROUGE-L F1 of the texts (1 when both are empty)
  bool exact = false;       // identical token ids
  int common_prefix = 0;    // length of the common prefix of the token ids
};

Fidelity fidelity(const std::string& text, const std::vector<TokenId>& tokens, const std::string& full_text,
                  const std::vector<TokenId>& full_tokens);

}  // namespace lkv::eval
