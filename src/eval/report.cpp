#include "eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "eval/results.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;

// Policies in the order of the design's list, variants ("snapkv:window=16") after their base;
// others follow alphabetically.
int policy_rank(const std::string& policy) {
  static const std::vector<std::string> order = {"full", "streamingllm", "h2o", "snapkv", "pyramidkv",
                                                 "laq",  "laq++",        "lookaheadkv"};
  const auto it = std::find(order.begin(), order.end(), policy.substr(0, policy.find(':')));
  return it == order.end() ? static_cast<int>(order.size()) : static_cast<int>(it - order.begin());
}

bool row_order(const ResultRow& a, const ResultRow& b) {
  if (policy_rank(a.policy) != policy_rank(b.policy)) return policy_rank(a.policy) < policy_rank(b.policy);
  if (a.policy != b.policy) return a.policy < b.policy;
  return a.budget < b.budget;
}

std::vector<ResultRow> rows_of(const std::vector<ResultRow>& rows, const std::string& model) {
  std::vector<ResultRow> out;
  for (const ResultRow& r : rows) {
    if (r.model == model) out.push_back(r);
  }
  return out;
}

// The prompt length in a data set's folder name ("niah_single_2@4096" → "4096"); "" without one.
std::string length_of(const std::string& task) {
  const size_t at = task.rfind('@');
  return at == std::string::npos ? "" : task.substr(at + 1);
}

// Rows grouped by prompt length, shortest first, then the data sets without a length (MT-Bench):
// averages over tasks of different lengths would mix two difficulties.
std::vector<std::pair<std::string, std::vector<ResultRow>>> length_groups(const std::vector<ResultRow>& rows) {
  std::map<std::pair<int64_t, std::string>, std::vector<ResultRow>> groups;
  for (const ResultRow& r : rows) {
    const std::string length = length_of(r.task);
    int64_t key = INT64_MAX;
    if (!length.empty() && length.find_first_not_of("0123456789") == std::string::npos && length.size() < 12) {
      key = std::stoll(length);
    }
    groups[{key, length}].push_back(r);
  }
  std::vector<std::pair<std::string, std::vector<ResultRow>>> out;
  for (auto& [key, members] : groups) out.emplace_back(key.second, std::move(members));
  return out;
}

std::vector<std::string> tasks_in(const std::vector<ResultRow>& rows) {
  std::set<std::string> tasks;
  for (const ResultRow& r : rows) tasks.insert(r.task);
  return {tasks.begin(), tasks.end()};
}

// (policy, budget) pairs in display order.
std::vector<std::pair<std::string, int>> configs_in(const std::vector<ResultRow>& rows) {
  std::vector<ResultRow> sorted = rows;
  std::sort(sorted.begin(), sorted.end(), row_order);
  std::vector<std::pair<std::string, int>> out;
  for (const ResultRow& r : sorted) {
    if (out.empty() || out.back() != std::make_pair(r.policy, r.budget)) out.emplace_back(r.policy, r.budget);
  }
  return out;
}

const ResultRow* find_row(const std::vector<ResultRow>& rows, const std::string& task, const std::string& policy,
                          int budget) {
  for (const ResultRow& r : rows) {
    if (r.task == task && r.policy == policy && r.budget == budget) return &r;
  }
  return nullptr;
}

// Mean of `value` over the tasks where the configuration has results; NaN when it has none.
template <typename F>
double average_over_tasks(const std::vector<ResultRow>& rows, const std::string& policy, int budget, F value) {
  double sum = 0.0;
  int n = 0;
  for (const ResultRow& r : rows) {
    if (r.policy == policy && r.budget == budget) {
      sum += value(r);
      ++n;
    }
  }
  return n > 0 ? sum / n : std::nan("");
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string markdown_table(const std::vector<ResultRow>& rows,
                           const std::function<std::string(const ResultRow&)>& cell,
                           const std::function<double(const ResultRow&)>& value) {
  const std::vector<std::string> tasks = tasks_in(rows);
  std::string out = fmt::format("| policy | budget | {} | average |\n|---|---|", fmt::join(tasks, " | "));
  for (size_t i = 0; i <= tasks.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& [policy, budget] : configs_in(rows)) {
    out += fmt::format("| {} | {} |", policy, policy == "full" ? "–" : std::to_string(budget));
    for (const std::string& task : tasks) {
      const ResultRow* r = find_row(rows, task, policy, budget);
      std::string text = "–";
      if (r) text = cell(*r) + (r->complete ? "" : "*");
      out += " " + text + " |";
    }
    const double avg = average_over_tasks(rows, policy, budget, value);
    out += std::isnan(avg) ? " – |\n" : fmt::format(" {:.1f} |\n", avg);
  }
  return out;
}

}  // namespace

std::vector<ResultRow> collect_results(const std::string& dir) {
  if (!fs::is_directory(dir)) fail("results folder '{}' not found; give the --out folder of lookaheadkv eval", dir);
  std::vector<ResultRow> rows;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() != "metrics.json") continue;
    const std::string path = entry.path().string();
    const nlohmann::json m = read_json_file(path);
    try {
      ResultRow r;
      r.model = m.at("model").get<std::string>();
      r.task = m.at("task").get<std::string>();
      r.policy = m.at("policy").get<std::string>();
      r.budget = m.contains("budget") ? m["budget"].get<int>() : 0;
      r.score = m.at("score").get<double>();
      r.fidelity_rouge_l = m.at("fidelity").at("rouge_l").get<double>();
      r.exact_match = m.at("fidelity").at("exact_match").get<double>();
      r.n = m.at("n").get<int>();
      r.requested = m.value("requested", r.n);
      r.complete = m.value("complete", true);
      rows.push_back(std::move(r));
    } catch (const nlohmann::json::exception& e) {
      fail("'{}' is not a metrics file of lookaheadkv eval: {}", path, e.what());
    }
  }
  if (rows.empty()) fail("no metrics.json under '{}'; run lookaheadkv eval with --out there first", dir);
  std::sort(rows.begin(), rows.end(), [](const ResultRow& a, const ResultRow& b) {
    if (a.model != b.model) return a.model < b.model;
    if (a.task != b.task) return a.task < b.task;
    return row_order(a, b);
  });
  return rows;
}

std::vector<std::string> models_in(const std::vector<ResultRow>& rows) {
  std::set<std::string> models;
  for (const ResultRow& r : rows) models.insert(r.model);
  return {models.begin(), models.end()};
}

std::string render_markdown(const std::vector<ResultRow>& rows, const std::vector<std::string>& svg_names) {
  std::string out = "# Evaluation results\n\n";
  out += "Scores are 0–100 (the task's metric, mean over samples). Fidelity is the agreement with the full-cache "
         "output on the same prompt: ROUGE-L (0–100) / percent of samples with identical tokens. A `*` marks a "
         "configuration with fewer finished samples than requested; the average is over the tasks a row has.\n";
  const std::vector<std::string> models = models_in(rows);
  for (size_t i = 0; i < models.size(); ++i) {
    const std::vector<ResultRow> mine = rows_of(rows, models[i]);
    out += fmt::format("\n## {}\n\n", models[i]);
    if (i < svg_names.size() && !svg_names[i].empty()) {
      out += fmt::format("![score against budget, {}]({})\n\n", models[i], svg_names[i]);
    }
    for (const auto& [length, group] : length_groups(mine)) {
      const std::string at = length.empty() ? "" : fmt::format(" at {} tokens", length);
      int samples = 0;
      for (const ResultRow& r : group) samples = std::max(samples, r.n);
      out += fmt::format("### Score{} (samples per task: up to {})\n\n", at, samples);
      out += markdown_table(
          group, [](const ResultRow& r) { return fmt::format("{:.1f}", r.score); },
          [](const ResultRow& r) { return r.score; });
      out += fmt::format("\n### Fidelity to the full cache{} (ROUGE-L / exact %)\n\n", at);
      out += markdown_table(
          group,
          [](const ResultRow& r) { return fmt::format("{:.0f} / {:.0f}", r.fidelity_rouge_l, r.exact_match); },
          [](const ResultRow& r) { return r.fidelity_rouge_l; });
      out += "\n";
    }
  }
  return out;
}

std::string render_svg(const std::vector<ResultRow>& all_rows, const std::string& model) {
  const std::vector<ResultRow> rows = rows_of(all_rows, model);
  // One panel per task and one average per prompt length, each over that length's rows.
  struct Panel {
    std::string title;
    std::string task;                // empty for an average panel
    std::vector<ResultRow> members;  // the rows an average panel averages
  };
  std::vector<Panel> panels;
  const auto groups = length_groups(rows);
  for (const auto& [length, group] : groups) {
    for (const std::string& task : tasks_in(group)) panels.push_back({task, task, {}});
    const bool labelled = groups.size() > 1 && !length.empty();
    panels.push_back({labelled ? "average @" + length : "average", "", group});
  }
  std::set<int> budget_set;
  std::vector<std::string> policies;
  for (const ResultRow& r : rows) {
    if (r.policy != "full") budget_set.insert(r.budget);
  }
  for (const auto& [policy, budget] : configs_in(rows)) {
    if (policy != "full" && std::find(policies.begin(), policies.end(), policy) == policies.end()) policies.push_back(policy);
  }
  const std::vector<int> budgets(budget_set.begin(), budget_set.end());

  // Layout in pixels: panels of kPanelW × kPanelH in kCols columns under a title and a legend row.
  constexpr int kCols = 4, kPanelW = 240, kPanelH = 190, kTop = 64, kMarginL = 44, kMarginR = 12, kMarginT = 24,
                kMarginB = 34;
  const int n_rows = static_cast<int>((panels.size() + kCols - 1) / kCols);
  const int width = kCols * kPanelW + 10;
  const int height = kTop + n_rows * kPanelH + 10;
  static const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
  // Lines of policies that score alike overlap, so every other policy is drawn dashed.
  static const char* kDashes[] = {"none", "6,3"};
  auto index_of = [&](const std::string& policy) {
    return static_cast<size_t>(std::find(policies.begin(), policies.end(), policy) - policies.begin());
  };
  auto color_of = [&](const std::string& policy) { return kColors[index_of(policy) % (sizeof(kColors) / sizeof(kColors[0]))]; };
  auto dash_of = [&](const std::string& policy) { return kDashes[index_of(policy) % 2]; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  svg += fmt::format("<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{}: score against budget</text>\n",
                     xml_escape(model));
  // Legend.
  int lx = 10;
  for (const std::string& policy : policies) {
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"40\" x2=\"{}\" y2=\"40\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>", lx,
        lx + 18, color_of(policy), dash_of(policy));
    svg += fmt::format("<text x=\"{}\" y=\"44\">{}</text>\n", lx + 22, xml_escape(policy));
    lx += 30 + 7 * static_cast<int>(policy.size());
  }
  svg += fmt::format("<line x1=\"{}\" y1=\"40\" x2=\"{}\" y2=\"40\" stroke=\"black\" stroke-dasharray=\"5,3\"/>", lx,
                     lx + 18);
  svg += fmt::format("<text x=\"{}\" y=\"44\">full cache</text>\n", lx + 22);

  for (size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    const bool average = panel.task.empty();
    const int ox = static_cast<int>(p % kCols) * kPanelW + 5;
    const int oy = kTop + static_cast<int>(p / kCols) * kPanelH;
    const int x0 = ox + kMarginL, x1 = ox + kPanelW - kMarginR, y0 = oy + kMarginT, y1 = oy + kPanelH - kMarginB;
    auto y_of = [&](double score) { return y1 - (y1 - y0) * std::clamp(score, 0.0, 100.0) / 100.0; };
    // Budgets on a log2 axis, so doubling budgets are evenly spaced.
    const double lo = budgets.empty() ? 0.0 : std::log2(budgets.front());
    const double hi = budgets.empty() ? 1.0 : std::log2(budgets.back());
    auto x_of = [&](int budget) {
      if (hi <= lo) return (x0 + x1) / 2.0;
      return x0 + (x1 - x0) * (std::log2(budget) - lo) / (hi - lo);
    };
    auto value = [&](const std::string& policy, int budget) {
      if (average) return average_over_tasks(panel.members, policy, budget, [](const ResultRow& r) { return r.score; });
      const ResultRow* r = find_row(rows, panel.task, policy, budget);
      return r ? r->score : std::nan("");
    };

    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", x0, oy + 14, xml_escape(panel.title));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", x0, y0,
                       x1 - x0, y1 - y0);
    for (int tick = 0; tick <= 100; tick += 25) {
      const double y = y_of(tick);
      svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#eee\"/>", x0, y, x1, y);
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", x0 - 4, y + 4, tick);
    }
    for (int b : budgets) {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x_of(b), y1 + 14, b);
    }
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">budget</text>\n", (x0 + x1) / 2,
                       y1 + 28);
    const double full = value("full", 0);
    if (!std::isnan(full)) {
      svg += fmt::format(
          "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"black\" stroke-dasharray=\"5,3\"/>\n", x0,
          y_of(full), x1, y_of(full));
    }
    for (const std::string& policy : policies) {
      std::string points;
      std::string markers;
      for (int b : budgets) {
        const double v = value(policy, b);
        if (std::isnan(v)) continue;
        points += fmt::format("{:.1f},{:.1f} ", x_of(b), y_of(v));
        markers += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>", x_of(b), y_of(v),
                               color_of(policy));
      }
      if (points.empty()) continue;
      svg += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"{}\"/>{}\n", points,
          color_of(policy), dash_of(policy), markers);
    }
  }
  svg += "</svg>\n";
  return svg;
}

std::vector<std::string> write_report(const std::string& dir, const std::string& out_md) {
  const std::vector<ResultRow> rows = collect_results(dir);
  const fs::path md_path(out_md);
  if (!md_path.parent_path().empty()) fs::create_directories(md_path.parent_path());
  const std::string stem = md_path.stem().string();
  std::vector<std::string> written, svg_names;
  for (const std::string& model : models_in(rows)) {
    const std::string name = stem + "-" + model + ".svg";
    const fs::path path = md_path.parent_path() / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '{}'", path.string());
    out << render_svg(rows, model);
    svg_names.push_back(name);
    written.push_back(path.string());
  }
  std::ofstream md(md_path, std::ios::binary | std::ios::trunc);
  if (!md) fail("cannot write '{}'", out_md);
  md << render_markdown(rows, svg_names);
  written.insert(written.begin(), out_md);
  return written;
}

}  // namespace lkv::eval
