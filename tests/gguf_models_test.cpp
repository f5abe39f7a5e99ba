// Opens the real model files from models/ (installed by scripts/fetch_models.sh; skipped when
// absent) and checks counts against an independent listing of the same files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "gguf/describe.h"
#include "gguf/reader.h"
#include "util/timer.h"

namespace lkv::gguf {
namespace {

struct ModelExpectation {
  const char* file;
  const char* architecture;
  size_t n_metadata;
  size_t n_tensors;
  uint32_t block_count;
  size_t n_tokens;
  std::map<std::string, size_t> histogram;
};

// Counts from a separate Python listing of the files whose SHA-256 scripts/fetch_models.sh checks.
const ModelExpectation kGemma = {
    "gemma-3-270m-q4_k_m.gguf", "gemma3", 33, 236, 18, 262144,
    {{"F32", 109}, {"Q4_K", 27}, {"Q5_0", 81}, {"Q6_K", 9}, {"Q8_0", 10}}};
const ModelExpectation kSmol = {
    "SmolLM2-135M-Instruct.Q4_1.gguf", "llama", 33, 272, 30, 49152,
    {{"F32", 61}, {"Q4_1", 210}, {"Q8_0", 1}}};

void check_model(const ModelExpectation& m) {
  const std::string path = std::string(LKV_SOURCE_DIR) + "/models/" + m.file;
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " absent; run scripts/fetch_models.sh";
  const Timer timer;
  const auto f = File::open(path);
  const double open_ms = timer.elapsed_ms();

  const std::string arch = f->get_string("general.architecture");
  const auto histogram = type_histogram(*f);
  std::string listing;
  for (const auto& [type, count] : histogram) listing += fmt::format(" {}={}", type, count);
  std::printf("  %s: architecture %s, GGUF v%u, %zu metadata entries, %zu tensors:%s (opened in "
              "%.1f ms)\n",
              m.file, arch.c_str(), f->version(), f->metadata().size(), f->tensors().size(),
              listing.c_str(), open_ms);

  EXPECT_EQ(arch, m.architecture);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->metadata().size(), m.n_metadata);
  EXPECT_EQ(f->keys().size(), m.n_metadata);
  EXPECT_EQ(f->tensors().size(), m.n_tensors);
  EXPECT_EQ(histogram, m.histogram);
  EXPECT_EQ(f->get_u32(arch + ".block_count"), m.block_count);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens").size(), m.n_tokens);

  // Tensors lie inside the file, in order and without overlap, as llama.cpp writes them.
  uint64_t end = 0;
  for (const auto& t : f->tensors()) {
    EXPECT_GE(t.offset, end) << t.name;
    end = t.offset + t.n_bytes;
    EXPECT_LE(static_cast<size_t>(t.data - f->bytes()) + t.n_bytes, f->file_size()) << t.name;
  }
  EXPECT_NE(f->find_tensor("token_embd.weight"), nullptr);
  const std::string text = describe(*f);
  EXPECT_NE(text.find("token_embd.weight"), std::string::npos);
}

TEST(GgufModels, Gemma3) {
  check_model(kGemma);
  const std::string path = std::string(LKV_SOURCE_DIR) + "/models/" + kGemma.file;
  if (!std::filesystem::exists(path)) return;
  const auto f = File::open(path);
  // Gemma 3 270M: n_embd 640, 4 query heads of 256, weights stored as [in, out].
  EXPECT_EQ(f->tensor("token_embd.weight").shape, (std::vector<int64_t>{640, 262144}));
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight").shape, (std::vector<int64_t>{640, 1024}));
  EXPECT_EQ(f->get_u32("gemma3.embedding_length"), 640u);
  EXPECT_EQ(f->get_u32_per_layer("gemma3.attention.head_count", 18).size(), 18u);
}

TEST(GgufModels, SmolLM2) { check_model(kSmol); }

}  // namespace
}  // namespace lkv::gguf
