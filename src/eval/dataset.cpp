#include "eval/dataset.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "eval/metrics.h"
#include "eval/tasks.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

using nlohmann::json;

// Bad lines reported one by one when skipping; the rest only count.
constexpr int kMaxSkipWarnings = 10;

const char* json_type(const json& value) { return value.type_name(); }

std::string required_string(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) fail("missing field \"{}\"; every line needs context, input and answers", field);
  if (!it->is_string()) fail("field \"{}\" must be a string, not {}", field, json_type(*it));
  return it->get<std::string>();
}

std::vector<std::string> string_list(const json& value, const char* field) {
  if (!value.is_array()) fail("field \"{}\" must be an array of strings, not {}", field, json_type(value));
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      fail("field \"{}\" item {} must be a string, not {}", field, i, json_type(value[i]));
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

std::string optional_string(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) fail("field \"{}\" must be a string, not {}", field, json_type(*it));
  return it->get<std::string>();
}

// Metrics that read a number from the gold answer fail on answers without one; this finds that
// at load time rather than after a long prefill.
void check_answers_for_metric(const EvalSample& sample) {
  if (sample.metric == "classification" && sample.all_classes.empty()) {
    fail("field \"all_classes\" is missing or empty, but task {} is scored by classification and needs it", sample.task);
  }
  if (sample.metric == "retrieval" || sample.metric == "count") {
    for (const std::string& answer : sample.answers) {
      score_prediction(sample.metric, "0", {answer}, sample.all_classes);  // throws when the answer has no number
    }
  }
}

}  // namespace

BadLineAction parse_bad_line_action(const std::string& text) {
  if (text == "stop") return BadLineAction::Stop;
  if (text == "skip") return BadLineAction::Skip;
  fail("invalid --on-bad-line value \"{}\": use stop or skip", text);
}

std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

EvalSample parse_longbench_line(std::string_view line, int line_number, const std::string& default_task) {
  json object;
  try {
    object = json::parse(line);
  } catch (const json::parse_error& e) {
    fail("invalid JSON: {}", e.what());
  }
  if (!object.is_object()) fail("expected a JSON object, got {}", json_type(object));

  EvalSample sample;
  sample.context = required_string(object, "context");
  sample.input = required_string(object, "input");
  auto answers = object.find("answers");
  if (answers == object.end()) fail("missing field \"answers\"; every line needs context, input and answers");
  sample.answers = string_list(*answers, "answers");
  if (sample.answers.empty()) fail("field \"answers\" is empty; give at least one gold answer");
  for (size_t i = 0; i < sample.answers.size(); ++i) {
    if (sample.answers[i].find_first_not_of(" \t\r\n") == std::string::npos) {
      fail("field \"answers\" item {} is empty; every gold answer needs some text", i);
    }
  }

  sample.task = optional_string(object, "task");
  if (sample.task.empty()) sample.task = optional_string(object, "dataset");
  if (sample.task.empty()) sample.task = default_task;
  sample.id = optional_string(object, "_id");
  if (sample.id.empty()) sample.id = fmt::format("{}-{}", default_task, line_number);

  auto classes = object.find("all_classes");
  if (classes != object.end() && !classes->is_null()) sample.all_classes = string_list(*classes, "all_classes");
  auto length = object.find("length");
  if (length != object.end() && !length->is_null()) {
    if (!length->is_number() || length->get<double>() < 0) {
      fail("field \"length\" must be a non-negative number, not {}", length->dump());
    }
  }

  const TaskSpec& spec = longbench_task(sample.task);
  sample.max_new_tokens = spec.max_new_tokens;
  sample.metric = spec.metric;
  sample.answer_prefix = spec.answer_prefix;
  check_answers_for_metric(sample);
  return sample;
}

DatasetLoad load_longbench_jsonl(const std::string& path, BadLineAction on_bad_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("dataset file '{}' not found or unreadable; give a LongBench-format .jsonl file", path);
  const std::string default_task = file_stem(path);

  DatasetLoad load;
  std::set<std::string> ids;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte order mark
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    ++load.n_lines;
    try {
      EvalSample sample = parse_longbench_line(line, line_number, default_task);
      if (!ids.insert(sample.id).second) fail("duplicate _id \"{}\"; ids must be unique within a file", sample.id);
      load.samples.push_back(std::move(sample));
    } catch (const Error& e) {
      if (on_bad_line == BadLineAction::Stop) {
        fail("{}:{}: {} (use --on-bad-line skip to skip bad lines)", path, line_number, e.what());
      }
      ++load.n_skipped;
      if (load.n_skipped <= kMaxSkipWarnings) spdlog::warn("{}:{}: skipped: {}", path, line_number, e.what());
    }
  }
  if (load.n_skipped > 0) {
    spdlog::warn("{}: skipped {} bad line(s) of {}; {} samples loaded", path, load.n_skipped, load.n_lines,
                 load.samples.size());
  }
  if (load.samples.empty()) fail("dataset file '{}' has no valid samples ({} non-blank lines)", path, load.n_lines);
  return load;
}

}  // namespace lkv::eval
