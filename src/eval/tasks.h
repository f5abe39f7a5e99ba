// How each evaluation task is prompted and scored: prompt templates, generation length and metric
// for LongBench's English tasks, RULER-style tasks and a generic default.
//
// A prompt is context_part + question_part + answer_prefix. The context part contains the long
// document and is the part that eviction prunes in split mode (the question part and answer
// prefix are then prefilled after eviction), so every template repeats the instruction in its
// question part. The templates are our own wording of what LongBench asks for each task.
#pragma once

#include <string>
#include <vector>

#include "eval/sample.h"

namespace lkv::eval {

struct TaskSpec {
  std::string name;
  std::string context_template;   // contains "{context}"
  std::string question_template;  // may contain "{input}"
  std::string answer_prefix;      // the text the prompt ends with; the model continues it
  int max_new_tokens = 64;
  std::string metric = "qa_f1";
  // Score only the first non-empty line of the prediction (few-shot tasks, where a base model goes
  // on to invent the next example).
  bool first_line_only = false;
  // The answer fits on one line, so decoding without a chat template stops at the end of the first
  // non-empty line. This saves most of the decode time on a base model and does not change the
  // scores of one-line metrics.
  bool single_line = false;
};

// LongBench task names with their own template, in LongBench's order.
const std::vector<std::string>& longbench_task_names();

// The spec of a LongBench task, or the generic one (named "generic") for any other name.
const TaskSpec& longbench_task(const std::string& name);

// True when `name` has its own LongBench template.
bool is_longbench_task(const std::string& name);

// The spec for a sample. RULER tasks take the template of ruler_prompt() with the sample's own
// answer prefix, generation length and metric. Other tasks take longbench_task(sample.task), with
// the sample's max_new_tokens and metric when they are set.
TaskSpec task_spec_for(const EvalSample& sample);

// The prompt's parts, with the template filled in. Without a chat template the prompt is their
// concatenation. With one, context and question form the user turn, and the answer prefix follows
// the assistant's generation prefix.
struct PromptText {
  std::string context;        // context_template with the (possibly truncated) context
  std::string question;       // question_template with the input
  std::string answer_prefix;  // spec.answer_prefix, or empty when the input already ends with it
};

// Fills the templates. `context` replaces sample.context (the caller passes a truncated one).
PromptText fill_prompt(const TaskSpec& spec, const EvalSample& sample, const std::string& context);

// The text a metric scores: the first non-empty line when spec.first_line_only, else all of it.
std::string scored_text(const TaskSpec& spec, const std::string& prediction);

}  // namespace lkv::eval
