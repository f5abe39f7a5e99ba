#include "tensor/types.h"

#include <array>

#include <fmt/format.h>

namespace lkv {

namespace {

constexpr TypeTraits kUnknown{"unknown", 1, 0, false};

// Indexed by ggml type id. Q8_1 and Q8_K are activation formats, which the engine can encode and
// decode but does not accept as weights.
constexpr std::array<TypeTraits, 31> kTraits = [] {
  std::array<TypeTraits, 31> t{};
  t.fill(kUnknown);
  t[0] = {"F32", 1, 4, true};
  t[1] = {"F16", 1, 2, true};
  t[2] = {"Q4_0", 32, 18, true};
  t[3] = {"Q4_1", 32, 20, true};
  t[6] = {"Q5_0", 32, 22, true};
  t[7] = {"Q5_1", 32, 24, true};
  t[8] = {"Q8_0", 32, 34, true};
  t[9] = {"Q8_1", 32, 36, false};
  // Q2_K and Q3_K have known geometry (so sizes and names can be reported) but no kernels.
  t[10] = {"Q2_K", 256, 84, false};
  t[11] = {"Q3_K", 256, 110, false};
  t[12] = {"Q4_K", 256, 144, true};
  t[13] = {"Q5_K", 256, 176, true};
  t[14] = {"Q6_K", 256, 210, true};
  t[15] = {"Q8_K", 256, 292, false};
  t[30] = {"BF16", 1, 2, true};
  return t;
}();

}  // namespace

const TypeTraits& type_traits(uint32_t type_id) {
  if (type_id >= kTraits.size()) return kUnknown;
  return kTraits[type_id];
}

std::string type_name(uint32_t type_id) {
  const TypeTraits& traits = type_traits(type_id);
  if (traits.type_size == 0) return fmt::format("type {}", type_id);
  return traits.name;
}

size_t row_size(GgmlType type, int64_t n) {
  const TypeTraits& traits = type_traits(type);
  return static_cast<size_t>(n / traits.block_size) * traits.type_size;
}

}  // namespace lkv
