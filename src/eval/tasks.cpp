#include "eval/tasks.h"

#include <algorithm>

#include "eval/ruler.h"

namespace lkv::eval {
namespace {

TaskSpec make(std::string name, std::string context_template, std::string question_template, std::string answer_prefix,
              int max_new_tokens, std::string metric, bool single_line, bool first_line_only = false) {
  TaskSpec spec;
  spec.name = std::move(name);
  spec.context_template = std::move(context_template);
  spec.question_template = std::move(question_template);
  spec.answer_prefix = std::move(answer_prefix);
  spec.max_new_tokens = max_new_tokens;
  spec.metric = std::move(metric);
  spec.single_line = single_line;
  spec.first_line_only = first_line_only;
  return spec;
}

// Generation lengths are LongBench's per-task maxima.
const std::vector<TaskSpec>& longbench_specs() {
  static const std::vector<TaskSpec> specs = [] {
    const std::string multi_hop_context =
        "Answer the question from the passages below. Reply with the answer alone, no other words.\n\n"
        "Passages:\n{context}\n\n";
    const std::string multi_hop_question =
        "Using the passages above, answer the question. Reply with the answer alone, no other words.\n\n"
        "Question: {input}\n";
    const std::string code_prefix = "\nThe next line of code:\n";
    std::vector<TaskSpec> all;
    all.push_back(make("narrativeqa",
                       "Read the story below; a question about it follows. Answer with a short phrase, as briefly "
                       "as you can.\n\nStory:\n{context}\n\n",
                       "Answer the question about the story above as briefly as you can, with a short phrase.\n\n"
                       "Question: {input}\n",
                       "Answer:", 128, "qa_f1", true));
    all.push_back(make("qasper",
                       "Read the scientific article below; a question about it follows. Answer with one phrase or "
                       "sentence where you can. Write \"unanswerable\" when the article does not say, and answer "
                       "yes/no questions with \"yes\", \"no\" or \"unanswerable\".\n\nArticle:\n{context}\n\n",
                       "Using the article above, answer with one phrase or sentence where you can. Write "
                       "\"unanswerable\" when the article does not say, and answer yes/no questions with \"yes\", "
                       "\"no\" or \"unanswerable\". Do not explain.\n\nQuestion: {input}\n",
                       "Answer:", 128, "qa_f1", true));
    all.push_back(make("multifieldqa_en", "Read the text below; a question about it follows.\n\n{context}\n\n",
                       "Using only the text above, answer in a few words, without explanation.\n\nQuestion: {input}\n",
                       "Answer:", 64, "qa_f1", true));
    all.push_back(make("hotpotqa", multi_hop_context, multi_hop_question, "Answer:", 32, "qa_f1", true));
    all.push_back(make("2wikimqa", multi_hop_context, multi_hop_question, "Answer:", 32, "qa_f1", true));
    all.push_back(make("musique", multi_hop_context, multi_hop_question, "Answer:", 32, "qa_f1", true));
    all.push_back(make("gov_report", "Below is a report by a government agency.\n\nReport:\n{context}\n\n",
                       "Write a summary of the report above, up to one page long.\n\n", "Summary:", 512, "rouge_l",
                       false));
    all.push_back(make("qmsum",
                       "Below is the transcript of a meeting; a query about it follows.\n\nTranscript:\n{context}\n\n",
                       "Answer the query about the meeting above in one or more sentences.\n\nQuery: {input}\n",
                       "Answer:", 512, "rouge_l", false));
    all.push_back(make("multi_news", "Below are several news articles.\n\nArticles:\n{context}\n\n",
                       "Write one summary of all the news articles above, up to one page long.\n\n", "Summary:", 512,
                       "rouge_l", false));
    all.push_back(make("trec",
                       "Decide the type of answer each question asks for. Some classified questions come first.\n\n"
                       "{context}\n\n",
                       "Give the type of this question, as in the examples above.\n\n{input}\n", "Type:", 64,
                       "classification", true, true));
    all.push_back(make("triviaqa",
                       "Answer the question from its passage. Reply with the answer alone. Some answered examples "
                       "come first.\n\n{context}\n\n",
                       "{input}\n", "Answer:", 32, "qa_f1", true, true));
    all.push_back(make("samsum",
                       "Summarize the dialogue in one sentence. Some summarized dialogues come first.\n\n{context}\n\n",
                       "{input}\n", "Summary:", 128, "rouge_l", true, true));
    all.push_back(make("passage_count",
                       "Below are several paragraphs, and some of them may be repeats of others. Count how many "
                       "different paragraphs there are.\n\n{context}\n\n",
                       "How many different paragraphs are there above once the repeats are removed? Reply with the "
                       "number alone.\n\n",
                       "Count:", 32, "count", true));
    all.push_back(make("passage_retrieval_en",
                       "Below are numbered paragraphs; a summary of one of them follows.\n\n{context}\n\n",
                       "Which paragraph above does this summary describe? Reply as \"Paragraph N\" and nothing "
                       "else.\n\nSummary: {input}\n",
                       "Answer:", 32, "retrieval", true));
    all.push_back(make("lcc", "Finish the code below by writing its next line.\n\n{context}", "", code_prefix, 64,
                       "code_sim", true));
    all.push_back(make("repobench-p",
                       "Finish the code below by writing its next line. Code from other files of the same "
                       "repository comes first.\n\n{context}",
                       "{input}", code_prefix, 64, "code_sim", true));
    return all;
  }();
  return specs;
}

const TaskSpec& generic_spec() {
  static const TaskSpec spec = make("generic", "Read the text below; a question about it follows.\n\n{context}\n\n",
                                    "Answer the question using the text above.\n\nQuestion: {input}\n", "Answer:", 64,
                                    "qa_f1", false);
  return spec;
}

void replace_all(std::string& text, const std::string& placeholder, const std::string& value) {
  for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

bool is_ruler_task(const std::string& name) {
  const auto& names = ruler_task_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const std::vector<std::string>& longbench_task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const TaskSpec& s : longbench_specs()) out.push_back(s.name);
    return out;
  }();
  return names;
}

bool is_longbench_task(const std::string& name) {
  const auto& names = longbench_task_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

const TaskSpec& longbench_task(const std::string& name) {
  for (const TaskSpec& s : longbench_specs()) {
    if (s.name == name) return s;
  }
  return generic_spec();
}

TaskSpec task_spec_for(const EvalSample& sample) {
  TaskSpec spec;
  if (is_ruler_task(sample.task)) {
    // ruler_prompt(): the context, a newline, the question, a space and the answer prefix.
    spec.name = sample.task;
    spec.context_template = "{context}\n";
    spec.question_template = "{input}";
    spec.answer_prefix = sample.answer_prefix.empty() ? "" : " " + sample.answer_prefix;
    spec.single_line = true;
  } else {
    spec = longbench_task(sample.task);
  }
  if (sample.max_new_tokens > 0) spec.max_new_tokens = sample.max_new_tokens;
  if (!sample.metric.empty()) spec.metric = sample.metric;
  return spec;
}

PromptText fill_prompt(const TaskSpec& spec, const EvalSample& sample, const std::string& context) {
  PromptText text;
  text.context = spec.context_template;
  replace_all(text.context, "{context}", context);
  text.question = spec.question_template;
  replace_all(text.question, "{input}", sample.input);
  // Few-shot inputs may already end with the prefix ("...\nAnswer:"); it is not repeated then.
  const size_t end = text.question.find_last_not_of(" \n");
  const std::string trimmed = end == std::string::npos ? "" : text.question.substr(0, end + 1);
  const size_t prefix_start = spec.answer_prefix.find_first_not_of(" \n");
  const std::string prefix = prefix_start == std::string::npos ? "" : spec.answer_prefix.substr(prefix_start);
  const bool has_prefix = !prefix.empty() && trimmed.size() >= prefix.size() &&
                          trimmed.compare(trimmed.size() - prefix.size(), prefix.size(), prefix) == 0;
  if (has_prefix) {
    text.question = trimmed;
  } else {
    text.answer_prefix = spec.answer_prefix;
  }
  return text;
}

std::string scored_text(const TaskSpec& spec, const std::string& prediction) {
  if (!spec.first_line_only) return prediction;
  size_t start = 0;
  while (start < prediction.size()) {
    size_t end = prediction.find('\n', start);
    if (end == std::string::npos) end = prediction.size();
    const std::string line = prediction.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string::npos) return line;
    start = end + 1;
  }
  return "";
}

}  // namespace lkv::eval
