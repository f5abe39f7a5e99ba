// Evaluation metrics against values computed by hand: normalization (punctuation, articles,
// casing, whitespace), several gold answers, empty predictions, and fidelity to the full cache.
#include <gtest/gtest.h>

#include "eval/metrics.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

TEST(EvalMetrics, NormalizeAnswer) {
  EXPECT_EQ(normalize_answer("Hello, World! The end."), "hello world end");
  EXPECT_EQ(normalize_answer("  A  cat\tand   an owl "), "cat and owl");
  EXPECT_EQ(normalize_answer("don't"), "dont");
  EXPECT_EQ(normalize_answer("Theory of the atom"), "theory of atom");  // "the" only as a word
  EXPECT_EQ(normalize_answer(""), "");
  EXPECT_EQ(normalize_answer("The."), "");
}

TEST(EvalMetrics, QaF1) {
  EXPECT_DOUBLE_EQ(qa_f1("The Eiffel Tower!", {"eiffel tower"}), 1.0);
  EXPECT_DOUBLE_EQ(qa_f1("PARIS", {"paris"}), 1.0);
  // [paris, france] against [paris]: precision 1/2, recall 1, F1 2/3.
  EXPECT_NEAR(qa_f1("Paris, France", {"paris"}), 2.0 / 3.0, 1e-12);
  // Articles drop out on both sides.
  EXPECT_DOUBLE_EQ(qa_f1("an apple a day", {"Apple day", "banana"}), 1.0);
  // Several gold answers: the best one counts. [big, blue, whale] against [whale, shark] gives
  // P 1/3, R 1/2, F1 0.4; against [blue] P 1/3, R 1, F1 0.5.
  EXPECT_NEAR(qa_f1("big blue whale", {"whale shark", "blue"}), 0.5, 1e-12);
  EXPECT_NEAR(qa_f1("big blue whale", {"whale shark"}), 0.4, 1e-12);
  // A repeated word counts only as often as it occurs in the gold answer: [new, new, york]
  // against [new, york] has 2 common, P 2/3, R 1, F1 0.8.
  EXPECT_NEAR(qa_f1("new new york", {"New York"}), 0.8, 1e-12);
  EXPECT_DOUBLE_EQ(qa_f1("", {"paris"}), 0.0);
  EXPECT_DOUBLE_EQ(qa_f1("the", {"paris"}), 0.0);
}

TEST(EvalMetrics, RougeL) {
  // LCS "the cat on the mat" = 5 of 6 tokens on both sides.
  EXPECT_NEAR(rouge_l("the cat sat on the mat", std::string_view("the cat lay on the mat")), 5.0 / 6.0, 1e-12);
  // [a b c d] against [a c e]: LCS 2, P 1/2, R 2/3, F1 4/7.
  EXPECT_NEAR(rouge_l("a b c d", std::string_view("a c e")), 4.0 / 7.0, 1e-12);
  EXPECT_DOUBLE_EQ(rouge_l("The Cat!", std::string_view("the cat")), 1.0);
  EXPECT_DOUBLE_EQ(rouge_l("", std::string_view("the cat")), 0.0);
  EXPECT_DOUBLE_EQ(rouge_l("dog", std::vector<std::string>{"the cat", "a dog"}), 2.0 * 0.5 / 1.5);
}

TEST(EvalMetrics, Classification) {
  const std::vector<std::string> classes = {"Location", "Number", "Human"};
  EXPECT_DOUBLE_EQ(classification_score("Type: Location", "Location", classes), 1.0);
  EXPECT_DOUBLE_EQ(classification_score("Location or Number", "Location", classes), 0.5);
  EXPECT_DOUBLE_EQ(classification_score("Human being", "Location", classes), 0.0);
  // A class inside a longer class that was also found was not named on its own.
  const std::vector<std::string> nested = {"city", "capital city", "country"};
  EXPECT_DOUBLE_EQ(classification_score("capital city", "capital city", nested), 1.0);
  EXPECT_DOUBLE_EQ(classification_score("capital city", "city", nested), 0.0);
  EXPECT_THROW(score_prediction("classification", "Location", {"Location"}, {}), Error);
}

TEST(EvalMetrics, RetrievalAndCount) {
  EXPECT_DOUBLE_EQ(retrieval_score("Paragraph 12", "Paragraph 12"), 1.0);
  EXPECT_DOUBLE_EQ(retrieval_score("Paragraph 3, or maybe Paragraph 12", "Paragraph 12"), 0.5);
  EXPECT_DOUBLE_EQ(retrieval_score("none of them", "Paragraph 12"), 0.0);
  EXPECT_DOUBLE_EQ(retrieval_score("Paragraph 012", "Paragraph 12"), 1.0);
  EXPECT_THROW(retrieval_score("Paragraph 1", "the first one"), Error);
  EXPECT_DOUBLE_EQ(count_score("There are 7 distinct paragraphs.", "7"), 1.0);
  EXPECT_DOUBLE_EQ(count_score("7 or 8", "7"), 0.5);
  EXPECT_DOUBLE_EQ(count_score("17", "7"), 0.0);
}

TEST(EvalMetrics, CodeSimilarity) {
  EXPECT_EQ(first_code_line("```python\n# a comment\n\n    return x + 1\n```"), "    return x + 1");
  EXPECT_EQ(first_code_line("// note\nint y = 2;"), "int y = 2;");
  EXPECT_EQ(first_code_line("```\n# only comments\n"), "");
  EXPECT_DOUBLE_EQ(code_similarity("```python\n    return x + 1\n```", "    return x + 1"), 1.0);
  // "return x" against "return y": LCS "return " of 7 characters, 2·7 / 16.
  EXPECT_DOUBLE_EQ(code_similarity("return x", "return y"), 14.0 / 16.0);
  EXPECT_NEAR(fuzzy_ratio("abc", "abd"), 4.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(fuzzy_ratio("", ""), 1.0);
  EXPECT_DOUBLE_EQ(code_similarity("# just a comment", "x = 1"), 0.0);
}

TEST(EvalMetrics, StringMatch) {
  EXPECT_NEAR(string_match_all("The numbers are 123 and 456.", {"123", "456", "789"}), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(string_match_all("uuid ABC-def here", {"abc-DEF"}), 1.0);
  EXPECT_DOUBLE_EQ(string_match_part("The numbers are 123 and 456.", {"789", "456"}), 1.0);
  EXPECT_DOUBLE_EQ(string_match_part("The numbers are 123 and 456.", {"789"}), 0.0);
}

TEST(EvalMetrics, EmptyPredictionScoresZero) {
  for (const std::string& metric : metric_names()) {
    EXPECT_DOUBLE_EQ(score_prediction(metric, "", {"Paragraph 1"}, {"Paragraph 1"}), 0.0) << metric;
    EXPECT_DOUBLE_EQ(score_prediction(metric, " \n ", {"Paragraph 1"}, {"Paragraph 1"}), 0.0) << metric;
  }
}

TEST(EvalMetrics, ScoreDispatchesByName) {
  EXPECT_DOUBLE_EQ(score_prediction("qa_f1", "Paris", {"paris"}), 1.0);
  EXPECT_DOUBLE_EQ(score_prediction("string_match_all", "x 1 y 2", {"1", "2"}), 1.0);
  EXPECT_DOUBLE_EQ(score_prediction("code_sim", "a = 1", {"b = 2", "a = 1"}), 1.0);
  try {
    score_prediction("bleu", "x", {"x"});
    FAIL() << "an unknown metric must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown metric \"bleu\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("string_match_part"), std::string::npos) << e.what();
  }
}

TEST(EvalMetrics, Fidelity) {
  const Fidelity same = fidelity("the cat", {5, 6}, "the cat", {5, 6});
  EXPECT_TRUE(same.exact);
  EXPECT_EQ(same.common_prefix, 2);
  EXPECT_DOUBLE_EQ(same.rouge_l, 1.0);

  const Fidelity diverged = fidelity("the cat sat", {5, 6, 7, 8}, "the cat", {5, 6, 9});
  EXPECT_FALSE(diverged.exact);
  EXPECT_EQ(diverged.common_prefix, 2);
  EXPECT_NEAR(diverged.rouge_l, 2.0 * (2.0 / 3.0) * 1.0 / (2.0 / 3.0 + 1.0), 1e-12);

  const Fidelity both_empty = fidelity("", {}, "", {});
  EXPECT_TRUE(both_empty.exact);
  EXPECT_DOUBLE_EQ(both_empty.rouge_l, 1.0);
  const Fidelity one_empty = fidelity("", {}, "cat", {3});
  EXPECT_EQ(one_empty.common_prefix, 0);
  EXPECT_DOUBLE_EQ(one_empty.rouge_l, 0.0);
}

}  // namespace
}  // namespace lkv::eval
