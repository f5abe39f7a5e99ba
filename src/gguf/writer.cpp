// GGUF writer. See writer.h for the contract; the layout follows the GGUF v3 specification.
#include "gguf/writer.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv::gguf {

static_assert(std::endian::native == std::endian::little,
              "the writer copies host integers straight into little-endian fields");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" as a little-endian u32
constexpr uint32_t kVersion = 3;
constexpr const char* kAlignmentKey = "general.alignment";

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void pad_to(std::vector<uint8_t>& out, size_t alignment) {
  out.resize(out.size() + (alignment - out.size() % alignment) % alignment, 0);
}

}  // namespace

std::vector<uint8_t>& Writer::begin_kv(const std::string& key, ValueType type) {
  if (key.empty()) fail("GGUF writer: metadata key is empty");
  if (!keys_.insert(key).second) fail("GGUF writer: metadata key '{}' was already added", key);
  auto& buf = kvs_.emplace_back();
  put_string(buf, key);
  put<uint32_t>(buf, static_cast<uint32_t>(type));
  return buf;
}

template <typename T>
void Writer::add_scalar(const std::string& key, ValueType type, T value) {
  put<T>(begin_kv(key, type), value);
}

template <typename T>
void Writer::add_numeric_array(const std::string& key, ValueType element_type,
                               std::span<const T> values) {
  auto& buf = begin_kv(key, ValueType::ARRAY);
  put<uint32_t>(buf, static_cast<uint32_t>(element_type));
  put<uint64_t>(buf, values.size());
  for (const T v : values) put<T>(buf, v);
}

void Writer::add_u8(const std::string& key, uint8_t value) { add_scalar(key, ValueType::UINT8, value); }
void Writer::add_i8(const std::string& key, int8_t value) { add_scalar(key, ValueType::INT8, value); }
void Writer::add_u16(const std::string& key, uint16_t value) { add_scalar(key, ValueType::UINT16, value); }
void Writer::add_i16(const std::string& key, int16_t value) { add_scalar(key, ValueType::INT16, value); }
void Writer::add_i32(const std::string& key, int32_t value) { add_scalar(key, ValueType::INT32, value); }
void Writer::add_f32(const std::string& key, float value) { add_scalar(key, ValueType::FLOAT32, value); }
void Writer::add_u64(const std::string& key, uint64_t value) { add_scalar(key, ValueType::UINT64, value); }
void Writer::add_i64(const std::string& key, int64_t value) { add_scalar(key, ValueType::INT64, value); }
void Writer::add_f64(const std::string& key, double value) { add_scalar(key, ValueType::FLOAT64, value); }

void Writer::add_u32(const std::string& key, uint32_t value) {
  if (key == kAlignmentKey) {
    if (!std::has_single_bit(value)) {
      fail("GGUF writer: {} is {}, expected a power of two", kAlignmentKey, value);
    }
    alignment_ = value;
  }
  add_scalar(key, ValueType::UINT32, value);
}

void Writer::add_bool(const std::string& key, bool value) {
  add_scalar<uint8_t>(key, ValueType::BOOL, value ? 1 : 0);
}

void Writer::add_string(const std::string& key, const std::string& value) {
  put_string(begin_kv(key, ValueType::STRING), value);
}

void Writer::add_array(const std::string& key, std::span<const uint8_t> values) {
  add_numeric_array(key, ValueType::UINT8, values);
}
void Writer::add_array(const std::string& key, std::span<const int8_t> values) {
  add_numeric_array(key, ValueType::INT8, values);
}
void Writer::add_array(const std::string& key, std::span<const uint16_t> values) {
  add_numeric_array(key, ValueType::UINT16, values);
}
void Writer::add_array(const std::string& key, std::span<const int16_t> values) {
  add_numeric_array(key, ValueType::INT16, values);
}
void Writer::add_array(const std::string& key, std::span<const uint32_t> values) {
  add_numeric_array(key, ValueType::UINT32, values);
}
void Writer::add_array(const std::string& key, std::span<const int32_t> values) {
  add_numeric_array(key, ValueType::INT32, values);
}
void Writer::add_array(const std::string& key, std::span<const float> values) {
  add_numeric_array(key, ValueType::FLOAT32, values);
}
void Writer::add_array(const std::string& key, std::span<const uint64_t> values) {
  add_numeric_array(key, ValueType::UINT64, values);
}
void Writer::add_array(const std::string& key, std::span<const int64_t> values) {
  add_numeric_array(key, ValueType::INT64, values);
}
void Writer::add_array(const std::string& key, std::span<const double> values) {
  add_numeric_array(key, ValueType::FLOAT64, values);
}

void Writer::add_bool_array(const std::string& key, const std::vector<bool>& values) {
  auto& buf = begin_kv(key, ValueType::ARRAY);
  put<uint32_t>(buf, static_cast<uint32_t>(ValueType::BOOL));
  put<uint64_t>(buf, values.size());
  for (const bool v : values) put<uint8_t>(buf, v ? 1 : 0);
}

void Writer::add_string_array(const std::string& key, const std::vector<std::string>& values) {
  auto& buf = begin_kv(key, ValueType::ARRAY);
  put<uint32_t>(buf, static_cast<uint32_t>(ValueType::STRING));
  put<uint64_t>(buf, values.size());
  for (const auto& s : values) put_string(buf, s);
}

void Writer::set_alignment(uint32_t alignment) { add_u32(kAlignmentKey, alignment); }

size_t Writer::check_tensor(const std::string& name, const std::vector<int64_t>& shape,
                            GgmlType type) const {
  if (name.empty()) fail("GGUF writer: tensor name is empty");
  if (tensor_names_.count(name) != 0) fail("GGUF writer: tensor '{}' was already added", name);
  if (shape.empty() || shape.size() > 4) {
    fail("GGUF writer: tensor '{}' has {} dimensions, expected 1 to 4", name, shape.size());
  }
  const TypeTraits& traits = type_traits(type);
  if (traits.block_size <= 0 || traits.type_size == 0) {
    fail("GGUF writer: tensor '{}' has type id {}, which has no block size", name,
         static_cast<uint32_t>(type));
  }
  int64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 1) fail("GGUF writer: tensor '{}' dimension {} is {}, expected at least 1", name, d, shape[d]);
    if (d > 0) {
      if (rows > std::numeric_limits<int64_t>::max() / shape[d]) {
        fail("GGUF writer: tensor '{}' is too large", name);
      }
      rows *= shape[d];
    }
  }
  if (shape[0] % traits.block_size != 0) {
    fail("GGUF writer: tensor '{}' ne[0] = {} is not a multiple of the {} block size {}", name,
         shape[0], traits.name, traits.block_size);
  }
  return row_size(type, shape[0]) * static_cast<size_t>(rows);
}

void Writer::add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                        std::span<const float> values) {
  const size_t n_bytes = check_tensor(name, shape, type);
  const int64_t ne0 = shape[0];
  int64_t n_elements = 1;
  for (const int64_t d : shape) n_elements *= d;
  if (values.size() != static_cast<size_t>(n_elements)) {
    fail("GGUF writer: tensor '{}' needs {} values for its shape, got {}", name, n_elements,
         values.size());
  }
  PendingTensor t{name, shape, type, std::vector<uint8_t>(n_bytes)};
  if (type == GgmlType::F32) {
    std::memcpy(t.data.data(), values.data(), n_bytes);
  } else {
    const size_t row_bytes = row_size(type, ne0);
    const int64_t rows = n_elements / ne0;
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(type, values.data() + r * ne0, t.data.data() + static_cast<size_t>(r) * row_bytes,
                   ne0);
    }
  }
  tensor_names_.insert(name);
  tensors_.push_back(std::move(t));
}

void Writer::add_tensor_bytes(const std::string& name, const std::vector<int64_t>& shape,
                              GgmlType type, std::span<const uint8_t> bytes) {
  const size_t n_bytes = check_tensor(name, shape, type);
  if (bytes.size() != n_bytes) {
    fail("GGUF writer: tensor '{}' of type {} and this shape takes {} bytes, got {}", name,
         type_traits(type).name, n_bytes, bytes.size());
  }
  tensor_names_.insert(name);
  tensors_.push_back(PendingTensor{name, shape, type, {bytes.begin(), bytes.end()}});
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, kMagic);
  put<uint32_t>(out, kVersion);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kvs_.size());
  for (const auto& kv : kvs_) out.insert(out.end(), kv.begin(), kv.end());

  uint64_t offset = 0;  // relative to the start of the data section
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (const int64_t d : t.shape) put<uint64_t>(out, static_cast<uint64_t>(d));
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset += t.data.size() + (alignment_ - t.data.size() % alignment_) % alignment_;
  }
  if (tensors_.empty()) return out;

  pad_to(out, alignment_);
  out.reserve(out.size() + offset);
  for (const auto& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    pad_to(out, alignment_);
  }
  return out;
}

void Writer::write_file(const std::string& path) const {
  const std::vector<uint8_t> image = to_bytes();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail("{}: cannot create file: {}", path, std::strerror(errno));
  f.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
  f.close();
  if (!f) fail("{}: writing {} bytes failed: {}", path, image.size(), std::strerror(errno));
}

}  // namespace lkv::gguf
