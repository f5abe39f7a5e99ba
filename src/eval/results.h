// One configuration's results folder: config.json, predictions.jsonl and metrics.json.
//
// config.json contains the configuration's identity (model, data, task, policy and its parameters,
// prompt mode, context, generation limit, adapter) at the top level, and facts that may change
// between runs of the same configuration (requested samples, threads, start time) under "run".
// predictions.jsonl gets one line per finished sample, flushed as soon as it is written, so an
// interrupted run loses at most the sample in progress. metrics.json is rewritten from the
// predictions after each run.
//
// Rules: a folder whose config.json has the same identity is resumed (finished samples are
// skipped); a folder with another identity, or without config.json, is an error that names it.
// Nothing in an existing folder is deleted, except a last prediction line cut off by a crash.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace lkv::eval {

class ConfigFolder {
 public:
  // Creates the folder with config.json, or reopens it after checking its identity. Throws
  // lkv::Error naming the folder and the first differing field when the identity differs.
  ConfigFolder(const std::string& dir, const nlohmann::json& identity, const nlohmann::json& run_info);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& identity() const { return identity_; }
  bool has(const std::string& id) const { return records_.count(id) != 0; }
  // The stored prediction of a sample; throws when absent.
  const nlohmann::json& record(const std::string& id) const;
  size_t size() const { return records_.size(); }

  // Appends one prediction (it must have a string "id" not yet stored) and flushes it to disk.
  void append(const nlohmann::json& record);

  // Writes metrics.json over the predictions of `ids` that exist: the mean score and fidelity
  // (×100), mean timings, and whether every id has a prediction. Returns the written object.
  nlohmann::json write_metrics(const std::vector<std::string>& ids) const;

 private:
  void load_predictions();

  std::string dir_;
  nlohmann::json identity_;
  std::map<std::string, nlohmann::json> records_;
  std::unique_ptr<std::ofstream> out_;
};

// Writes `value` to `path` through a temporary file and a rename, so readers never see half a file.
void write_json_file(const std::string& path, const nlohmann::json& value);

// Reads a JSON file; throws lkv::Error naming the path when it is missing or invalid.
nlohmann::json read_json_file(const std::string& path);

}  // namespace lkv::eval
