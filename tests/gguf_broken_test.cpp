// One damaged file per failure class of the GGUF reader. Each case starts from the valid sample,
// breaks one field and checks that the lkv::Error names the key or tensor and the bad value.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "gguf_test_util.h"

namespace lkv::gguf::test {
namespace {

// Parses the damaged image, expects an error containing every fragment and prints the message so
// the log shows what a user would read.
void expect_error(const std::vector<uint8_t>& image, std::initializer_list<std::string_view> fragments) {
  const std::string message = parse_error(image);
  ASSERT_FALSE(message.empty()) << "the damaged image parsed without error";
  for (const auto fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "message lacks '" << fragment << "': " << message;
  }
  std::printf("  [message] %s\n", message.c_str());
}

TEST(GgufBroken, SampleIsValid) {
  const auto image = build_sample();
  EXPECT_EQ(parse_error(image), "");
}

TEST(GgufBroken, WrongMagic) {
  auto image = build_sample();
  image[0] = 'X';
  expect_error(image, {"broken.gguf", "not a GGUF file", "'XGUF'"});
}

TEST(GgufBroken, Version1) {
  auto image = build_sample();
  poke<uint32_t>(image, kVersionAt, 1);
  expect_error(image, {"version 1 is no longer supported"});
}

TEST(GgufBroken, Version4) {
  auto image = build_sample();
  poke<uint32_t>(image, kVersionAt, 4);
  expect_error(image, {"version 4 is not supported", "expected 2 or 3"});
}

TEST(GgufBroken, BigEndianVersion) {
  auto image = build_sample();
  poke<uint32_t>(image, kVersionAt, 0x03000000);
  expect_error(image, {"big-endian"});
}

TEST(GgufBroken, TruncatedInHeader) {
  auto image = build_sample();
  image.resize(12);
  expect_error(image, {"header", "truncated", "tensor count"});
}

TEST(GgufBroken, TruncatedInMetadata) {
  auto image = build_sample();
  // Cut inside the bytes of the string value of test.name.
  image.resize(value_type_at(image, "test.name") + 4 + 8 + 3);
  expect_error(image, {"metadata key 'test.name'", "truncated"});
}

TEST(GgufBroken, TruncatedInMetadataArray) {
  auto image = build_sample();
  // Cut inside the second string of test.words.
  image.resize(value_type_at(image, "test.words") + 4 + 4 + 8 + 9 + 8 + 1);
  expect_error(image, {"metadata key 'test.words'", "array element 1", "truncated"});
}

TEST(GgufBroken, TruncatedInTensorInfos) {
  auto image = build_sample();
  image.resize(tensor_info_at(image, kTensorTwo).dims + 5);
  expect_error(image, {"tensor 'tensor.two'", "truncated", "dimension"});
}

TEST(GgufBroken, TruncatedInData) {
  auto image = build_sample();
  image.resize(image.size() - 100);
  expect_error(image, {"tensor 'tensor.last'", "extends past the end of the file", "truncated"});
}

TEST(GgufBroken, HugeMetadataCount) {
  auto image = build_sample();
  poke<uint64_t>(image, kKvCountAt, uint64_t{1} << 60);
  expect_error(image, {"metadata count is 1152921504606846976"});
}

TEST(GgufBroken, HugeTensorCount) {
  auto image = build_sample();
  poke<uint64_t>(image, kTensorCountAt, uint64_t{1} << 61);
  expect_error(image, {"tensor count is 2305843009213693952"});
}

TEST(GgufBroken, TensorCountLargerThanInfos) {
  auto image = build_sample();
  // Passes the header cap, so the reader runs into the padding and data while reading info 3.
  poke<uint64_t>(image, kTensorCountAt, 24);
  expect_error(image, {"tensor info 3 of 24"});
}

TEST(GgufBroken, HugeStringLength) {
  auto image = build_sample();
  poke<uint64_t>(image, value_type_at(image, "test.name") + 4, uint64_t{1} << 62);
  expect_error(image, {"metadata key 'test.name'", "4611686018427387904 bytes"});
}

TEST(GgufBroken, HugeArrayLength) {
  auto image = build_sample();
  poke<uint64_t>(image, value_type_at(image, "test.values") + 8, uint64_t{1} << 62);
  expect_error(image, {"metadata key 'test.values'", "array of 4611686018427387904 UINT32"});
}

TEST(GgufBroken, HugeKeyLength) {
  auto image = build_sample();
  poke<uint64_t>(image, find_unique(image, "test.flag") - 8, ~uint64_t{0});
  expect_error(image, {"metadata entry 2 of 8", "key length"});
}

TEST(GgufBroken, HugeTensorNameLength) {
  auto image = build_sample();
  poke<uint64_t>(image, find_unique(image, kTensorTwo) - 8, uint64_t{1} << 40);
  expect_error(image, {"tensor info 1 of 3", "name length"});
}

TEST(GgufBroken, OffsetPastEnd) {
  auto image = build_sample();
  poke<uint64_t>(image, tensor_info_at(image, kTensorTwo).offset, uint64_t{1} << 20);
  expect_error(image, {"tensor 'tensor.two'", "offset 1048576", "extends past the end of the file"});
}

TEST(GgufBroken, OffsetPlusSizeOverflows) {
  auto image = build_sample();
  // Aligned to 32, so the alignment check passes and the range check meets the wrap-around.
  poke<uint64_t>(image, tensor_info_at(image, kTensorTwo).offset, ~uint64_t{31});
  expect_error(image, {"tensor 'tensor.two'", "overflows 64 bits"});
}

TEST(GgufBroken, MisalignedOffset) {
  auto image = build_sample();
  const size_t at = tensor_info_at(image, kTensorTwo).offset;
  poke<uint64_t>(image, at, peek<uint64_t>(image, at) + 4);
  expect_error(image, {"tensor 'tensor.two'", "offset 68", "not a multiple of the alignment 32"});
}

TEST(GgufBroken, UnknownTensorType) {
  auto image = build_sample();
  poke<uint32_t>(image, tensor_info_at(image, kTensorTwo).type, 99);
  expect_error(image, {"tensor 'tensor.two'", "unknown tensor type id 99"});
}

TEST(GgufBroken, RetiredTensorType) {
  auto image = build_sample();
  poke<uint32_t>(image, tensor_info_at(image, kTensorOne).type, 4);  // the removed Q4_2
  expect_error(image, {"tensor 'tensor.one'", "unknown tensor type id 4"});
}

TEST(GgufBroken, ZeroDims) {
  auto image = build_sample();
  poke<uint32_t>(image, tensor_info_at(image, kTensorTwo).n_dims, 0);
  expect_error(image, {"tensor 'tensor.two'", "n_dims is 0", "expected 1 to 4"});
}

TEST(GgufBroken, FiveDims) {
  auto image = build_sample();
  poke<uint32_t>(image, tensor_info_at(image, kTensorTwo).n_dims, 5);
  expect_error(image, {"tensor 'tensor.two'", "n_dims is 5"});
}

TEST(GgufBroken, ZeroDimension) {
  auto image = build_sample();
  poke<uint64_t>(image, tensor_info_at(image, kTensorTwo).dims + 8, 0);
  expect_error(image, {"tensor 'tensor.two'", "dimension 1 is 0"});
}

TEST(GgufBroken, ElementCountOverflow) {
  auto image = build_sample();
  poke<uint64_t>(image, tensor_info_at(image, kTensorTwo).dims + 8, uint64_t{1} << 62);
  expect_error(image, {"tensor 'tensor.two'", "dimension 1 is 4611686018427387904", "overflow"});
}

TEST(GgufBroken, DimensionAboveInt64) {
  auto image = build_sample();
  poke<uint64_t>(image, tensor_info_at(image, kTensorOne).dims, ~uint64_t{0});
  expect_error(image, {"tensor 'tensor.one'", "dimension 0 is 18446744073709551615"});
}

TEST(GgufBroken, ByteSizeOverflow) {
  auto image = build_sample();
  // 2^62 F32 elements fit in 63 bits, but 2^64 bytes do not.
  poke<uint64_t>(image, tensor_info_at(image, kTensorOne).dims + 8, uint64_t{1} << 59);
  expect_error(image, {"tensor 'tensor.one'", "byte size that overflows 64 bits"});
}

TEST(GgufBroken, RowNotBlockMultiple) {
  auto image = build_sample();
  poke<uint64_t>(image, tensor_info_at(image, kTensorTwo).dims, 48);
  expect_error(image, {"tensor 'tensor.two'", "ne[0] = 48", "Q8_0 block size 32"});
}

TEST(GgufBroken, DuplicateKey) {
  auto image = build_sample();
  image[find_unique(image, "test.dup_b") + 9] = 'a';
  expect_error(image, {"metadata key 'test.dup_a'", "duplicate key"});
}

TEST(GgufBroken, DuplicateTensorName) {
  auto image = build_sample();
  const size_t at = find_unique(image, kTensorTwo);
  std::memcpy(image.data() + at, kTensorOne, std::strlen(kTensorOne));
  expect_error(image, {"tensor 'tensor.one'", "duplicate tensor name"});
}

TEST(GgufBroken, EmptyKey) {
  auto image = build_sample();
  // Shrink the key length of test.flag to 0; its bytes are then read as the value type.
  poke<uint64_t>(image, find_unique(image, "test.flag") - 8, 0);
  expect_error(image, {"metadata entry 2 of 8", "key is empty"});
}

TEST(GgufBroken, BadBool) {
  auto image = build_sample();
  poke<uint8_t>(image, value_type_at(image, "test.flag") + 4, 2);
  expect_error(image, {"metadata key 'test.flag'", "BOOL value is 2", "expected 0 or 1"});
}

TEST(GgufBroken, UnknownValueType) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "test.flag"), 13);
  expect_error(image, {"metadata key 'test.flag'", "unknown value type 13"});
}

TEST(GgufBroken, NestedArray) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "test.values") + 4, 9);
  expect_error(image, {"metadata key 'test.values'", "nested arrays"});
}

TEST(GgufBroken, UnknownArrayElementType) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "test.values") + 4, 77);
  expect_error(image, {"metadata key 'test.values'", "array element type is 77"});
}

TEST(GgufBroken, AlignmentNotPowerOfTwo) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "general.alignment") + 4, 48);
  expect_error(image, {"general.alignment", "is 48, expected a power of two"});
}

TEST(GgufBroken, AlignmentZero) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "general.alignment") + 4, 0);
  expect_error(image, {"general.alignment", "is 0, expected a power of two"});
}

TEST(GgufBroken, AlignmentWrongType) {
  auto image = build_sample();
  poke<uint32_t>(image, value_type_at(image, "general.alignment"), 5);  // INT32, same width
  expect_error(image, {"general.alignment", "has type INT32, expected UINT32"});
}

TEST(GgufBroken, EmptyImage) {
  const std::vector<uint8_t> image;
  try {
    File::from_memory(image.data(), 0, "empty.gguf");
    FAIL() << "an empty image parsed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.gguf: empty file"), std::string::npos) << e.what();
  }
}

TEST(GgufBroken, EmptyFile) {
  const std::string path = temp_path("empty.gguf");
  { std::ofstream f(path, std::ios::binary); }
  try {
    File::open(path);
    FAIL() << "an empty file opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": empty file"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(GgufBroken, MissingFile) {
  const std::string path = temp_path("does-not-exist.gguf");
  try {
    File::open(path);
    FAIL() << "a missing file opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": not found"), std::string::npos) << e.what();
  }
}

TEST(GgufBroken, Directory) {
  try {
    File::open(::testing::TempDir());
    FAIL() << "a directory opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(GgufBroken, TruncatedFileOnDisk) {
  auto image = build_sample();
  image.resize(image.size() - 100);
  const std::string path = temp_path("truncated.gguf");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
  }
  try {
    File::open(path);
    FAIL() << "a truncated file opened";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path + ": tensor 'tensor.last'"), std::string::npos) << message;
  }
  std::remove(path.c_str());
}

// Every prefix of the sample must fail cleanly: a check that reads before it tests would show up
// here under AddressSanitizer.
TEST(GgufBroken, EveryPrefixIsRejected) {
  const auto image = build_sample();
  for (size_t n = 1; n < image.size(); ++n) {
    const std::vector<uint8_t> prefix(image.begin(), image.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_NE(parse_error(prefix), "") << "prefix of " << n << " bytes parsed";
  }
}

}  // namespace
}  // namespace lkv::gguf::test
