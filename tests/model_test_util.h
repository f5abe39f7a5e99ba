// Shared helpers for tests that need the real models in models/.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "model/model.h"

namespace lkv::test {

inline std::string source_path(const std::string& relative) { return std::string(LKV_SOURCE_DIR) + "/" + relative; }

inline const char* kGemmaPath = "models/gemma-3-270m-q4_k_m.gguf";
inline const char* kSmolPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

// Loads a real model once per process; nullptr when the file is absent (run scripts/fetch_models.sh).
inline const Model* real_model(const std::string& relative) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto it = cache.find(relative);
  if (it != cache.end()) return it->second.get();
  const std::string path = source_path(relative);
  std::unique_ptr<Model> model;
  if (std::filesystem::exists(path)) model = Model::load(path);
  return (cache[relative] = std::move(model)).get();
}

inline nlohmann::json read_json(const std::string& relative) {
  std::ifstream in(source_path(relative));
  if (!in) throw std::runtime_error("missing golden file " + relative);
  return nlohmann::json::parse(in);
}

}  // namespace lkv::test

#define LKV_REQUIRE_MODEL(var, relative)                                              \
  const ::lkv::Model* var = ::lkv::test::real_model(relative);                         \
  if (!var) GTEST_SKIP() << relative << " is absent; run scripts/fetch_models.sh"
