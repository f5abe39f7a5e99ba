// Reports over an eval results folder: Markdown tables (task × policy × budget, with the average
// over tasks, per prompt length) and one SVG plot per model of score against budget. The plot has one panel per task
// and one for the average, with the full cache as a dashed horizontal line. The SVG is written by
// hand.
#pragma once

#include <string>
#include <vector>

namespace lkv::eval {

// One configuration's metrics.json.
struct ResultRow {
  std::string model;
  std::string task;
  std::string policy;      // "full" for the full cache
  int budget = 0;          // 0 for the full cache
  double score = 0.0;      // 0–100
  double fidelity_rouge_l = 0.0;  // 0–100
  double exact_match = 0.0;       // percent of samples identical to the full-cache output
  int n = 0;
  int requested = 0;
  bool complete = false;
};

// Reads every metrics.json under `dir` (any depth). Throws lkv::Error when `dir` does not exist or
// contains no metrics.json, and names a file that is not valid.
std::vector<ResultRow> collect_results(const std::string& dir);

// Markdown for all models in `rows`. svg_names[i] is the plot file of the i-th model of
// models_in(rows), linked from its section unless empty.
std::string render_markdown(const std::vector<ResultRow>& rows, const std::vector<std::string>& svg_names);

// The plot of one model's rows.
std::string render_svg(const std::vector<ResultRow>& rows, const std::string& model);

// Models in `rows`, sorted.
std::vector<std::string> models_in(const std::vector<ResultRow>& rows);

// Writes the Markdown to out_md and one SVG per model next to it, named
// "<out_md stem>-<model>.svg". Returns the paths written.
std::vector<std::string> write_report(const std::string& dir, const std::string& out_md);

}  // namespace lkv::eval
