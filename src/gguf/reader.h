// Read-only view of a GGUF file (llama.cpp's model format, versions 2 and 3).
//
// The file is memory-mapped; metadata is parsed and validated up front, tensor data stays in the
// mapping and is handed out as pointers. Every size read from the file is checked against the file
// length before it is used, counts are capped before allocating, and each error names the key or
// tensor involved. Non-goals: big-endian files, editing in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tensor/types.h"

namespace lkv::gguf {

// Metadata value types as numbered in the GGUF specification.
enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

const char* value_type_name(ValueType type);

// One metadata value. Scalars are widened into one of the three numeric fields; arrays keep their
// element type, with numbers widened the same way (strings go to `strings`).
struct Value {
  ValueType type = ValueType::UINT8;
  ValueType array_type = ValueType::UINT8;  // element type when type == ARRAY
  uint64_t u64 = 0;                          // unsigned integers and BOOL
  int64_t i64 = 0;                           // signed integers
  double f64 = 0.0;                          // FLOAT32 and FLOAT64
  std::string str;                           // STRING
  std::vector<std::string> strings;          // ARRAY of STRING
  std::vector<double> numbers;               // ARRAY of any numeric or BOOL type, as double
  uint64_t array_size = 0;                   // element count when type == ARRAY

  bool is_integer() const;  // any integer type
  bool is_float() const;    // FLOAT32 or FLOAT64
};

struct TensorInfo {
  std::string name;
  uint32_t type_id = 0;         // raw ggml type id, as stored
  GgmlType type = GgmlType::F32;  // same as type_id; the reader rejects ids without known geometry
  std::vector<int64_t> shape;   // ne[0] (contiguous) first; 1 to 4 dims
  uint64_t offset = 0;          // relative to the start of the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // points into the mapping

  int64_t n_elements() const;
  int64_t ne(size_t dim) const { return dim < shape.size() ? shape[dim] : 1; }
};

class File {
 public:
  // Maps and validates the file. Throws lkv::Error naming the path and what is wrong.
  static std::unique_ptr<File> open(const std::string& path);
  // Parses a GGUF image already in memory (the caller keeps it alive). Used by tests and the fuzzer.
  static std::unique_ptr<File> from_memory(const uint8_t* data, size_t size, std::string label);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }
  const uint8_t* bytes() const { return base_; }

  // Metadata.
  const std::map<std::string, Value>& metadata() const { return metadata_; }
  // Keys in file order (metadata() is sorted by key).
  const std::vector<std::string>& keys() const { return keys_; }
  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  const Value* find(const std::string& key) const;
  // Typed getters throw lkv::Error when the key is missing or has an incompatible type. Integer
  // getters accept any integer type whose value fits, and float getters accept integers too.
  std::string get_string(const std::string& key) const;
  uint64_t get_u64(const std::string& key) const;
  uint32_t get_u32(const std::string& key) const;
  int64_t get_i64(const std::string& key) const;
  float get_f32(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::vector<std::string>& get_string_array(const std::string& key) const;
  const std::vector<double>& get_number_array(const std::string& key) const;
  // Optional variants return nullopt when the key is absent (and still throw on a type mismatch).
  std::optional<std::string> get_string_opt(const std::string& key) const;
  std::optional<uint32_t> get_u32_opt(const std::string& key) const;
  std::optional<float> get_f32_opt(const std::string& key) const;
  std::optional<bool> get_bool_opt(const std::string& key) const;
  // Per-layer keys that may be one scalar or an array with one entry per layer (llama.cpp allows
  // both for head counts and feed-forward sizes). Returns n_layer values or throws.
  std::vector<uint32_t> get_u32_per_layer(const std::string& key, size_t n_layer) const;

  // Tensors, in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  // Throws naming the tensor when it is missing.
  const TensorInfo& tensor(const std::string& name) const;

 private:
  File() = default;
  void parse();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::map<std::string, Value> metadata_;
  std::vector<std::string> keys_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace lkv::gguf
