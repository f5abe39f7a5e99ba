// libFuzzer target for the GGUF reader (built with -DLKV_FUZZ=ON; run by scripts/fuzz_gguf.sh).
//
// Any input must either parse or throw lkv::Error. Other exceptions (std::bad_alloc from an
// unchecked count, std::length_error) escape and libFuzzer reports them as crashes, and
// AddressSanitizer catches reads outside the input. After a successful parse the target reads the
// first and last byte of every tensor and runs the getters on every key, as a loader would.
//
// With LKV_FUZZ_WRITE_SEEDS=DIR in the environment the target first writes a small seed corpus
// built with gguf::Writer into DIR.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gguf/describe.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "util/error.h"

namespace {

using lkv::GgmlType;
using lkv::gguf::Writer;

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  return bytes;
}

// Small valid files that together use every value type, several tensor types and alignments.
std::vector<std::vector<uint8_t>> seed_images() {
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(Writer().to_bytes());

  Writer scalars;
  scalars.add_u8("a.u8", 1);
  scalars.add_i8("a.i8", -1);
  scalars.add_u16("a.u16", 2);
  scalars.add_i16("a.i16", -2);
  scalars.add_u32("a.u32", 3);
  scalars.add_i32("a.i32", -3);
  scalars.add_f32("a.f32", 0.5f);
  scalars.add_bool("a.bool", true);
  scalars.add_string("a.string", "text");
  scalars.add_u64("a.u64", 4);
  scalars.add_i64("a.i64", -4);
  scalars.add_f64("a.f64", 0.25);
  seeds.push_back(scalars.to_bytes());

  Writer arrays;
  const std::vector<uint8_t> u8 = {1, 2};
  const std::vector<int32_t> i32 = {4, 4, 8};
  const std::vector<float> f32 = {0.5f, 1.5f};
  const std::vector<uint64_t> u64 = {9};
  arrays.add_array("b.u8", u8);
  arrays.add_array("b.i32", i32);
  arrays.add_array("b.f32", f32);
  arrays.add_array("b.u64", u64);
  arrays.add_bool_array("b.bool", {true, false});
  arrays.add_string_array("b.strings", {"<s>", "", "the"});
  seeds.push_back(arrays.to_bytes());

  Writer model;
  model.add_string("general.architecture", "llama");
  model.add_u32("llama.block_count", 1);
  model.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
  model.add_tensor_bytes("token_embd.weight", {32, 2}, GgmlType::Q8_0, pattern(68));
  model.add_tensor_bytes("output_norm.weight", {4}, GgmlType::F32, pattern(16));
  model.add_tensor_bytes("blk.0.ffn_down.weight", {256, 1}, GgmlType::Q4_K, pattern(144));
  seeds.push_back(model.to_bytes());

  Writer aligned;
  aligned.set_alignment(64);
  aligned.add_tensor_bytes("x", {2, 2, 2}, GgmlType::F16, pattern(16));
  aligned.add_tensor_bytes("y", {32}, GgmlType::Q5_0, pattern(22));
  seeds.push_back(aligned.to_bytes());
  return seeds;
}

void write_seeds(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto seeds = seed_images();
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream f(dir + "/seed_" + std::to_string(i) + ".gguf", std::ios::binary);
    f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
  }
}

void exercise(const lkv::gguf::File& file) {
  volatile uint8_t sink = 0;
  for (const auto& t : file.tensors()) {
    sink = sink + t.data[0] + t.data[t.n_bytes - 1];
  }
  for (const auto& key : file.keys()) {
    // Each getter may reject the type; only lkv::Error is acceptable.
    try { (void)file.get_u32(key); } catch (const lkv::Error&) {}
    try { (void)file.get_i64(key); } catch (const lkv::Error&) {}
    try { (void)file.get_f32(key); } catch (const lkv::Error&) {}
    try { (void)file.get_u32_per_layer(key, 3); } catch (const lkv::Error&) {}
    try { (void)file.get_string_array(key); } catch (const lkv::Error&) {}
  }
  (void)lkv::gguf::describe(file);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (const char* dir = std::getenv("LKV_FUZZ_WRITE_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<lkv::gguf::File> file;
  try {
    file = lkv::gguf::File::from_memory(data, size, "fuzz-input");
  } catch (const lkv::Error&) {
    return 0;
  }
  exercise(*file);
  return 0;
}
