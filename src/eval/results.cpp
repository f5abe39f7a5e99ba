#include "eval/results.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include "util/error.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The first field where two identities differ, as "field: A here, B there"; "" when equal.
std::string first_difference(const json& here, const json& there, const std::string& prefix = "") {
  if (here.is_object() && there.is_object()) {
    for (auto it = here.begin(); it != here.end(); ++it) {
      const std::string name = prefix + it.key();
      if (!there.contains(it.key())) return fmt::format("{} is {} here but absent there", name, it.value().dump());
      const std::string d = first_difference(it.value(), there.at(it.key()), name + ".");
      if (!d.empty()) return d;
    }
    for (auto it = there.begin(); it != there.end(); ++it) {
      if (!here.contains(it.key())) return fmt::format("{}{} is absent here but {} there", prefix, it.key(), it.value().dump());
    }
    return "";
  }
  if (here == there) return "";
  const std::string name = prefix.empty() ? "value" : prefix.substr(0, prefix.size() - 1);
  return fmt::format("{} is {} here but {} there", name, here.dump(), there.dump());
}

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

void write_json_file(const std::string& path, const json& value) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '{}': check that the folder exists and is writable", partial);
    out << value.dump(2) << "\n";
    if (!out) fail("writing '{}' failed (disk full?)", partial);
  }
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) fail("cannot rename '{}' to '{}': {}", partial, path, ec.message());
}

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("'{}' not found or unreadable", path);
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    fail("'{}' is not valid JSON: {}", path, e.what());
  }
}

ConfigFolder::ConfigFolder(const std::string& dir, const json& identity, const json& run_info)
    : dir_(dir), identity_(identity) {
  const std::string config_path = (fs::path(dir) / "config.json").string();
  if (fs::exists(dir)) {
    if (!fs::is_directory(dir)) fail("results path '{}' exists and is not a folder; use another --out", dir);
    if (!fs::exists(config_path)) {
      if (!fs::is_empty(dir)) {
        fail("results folder '{}' exists without config.json, so it is not an eval folder; move it away or use another "
             "--out",
             dir);
      }
    } else {
      json stored = read_json_file(config_path);
      stored.erase("run");
      const std::string difference = first_difference(identity_, stored);
      if (!difference.empty()) {
        fail("results folder '{}' holds a different configuration ({}); use another --out or move that folder away", dir,
             difference);
      }
      load_predictions();
    }
  }
  fs::create_directories(dir);
  json config = identity_;
  config["run"] = run_info;
  write_json_file(config_path, config);
  const std::string predictions = (fs::path(dir) / "predictions.jsonl").string();
  out_ = std::make_unique<std::ofstream>(predictions, std::ios::binary | std::ios::app);
  if (!*out_) fail("cannot open '{}' for appending", predictions);
}

void ConfigFolder::load_predictions() {
  const std::string path = (fs::path(dir_) / "predictions.jsonl").string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string content = buffer.str();
  in.close();
  // A run killed while writing leaves a last line without its newline: drop that line only.
  if (!content.empty() && content.back() != '\n') {
    const size_t keep = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
    spdlog::warn("{}: dropping an incomplete last line ({} bytes) left by an interrupted run", path, content.size() - keep);
    content.resize(keep);
    fs::resize_file(path, keep);
  }
  std::istringstream lines(content);
  std::string line;
  int line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.empty()) continue;
    json record;
    try {
      record = json::parse(line);
    } catch (const json::parse_error& e) {
      fail("{}:{}: invalid JSON ({}); fix or remove that line to resume", path, line_number, e.what());
    }
    if (!record.is_object() || !record.contains("id") || !record["id"].is_string()) {
      fail("{}:{}: a prediction needs a string \"id\"; fix or remove that line to resume", path, line_number);
    }
    const std::string id = record["id"].get<std::string>();
    records_[id] = std::move(record);
  }
}

const json& ConfigFolder::record(const std::string& id) const {
  auto it = records_.find(id);
  if (it == records_.end()) fail("no prediction for sample {} in '{}'", id, dir_);
  return it->second;
}

void ConfigFolder::append(const json& record) {
  const std::string id = record.at("id").get<std::string>();
  LKV_CHECK(!has(id));
  *out_ << record.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  out_->flush();
  if (!*out_) fail("writing a prediction to '{}' failed (disk full?)", dir_);
  records_[id] = record;
}

json ConfigFolder::write_metrics(const std::vector<std::string>& ids) const {
  std::vector<double> scores, rouge, exact, prefix;
  std::map<std::string, std::vector<double>> timings;
  std::set<std::string> metrics;
  int missing = 0;
  for (const std::string& id : ids) {
    auto it = records_.find(id);
    if (it == records_.end()) {
      ++missing;
      continue;
    }
    const json& r = it->second;
    scores.push_back(r.value("score", 0.0));
    if (r.contains("metric")) metrics.insert(r["metric"].get<std::string>());
    const json& f = r.at("fidelity");
    rouge.push_back(f.value("rouge_l", 0.0));
    exact.push_back(f.value("exact", false) ? 1.0 : 0.0);
    prefix.push_back(f.value("common_prefix", 0.0));
    if (r.contains("timings_ms")) {
      for (auto t = r["timings_ms"].begin(); t != r["timings_ms"].end(); ++t) {
        if (t.value().is_number()) timings[t.key()].push_back(t.value().get<double>());
      }
    }
  }
  json m;
  m["model"] = identity_.value("model", "");
  m["task"] = identity_.value("task", "");
  m["policy"] = identity_.value("policy_spec", "");
  if (identity_.contains("policy") && identity_["policy"].contains("budget")) m["budget"] = identity_["policy"]["budget"];
  m["metrics"] = metrics;
  m["n"] = scores.size();
  m["requested"] = ids.size();
  m["complete"] = missing == 0;
  m["score"] = 100.0 * mean_of(scores);
  m["fidelity"] = {{"rouge_l", 100.0 * mean_of(rouge)},
                   {"exact_match", 100.0 * mean_of(exact)},
                   {"common_prefix_tokens", mean_of(prefix)}};
  json mean_timings = json::object();
  for (const auto& [name, values] : timings) mean_timings[name] = mean_of(values);
  m["mean_timings_ms"] = mean_timings;
  write_json_file((fs::path(dir_) / "metrics.json").string(), m);
  return m;
}

}  // namespace lkv::eval
