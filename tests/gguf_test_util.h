// Helpers shared by the GGUF tests: a small valid image with known names, and functions that find
// and overwrite fields in it so each test can damage exactly one thing.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "util/error.h"

namespace lkv::gguf::test {

// Byte offsets inside the fixed 24-byte header.
constexpr size_t kVersionAt = 4;
constexpr size_t kTensorCountAt = 8;
constexpr size_t kKvCountAt = 16;

// Tensor names of build_sample(); "tensor.one" and "tensor.two" have the same length so one can be
// renamed into the other.
constexpr const char* kTensorOne = "tensor.one";  // F32 [8, 2]
constexpr const char* kTensorTwo = "tensor.two";  // Q8_0 [64, 2]
constexpr const char* kTensorLast = "tensor.last";  // Q4_K [256, 2], stored last

// A valid GGUF image with alignment 32, a few keys of different types and three tensors whose
// bytes are a fixed pattern (the reader never decodes them).
inline std::vector<uint8_t> build_sample() {
  Writer w;
  w.add_string("general.architecture", "tiny");
  w.set_alignment(32);
  w.add_bool("test.flag", true);
  w.add_string("test.name", "sample model");
  const std::vector<uint32_t> values = {1, 2, 3};
  w.add_array("test.values", values);
  w.add_u32("test.dup_a", 1);
  w.add_u32("test.dup_b", 2);
  w.add_string_array("test.words", {"a", "bb"});
  auto pattern = [](size_t n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    return bytes;
  };
  w.add_tensor_bytes(kTensorOne, {8, 2}, GgmlType::F32, pattern(8 * 2 * 4));
  w.add_tensor_bytes(kTensorTwo, {64, 2}, GgmlType::Q8_0, pattern(2 * 2 * 34));
  w.add_tensor_bytes(kTensorLast, {256, 2}, GgmlType::Q4_K, pattern(2 * 144));
  return w.to_bytes();
}

// Offset of the only occurrence of `needle`; fails the test when it is absent or repeated.
inline size_t find_unique(const std::vector<uint8_t>& image, std::string_view needle) {
  size_t found = SIZE_MAX;
  for (size_t i = 0; i + needle.size() <= image.size(); ++i) {
    if (std::memcmp(image.data() + i, needle.data(), needle.size()) == 0) {
      EXPECT_EQ(found, SIZE_MAX) << "'" << needle << "' occurs more than once";
      found = i;
    }
  }
  EXPECT_NE(found, SIZE_MAX) << "'" << needle << "' not found";
  return found;
}

template <typename T>
void poke(std::vector<uint8_t>& image, size_t at, T value) {
  ASSERT_LE(at + sizeof(T), image.size());
  std::memcpy(image.data() + at, &value, sizeof(T));
}

template <typename T>
T peek(const std::vector<uint8_t>& image, size_t at) {
  T value{};
  EXPECT_LE(at + sizeof(T), image.size());
  if (at + sizeof(T) <= image.size()) std::memcpy(&value, image.data() + at, sizeof(T));
  return value;
}

// Offset of the u32 value type that follows `key` (the value itself starts 4 bytes later).
inline size_t value_type_at(const std::vector<uint8_t>& image, std::string_view key) {
  return find_unique(image, key) + key.size();
}

// Field offsets of one tensor info, found by its name.
struct TensorInfoAt {
  size_t n_dims;
  size_t dims;  // ne[0]; ne[d] is at dims + 8 * d
  size_t type;
  size_t offset;
};

inline TensorInfoAt tensor_info_at(const std::vector<uint8_t>& image, std::string_view name) {
  TensorInfoAt at{};
  at.n_dims = find_unique(image, name) + name.size();
  const auto n_dims = peek<uint32_t>(image, at.n_dims);
  at.dims = at.n_dims + 4;
  at.type = at.dims + 8 * n_dims;
  at.offset = at.type + 4;
  return at;
}

// Parses the image and returns the error message, or "" when it parses.
inline std::string parse_error(const std::vector<uint8_t>& image, const std::string& label = "broken.gguf") {
  try {
    File::from_memory(image.data(), image.size(), label);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Unique path under the test temp directory.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "lkv_gguf_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace lkv::gguf::test
