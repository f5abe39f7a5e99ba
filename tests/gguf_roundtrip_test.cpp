// Writer → reader round trips: every metadata value type, every weight type, alignment, version 2,
// files on disk, and the typed getters' conversions and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "gguf/describe.h"
#include "gguf_test_util.h"
#include "tensor/quantize.h"

namespace lkv::gguf::test {
namespace {

std::unique_ptr<File> parse(const std::vector<uint8_t>& image) {
  return File::from_memory(image.data(), image.size(), "roundtrip.gguf");
}

// Expects `fn` to throw an lkv::Error whose message contains `fragment`.
template <typename Fn>
void expect_error(Fn&& fn, std::string_view fragment) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(GgufRoundTrip, EveryScalarType) {
  Writer w;
  w.add_u8("v.u8", 250);
  w.add_i8("v.i8", -100);
  w.add_u16("v.u16", 65000);
  w.add_i16("v.i16", -30000);
  w.add_u32("v.u32", 4000000000u);
  w.add_i32("v.i32", -2000000000);
  w.add_f32("v.f32", 1.5f);
  w.add_bool("v.true", true);
  w.add_bool("v.false", false);
  w.add_string("v.string", "line one\nzwei \xe2\x96\x81");
  w.add_string("v.empty", "");
  w.add_u64("v.u64", (uint64_t{1} << 63) + 5);
  w.add_i64("v.i64", std::numeric_limits<int64_t>::min());
  w.add_f64("v.f64", -2.25e300);
  const auto image = w.to_bytes();
  const auto f = parse(image);

  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_TRUE(f->tensors().empty());
  const std::vector<std::string> order = {"v.u8",  "v.i8",    "v.u16",    "v.i16",  "v.u32",
                                          "v.i32", "v.f32",   "v.true",   "v.false", "v.string",
                                          "v.empty", "v.u64", "v.i64",    "v.f64"};
  EXPECT_EQ(f->keys(), order);

  EXPECT_EQ(f->find("v.u8")->type, ValueType::UINT8);
  EXPECT_EQ(f->find("v.u8")->u64, 250u);
  EXPECT_EQ(f->find("v.i8")->type, ValueType::INT8);
  EXPECT_EQ(f->find("v.i8")->i64, -100);
  EXPECT_EQ(f->find("v.u16")->u64, 65000u);
  EXPECT_EQ(f->find("v.i16")->i64, -30000);
  EXPECT_EQ(f->find("v.u32")->u64, 4000000000u);
  EXPECT_EQ(f->find("v.i32")->i64, -2000000000);
  EXPECT_EQ(f->find("v.f32")->type, ValueType::FLOAT32);
  EXPECT_EQ(f->find("v.f32")->f64, 1.5);
  EXPECT_EQ(f->find("v.true")->type, ValueType::BOOL);
  EXPECT_TRUE(f->get_bool("v.true"));
  EXPECT_FALSE(f->get_bool("v.false"));
  EXPECT_EQ(f->get_string("v.string"), "line one\nzwei \xe2\x96\x81");
  EXPECT_EQ(f->get_string("v.empty"), "");
  EXPECT_EQ(f->get_u64("v.u64"), (uint64_t{1} << 63) + 5);
  EXPECT_EQ(f->get_i64("v.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->find("v.f64")->type, ValueType::FLOAT64);
  EXPECT_EQ(f->find("v.f64")->f64, -2.25e300);

  EXPECT_TRUE(f->find("v.u8")->is_integer());
  EXPECT_TRUE(f->find("v.i64")->is_integer());
  EXPECT_FALSE(f->find("v.f32")->is_integer());
  EXPECT_TRUE(f->find("v.f64")->is_float());
  EXPECT_FALSE(f->find("v.true")->is_integer());
}

TEST(GgufRoundTrip, EveryArrayType) {
  Writer w;
  const std::vector<uint8_t> u8 = {0, 1, 255};
  const std::vector<int8_t> i8 = {-128, 0, 127};
  const std::vector<uint16_t> u16 = {0, 65535};
  const std::vector<int16_t> i16 = {-32768, 32767};
  const std::vector<uint32_t> u32 = {0, 4294967295u};
  const std::vector<int32_t> i32 = {std::numeric_limits<int32_t>::min(), 7};
  const std::vector<float> f32 = {0.5f, -1e30f, 3.25f};
  const std::vector<uint64_t> u64 = {uint64_t{1} << 53, 3};  // exact as double
  const std::vector<int64_t> i64 = {-(int64_t{1} << 53), 9};
  const std::vector<double> f64 = {1e-300, -0.0};
  const std::vector<uint32_t> empty;
  w.add_array("a.u8", u8);
  w.add_array("a.i8", i8);
  w.add_array("a.u16", u16);
  w.add_array("a.i16", i16);
  w.add_array("a.u32", u32);
  w.add_array("a.i32", i32);
  w.add_array("a.f32", f32);
  w.add_array("a.u64", u64);
  w.add_array("a.i64", i64);
  w.add_array("a.f64", f64);
  w.add_array("a.empty", empty);
  w.add_bool_array("a.bool", {true, false, true});
  w.add_string_array("a.str", {"<s>", "", "\xe2\x96\x81the", std::string(300, 'x')});
  EXPECT_EQ(w.metadata_count(), 13u);
  const auto image = w.to_bytes();
  const auto f = parse(image);

  auto check = [&](const char* key, ValueType element, std::vector<double> expected) {
    SCOPED_TRACE(key);
    const Value* v = f->find(key);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->type, ValueType::ARRAY);
    EXPECT_EQ(v->array_type, element);
    EXPECT_EQ(v->array_size, expected.size());
    EXPECT_EQ(f->get_number_array(key), expected);
  };
  check("a.u8", ValueType::UINT8, {0, 1, 255});
  check("a.i8", ValueType::INT8, {-128, 0, 127});
  check("a.u16", ValueType::UINT16, {0, 65535});
  check("a.i16", ValueType::INT16, {-32768, 32767});
  check("a.u32", ValueType::UINT32, {0, 4294967295.0});
  check("a.i32", ValueType::INT32, {-2147483648.0, 7});
  check("a.f32", ValueType::FLOAT32, {0.5, static_cast<double>(-1e30f), 3.25});
  check("a.u64", ValueType::UINT64, {9007199254740992.0, 3});
  check("a.i64", ValueType::INT64, {-9007199254740992.0, 9});
  check("a.f64", ValueType::FLOAT64, {1e-300, -0.0});
  check("a.empty", ValueType::UINT32, {});
  check("a.bool", ValueType::BOOL, {1, 0, 1});
  const std::vector<std::string> strings = {"<s>", "", "\xe2\x96\x81the", std::string(300, 'x')};
  EXPECT_EQ(f->get_string_array("a.str"), strings);
  EXPECT_EQ(f->find("a.str")->array_size, 4u);
}

TEST(GgufRoundTrip, Getters) {
  Writer w;
  w.add_u64("big", uint64_t{1} << 40);
  w.add_i32("negative", -3);
  w.add_u8("small", 7);
  w.add_u64("huge", ~uint64_t{0});
  w.add_f32("ratio", 0.25f);
  w.add_string("name", "x");
  w.add_bool("flag", true);
  const std::vector<int32_t> heads = {4, 4, 8};
  w.add_array("heads", heads);
  const std::vector<float> floats = {1.5f, 2.0f, 3.0f};
  w.add_array("floats", floats);
  w.add_string_array("words", {"a"});
  const auto image = w.to_bytes();
  const auto f = parse(image);

  EXPECT_EQ(f->get_u32("small"), 7u);
  EXPECT_EQ(f->get_u64("big"), uint64_t{1} << 40);
  EXPECT_EQ(f->get_i64("negative"), -3);
  EXPECT_EQ(f->get_f32("small"), 7.0f);
  EXPECT_EQ(f->get_f32("ratio"), 0.25f);
  EXPECT_EQ(f->get_u32_opt("small"), 7u);
  EXPECT_EQ(f->get_u32_opt("absent"), std::nullopt);
  EXPECT_EQ(f->get_f32_opt("absent"), std::nullopt);
  EXPECT_EQ(f->get_bool_opt("flag"), true);
  EXPECT_EQ(f->get_string_opt("name"), "x");
  EXPECT_EQ(f->get_string_opt("absent"), std::nullopt);
  EXPECT_EQ(f->get_u32_per_layer("small", 3), (std::vector<uint32_t>{7, 7, 7}));
  EXPECT_EQ(f->get_u32_per_layer("heads", 3), (std::vector<uint32_t>{4, 4, 8}));

  expect_error([&] { f->get_u32("big"); }, "metadata key 'big' is 1099511627776, which does not fit in 32 bits");
  expect_error([&] { f->get_u64("negative"); }, "metadata key 'negative' is -3");
  expect_error([&] { f->get_i64("huge"); }, "metadata key 'huge'");
  expect_error([&] { f->get_string("small"); }, "metadata key 'small' has type UINT8, expected STRING");
  expect_error([&] { f->get_u32("ratio"); }, "metadata key 'ratio' has type FLOAT32, expected an integer");
  expect_error([&] { f->get_f32("name"); }, "metadata key 'name' has type STRING, expected a number");
  expect_error([&] { f->get_bool("small"); }, "expected BOOL");
  expect_error([&] { f->get_string("absent"); }, "roundtrip.gguf: metadata key 'absent' is missing");
  expect_error([&] { f->get_u32_opt("name"); }, "metadata key 'name' has type STRING");
  expect_error([&] { f->get_string_array("heads"); }, "has type ARRAY of INT32, expected ARRAY of STRING");
  expect_error([&] { f->get_number_array("words"); }, "has type ARRAY of STRING, expected ARRAY of numbers");
  expect_error([&] { f->get_u32_per_layer("heads", 4); }, "metadata key 'heads' has 3 entries, expected one per layer (4)");
  expect_error([&] { f->get_u32_per_layer("negative", 2); }, "metadata key 'negative' is -3");
  expect_error([&] { f->get_u32_per_layer("floats", 3); }, "metadata key 'floats' has type ARRAY of FLOAT32");
  expect_error([&] { f->tensor("nope"); }, "roundtrip.gguf: tensor 'nope' is missing");
  EXPECT_EQ(f->find_tensor("nope"), nullptr);
}

TEST(GgufRoundTrip, WriterRejectsBadInput) {
  Writer w;
  w.add_u32("k", 1);
  expect_error([&] { w.add_string("k", "again"); }, "metadata key 'k' was already added");
  expect_error([&] { w.add_u8("", 1); }, "metadata key is empty");
  expect_error([&] { w.set_alignment(24); }, "general.alignment is 24, expected a power of two");
  const std::vector<float> four(4, 1.0f);
  expect_error([&] { w.add_tensor("t", {5}, GgmlType::F32, four); }, "tensor 't' needs 5 values");
  expect_error([&] { w.add_tensor("t", {4, 0}, GgmlType::F32, four); }, "dimension 1 is 0");
  expect_error([&] { w.add_tensor("t", {1, 1, 1, 1, 4}, GgmlType::F32, four); }, "5 dimensions");
  expect_error([&] { w.add_tensor("t", {4}, GgmlType::Q8_0, four); }, "not a multiple of the Q8_0 block size 32");
  const std::vector<uint8_t> bytes(10);
  expect_error([&] { w.add_tensor_bytes("t", {4}, GgmlType::F32, bytes); }, "takes 16 bytes, got 10");
  w.add_tensor("t", {4}, GgmlType::F32, four);
  expect_error([&] { w.add_tensor("t", {4}, GgmlType::F32, four); }, "tensor 't' was already added");
  expect_error([&] { w.add_tensor("", {4}, GgmlType::F32, four); }, "tensor name is empty");
}

// Deterministic values with a spread of magnitudes and signs.
std::vector<float> test_values(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7)) * 0.1f;
  }
  return v;
}

struct WeightCase {
  GgmlType type;
  double max_relative_rms;  // dequantization error bound relative to the RMS of the input; < 0: no decoder
};

TEST(GgufRoundTrip, EveryWeightType) {
  // Bounds are loose: this test checks that bytes survive the file, not quantizer quality.
  const std::vector<WeightCase> encoded = {
      {GgmlType::F32, 0.0},   {GgmlType::F16, 1e-3},  {GgmlType::BF16, 1e-2}, {GgmlType::Q4_0, 0.25},
      {GgmlType::Q4_1, 0.25}, {GgmlType::Q5_0, 0.15}, {GgmlType::Q5_1, 0.15}, {GgmlType::Q8_0, 0.02},
      {GgmlType::Q4_K, 0.25}, {GgmlType::Q5_K, 0.15}, {GgmlType::Q6_K, 0.08},
      // Activation formats: quantize_row encodes them, and the file must carry them all the same.
      {GgmlType::Q8_1, -1.0}, {GgmlType::Q8_K, -1.0},
  };
  // quantize_row has no encoder for these, so they are stored as raw bytes.
  const std::vector<GgmlType> raw = {GgmlType::Q2_K, GgmlType::Q3_K};
  const std::vector<int64_t> shape = {512, 3};
  const std::vector<float> values = test_values(512 * 3);

  Writer w;
  for (const auto& c : encoded) {
    w.add_tensor(fmt::format("w.{}", type_traits(c.type).name), shape, c.type, values);
  }
  std::vector<std::vector<uint8_t>> raw_bytes;
  for (const GgmlType type : raw) {
    auto& bytes = raw_bytes.emplace_back(row_size(type, 512) * 3);
    for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<uint8_t>(k * 13 + 5);
    w.add_tensor_bytes(fmt::format("w.{}", type_traits(type).name), shape, type, bytes);
  }
  const auto image = w.to_bytes();
  const auto f = parse(image);
  ASSERT_EQ(f->tensors().size(), encoded.size() + raw.size());

  double rms = 0.0;
  for (const float x : values) rms += static_cast<double>(x) * x;
  rms = std::sqrt(rms / static_cast<double>(values.size()));

  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const bool is_raw = i >= encoded.size();
    const GgmlType type = is_raw ? raw[i - encoded.size()] : encoded[i].type;
    const TensorInfo& t = f->tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, fmt::format("w.{}", type_traits(type).name));
    EXPECT_EQ(t.type, type);
    EXPECT_EQ(t.type_id, static_cast<uint32_t>(type));
    EXPECT_EQ(t.shape, shape);
    EXPECT_EQ(t.n_elements(), 512 * 3);
    EXPECT_EQ(t.ne(0), 512);
    EXPECT_EQ(t.ne(1), 3);
    EXPECT_EQ(t.ne(3), 1);
    const size_t row = row_size(type, 512);
    ASSERT_EQ(t.n_bytes, row * 3);
    EXPECT_EQ(t.offset % f->alignment(), 0u);
    EXPECT_EQ(&f->tensor(t.name), &t);

    if (is_raw) {
      EXPECT_EQ(std::memcmp(t.data, raw_bytes[i - encoded.size()].data(), t.n_bytes), 0);
      continue;
    }
    // The stored bytes are exactly what quantize_row produces for each row.
    std::vector<uint8_t> expected(row * 3);
    for (int r = 0; r < 3; ++r) quantize_row(type, values.data() + r * 512, expected.data() + r * row, 512);
    EXPECT_EQ(std::memcmp(t.data, expected.data(), expected.size()), 0);

    if (encoded[i].max_relative_rms < 0) continue;
    std::vector<float> decoded(512 * 3);
    for (int r = 0; r < 3; ++r) dequantize_row(type, t.data + r * row, decoded.data() + r * 512, 512);
    double err = 0.0;
    for (size_t k = 0; k < values.size(); ++k) {
      const double d = static_cast<double>(decoded[k]) - values[k];
      err += d * d;
    }
    err = std::sqrt(err / static_cast<double>(values.size()));
    EXPECT_LE(err, encoded[i].max_relative_rms * rms + 1e-12) << "relative RMS error " << err / rms;
  }
}

TEST(GgufRoundTrip, RawBytesAndShapes) {
  Writer w;
  std::vector<uint8_t> bytes(2 * 3 * 4 * 5 * 2);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  w.add_tensor_bytes("four_d", {2, 3, 4, 5}, GgmlType::F16, bytes);
  const std::vector<float> one = {42.0f};
  w.add_tensor("scalar_like", {1}, GgmlType::F32, one);
  std::vector<uint8_t> q(210 * 2, 0xab);
  w.add_tensor_bytes("q6", {256, 1, 2}, GgmlType::Q6_K, q);
  EXPECT_EQ(w.tensor_count(), 3u);
  const auto image = w.to_bytes();
  const auto f = parse(image);

  const TensorInfo& a = f->tensor("four_d");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(a.n_bytes, bytes.size());
  EXPECT_EQ(std::memcmp(a.data, bytes.data(), bytes.size()), 0);
  const TensorInfo& b = f->tensor("scalar_like");
  EXPECT_EQ(b.offset, 256u);  // 240 bytes of four_d padded to 32
  float x = 0;
  std::memcpy(&x, b.data, 4);
  EXPECT_EQ(x, 42.0f);
  const TensorInfo& c = f->tensor("q6");
  EXPECT_EQ(c.shape, (std::vector<int64_t>{256, 1, 2}));
  EXPECT_EQ(c.n_bytes, 420u);
  EXPECT_EQ(c.data[419], 0xab);
  // data_start is aligned and every tensor starts on the alignment relative to the image.
  for (const auto& t : f->tensors()) EXPECT_EQ((t.data - f->bytes()) % 32, 0) << t.name;
}

TEST(GgufRoundTrip, CustomAlignment) {
  for (const uint32_t alignment : {1u, 8u, 64u, 4096u}) {
    SCOPED_TRACE(alignment);
    Writer w;
    w.set_alignment(alignment);
    EXPECT_EQ(w.alignment(), alignment);
    const std::vector<float> a(3, 1.0f);
    const std::vector<float> b(5, 2.0f);
    w.add_tensor("a", {3}, GgmlType::F32, a);
    w.add_tensor("b", {5}, GgmlType::F32, b);
    const auto image = w.to_bytes();
    const auto f = parse(image);
    EXPECT_EQ(f->alignment(), alignment);
    EXPECT_EQ(f->get_u32("general.alignment"), alignment);
    const TensorInfo& tb = f->tensor("b");
    EXPECT_EQ(tb.offset, (12 + alignment - 1) / alignment * alignment);  // a takes 12 bytes
    for (const auto& t : f->tensors()) EXPECT_EQ((t.data - f->bytes()) % alignment, 0) << t.name;
    float x = 0;
    std::memcpy(&x, tb.data + 16, 4);
    EXPECT_EQ(x, 2.0f);
  }
}

TEST(GgufRoundTrip, Version2) {
  auto image = build_sample();
  poke<uint32_t>(image, kVersionAt, 2);
  const auto f = parse(image);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->tensors().size(), 3u);
}

TEST(GgufRoundTrip, NoTensorsNoMetadata) {
  const auto image = Writer().to_bytes();
  EXPECT_EQ(image.size(), 24u);
  const auto f = parse(image);
  EXPECT_TRUE(f->metadata().empty());
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufRoundTrip, FileOnDisk) {
  const std::string path = temp_path("sample.gguf");
  Writer w;
  w.add_string("general.architecture", "llama");
  const std::vector<float> values = test_values(64);
  w.add_tensor("token_embd.weight", {32, 2}, GgmlType::Q8_0, values);
  w.write_file(path);
  {
    const auto f = File::open(path);
    EXPECT_EQ(f->path(), path);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->tensor("token_embd.weight").type, GgmlType::Q8_0);
    EXPECT_EQ(f->file_size(), w.to_bytes().size());
    std::vector<float> row(32);
    dequantize_row(GgmlType::Q8_0, f->tensor("token_embd.weight").data, row.data(), 32);
    EXPECT_NEAR(row[5], values[5], 0.01);
  }
  std::remove(path.c_str());
  expect_error([&] { w.write_file("/nonexistent-dir/x.gguf"); }, "/nonexistent-dir/x.gguf: cannot create file");
}

TEST(GgufDescribe, ListsMetadataAndTensors) {
  Writer w;
  w.add_string("general.architecture", "tiny");
  w.add_string("tokenizer.chat_template", "{% for m in messages %}\n" + std::string(200, 'y'));
  std::vector<uint32_t> ids(100);
  for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  w.add_array("tokenizer.ids", ids);
  w.add_string_array("tokenizer.ggml.tokens", {"<pad>", "<eos>", "\n"});
  w.add_f32("scale", 0.1f);
  w.add_bool("flag", false);
  const std::vector<float> v(64, 0.5f);
  w.add_tensor("blk.0.attn_q.weight", {32, 2}, GgmlType::Q8_0, v);
  w.add_tensor("output_norm.weight", {64}, GgmlType::F32, v);
  const auto image = w.to_bytes();
  const auto f = parse(image);
  const std::string text = describe(*f);
  std::printf("%s", text.c_str());
  EXPECT_NE(text.find("GGUF v3"), std::string::npos);
  EXPECT_NE(text.find("general.architecture (STRING) = \"tiny\""), std::string::npos);
  EXPECT_NE(text.find("tokenizer.chat_template (STRING) = \"{% for m in messages %}\\nyyy"), std::string::npos);
  EXPECT_NE(text.find("(224 bytes)"), std::string::npos);
  EXPECT_NE(text.find("tokenizer.ids (UINT32[100]) = [0, 1, 2, 3, 4, 5, 6, 7, ... 92 more]"), std::string::npos);
  EXPECT_NE(text.find("[\"<pad>\", \"<eos>\", \"\\n\"]"), std::string::npos);
  EXPECT_NE(text.find("scale (FLOAT32) = 0.1\n"), std::string::npos);
  EXPECT_NE(text.find("flag (BOOL) = false"), std::string::npos);
  EXPECT_NE(text.find("blk.0.attn_q.weight Q8_0 [32, 2] 68 bytes at +0"), std::string::npos);
  EXPECT_NE(text.find("output_norm.weight F32 [64] 256 bytes at +96"), std::string::npos);
  EXPECT_NE(text.find("tensor types: F32 1, Q8_0 1"), std::string::npos);
  EXPECT_EQ(type_histogram(*f), (std::map<std::string, size_t>{{"F32", 1}, {"Q8_0", 1}}));
}

}  // namespace
}  // namespace lkv::gguf::test
