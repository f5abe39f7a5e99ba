// Builder for GGUF version 3 files (little-endian), the format reader.h parses.
//
// Used to write tiny synthetic models for tests and LoRA adapter files. The whole image is kept in
// memory and tensors are copied when they are added. Metadata and tensors appear in the file in the
// order they were added. Every tensor starts at a multiple of the alignment (general.alignment,
// 32 by default) and is padded with zero bytes up to the next one.
// Non-goals: streaming files larger than memory, writing version 2 or big-endian files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tensor/types.h"

namespace lkv::gguf {

class Writer {
 public:
  // Scalar metadata. Every add_* call throws lkv::Error when the key is empty or already present.
  void add_u8(const std::string& key, uint8_t value);
  void add_i8(const std::string& key, int8_t value);
  void add_u16(const std::string& key, uint16_t value);
  void add_i16(const std::string& key, int16_t value);
  // Adding general.alignment also sets the tensor alignment, which must be a power of two.
  void add_u32(const std::string& key, uint32_t value);
  void add_i32(const std::string& key, int32_t value);
  void add_f32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_string(const std::string& key, const std::string& value);
  void add_u64(const std::string& key, uint64_t value);
  void add_i64(const std::string& key, int64_t value);
  void add_f64(const std::string& key, double value);

  // Arrays. The element type follows the C++ type (uint8_t is UINT8, float is FLOAT32, ...).
  void add_array(const std::string& key, std::span<const uint8_t> values);
  void add_array(const std::string& key, std::span<const int8_t> values);
  void add_array(const std::string& key, std::span<const uint16_t> values);
  void add_array(const std::string& key, std::span<const int16_t> values);
  void add_array(const std::string& key, std::span<const uint32_t> values);
  void add_array(const std::string& key, std::span<const int32_t> values);
  void add_array(const std::string& key, std::span<const float> values);
  void add_array(const std::string& key, std::span<const uint64_t> values);
  void add_array(const std::string& key, std::span<const int64_t> values);
  void add_array(const std::string& key, std::span<const double> values);
  void add_bool_array(const std::string& key, const std::vector<bool>& values);
  void add_string_array(const std::string& key, const std::vector<std::string>& values);

  // Writes general.alignment (UINT32). Same as add_u32(kAlignmentKey, alignment).
  void set_alignment(uint32_t alignment);
  size_t alignment() const { return alignment_; }

  // Adds a tensor from f32 values, ne[0] contiguous (shape[0] first), encoded row by row into
  // `type` with lkv::quantize_row (F32 is copied). values.size() must equal the element count.
  void add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                  std::span<const float> values);
  // Adds a tensor whose data is already encoded; bytes.size() must equal the size the shape and
  // type imply.
  void add_tensor_bytes(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                        std::span<const uint8_t> bytes);

  size_t tensor_count() const { return tensors_.size(); }
  size_t metadata_count() const { return kvs_.size(); }

  // Returns the complete file image.
  std::vector<uint8_t> to_bytes() const;
  // Writes the image to `path`, replacing any file there. Throws lkv::Error naming the path on an
  // I/O error.
  void write_file(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> shape;
    GgmlType type;
    std::vector<uint8_t> data;
  };

  // Starts an entry: checks the key and returns its buffer with the key and value type written.
  std::vector<uint8_t>& begin_kv(const std::string& key, ValueType type);
  template <typename T>
  void add_scalar(const std::string& key, ValueType type, T value);
  template <typename T>
  void add_numeric_array(const std::string& key, ValueType element_type, std::span<const T> values);
  // Checks name, shape and type; returns the encoded size in bytes.
  size_t check_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type) const;

  std::vector<std::vector<uint8_t>> kvs_;  // encoded key, type and value of each entry
  std::set<std::string> keys_;
  std::vector<PendingTensor> tensors_;
  std::set<std::string> tensor_names_;
  size_t alignment_ = 32;
};

}  // namespace lkv::gguf
