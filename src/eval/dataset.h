// LongBench-format datasets: JSON Lines, one sample per line.
//
// Each line is an object with the required fields `context` (string), `input` (string) and
// `answers` (a non-empty array of non-empty strings). Optional fields: `_id` (string, unique
// within the file), `task` or `dataset` (the task name that picks the prompt template), `length`
// and `all_classes` (an array of strings or null, required by classification tasks). LongBench's
// `length` counts words, so it is only checked to be a non-negative number, because prompt lengths
// are measured in tokens of the model. Blank lines are ignored. A line that
// breaks these rules is a bad line: loading either stops with an error naming the file, the line
// number and the field, or skips the line with a warning and counts it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/sample.h"

namespace lkv::eval {

enum class BadLineAction { Stop, Skip };

// "stop" or "skip"; throws lkv::Error naming the value otherwise.
BadLineAction parse_bad_line_action(const std::string& text);

struct DatasetLoad {
  std::vector<EvalSample> samples;
  int n_lines = 0;    // non-blank lines read
  int n_skipped = 0;  // bad lines skipped (BadLineAction::Skip)
};

// Parses one line. The task is the line's `task` or `dataset` field, else default_task. The id is
// `_id`, else "<default_task>-<line_number>". Fills max_new_tokens, metric and answer_prefix from
// the task's spec (eval/tasks.h). Throws lkv::Error with a message that names the field; the
// caller adds the file and line.
EvalSample parse_longbench_line(std::string_view line, int line_number, const std::string& default_task);

// Loads a whole file. The default task is the file name without its directory and extension
// (LongBench names its files after the task: hotpotqa.jsonl). Throws lkv::Error for a missing or
// unreadable file, a file without samples, duplicate ids, and under BadLineAction::Stop for the
// first bad line, as "FILE:LINE: message".
DatasetLoad load_longbench_jsonl(const std::string& path, BadLineAction on_bad_line);

// The file name without its directory and last extension.
std::string file_stem(const std::string& path);

}  // namespace lkv::eval
