// Element types of GGUF tensors (ggml's type ids) and their block geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lkv {

// Values are ggml's type ids as stored in GGUF tensor infos.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct TypeTraits {
  const char* name;      // "Q4_K", or "unknown"
  int64_t block_size;    // elements per block (1 for float types)
  size_t type_size;      // bytes per block
  bool weight_supported; // true when the engine can load and multiply weights of this type
};

// Traits for a raw type id read from a file. Unknown ids get weight_supported == false.
const TypeTraits& type_traits(uint32_t type_id);
inline const TypeTraits& type_traits(GgmlType type) { return type_traits(static_cast<uint32_t>(type)); }

// Name of a raw type id, "type 17" style for ids the engine does not know.
std::string type_name(uint32_t type_id);

// Bytes of one row of n elements; n must be a multiple of the block size (checked by callers).
size_t row_size(GgmlType type, int64_t n);

}  // namespace lkv
