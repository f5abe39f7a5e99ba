#include <gtest/gtest.h>

#include "tensor/types.h"

namespace lkv {
namespace {

TEST(TensorTypes, TraitsOfWeightTypes) {
  struct Expected {
    GgmlType type;
    const char* name;
    int64_t block_size;
    size_t type_size;
  };
  const Expected table[] = {
      {GgmlType::F32, "F32", 1, 4},        {GgmlType::F16, "F16", 1, 2},        {GgmlType::BF16, "BF16", 1, 2},
      {GgmlType::Q4_0, "Q4_0", 32, 18},    {GgmlType::Q4_1, "Q4_1", 32, 20},    {GgmlType::Q5_0, "Q5_0", 32, 22},
      {GgmlType::Q5_1, "Q5_1", 32, 24},    {GgmlType::Q8_0, "Q8_0", 32, 34},    {GgmlType::Q4_K, "Q4_K", 256, 144},
      {GgmlType::Q5_K, "Q5_K", 256, 176},  {GgmlType::Q6_K, "Q6_K", 256, 210},
  };
  for (const Expected& e : table) {
    const TypeTraits& t = type_traits(e.type);
    EXPECT_STREQ(t.name, e.name);
    EXPECT_EQ(t.block_size, e.block_size) << e.name;
    EXPECT_EQ(t.type_size, e.type_size) << e.name;
    EXPECT_TRUE(t.weight_supported) << e.name;
  }
}

TEST(TensorTypes, ActivationFormatsAreNotWeights) {
  EXPECT_STREQ(type_traits(GgmlType::Q8_1).name, "Q8_1");
  EXPECT_EQ(type_traits(GgmlType::Q8_1).type_size, 36u);
  EXPECT_FALSE(type_traits(GgmlType::Q8_1).weight_supported);
  EXPECT_STREQ(type_traits(GgmlType::Q8_K).name, "Q8_K");
  EXPECT_EQ(type_traits(GgmlType::Q8_K).type_size, 292u);
  EXPECT_FALSE(type_traits(GgmlType::Q8_K).weight_supported);
}

TEST(TensorTypes, UnknownIds) {
  for (uint32_t id : {4u, 5u, 16u, 29u, 31u, 39u, 1000u, 0xffffffffu}) {
    const TypeTraits& t = type_traits(id);
    EXPECT_STREQ(t.name, "unknown") << id;
    EXPECT_FALSE(t.weight_supported) << id;
    EXPECT_EQ(type_name(id), "type " + std::to_string(id));
  }
  EXPECT_FALSE(type_traits(GgmlType::Q2_K).weight_supported);
  EXPECT_EQ(type_name(10), "Q2_K");
  EXPECT_EQ(type_name(12), "Q4_K");
}

TEST(TensorTypes, RowSize) {
  EXPECT_EQ(row_size(GgmlType::F32, 640), 2560u);
  EXPECT_EQ(row_size(GgmlType::BF16, 7), 14u);
  EXPECT_EQ(row_size(GgmlType::Q8_0, 640), 20u * 34u);
  EXPECT_EQ(row_size(GgmlType::Q5_0, 640), 20u * 22u);
  EXPECT_EQ(row_size(GgmlType::Q4_K, 2048), 8u * 144u);
  EXPECT_EQ(row_size(GgmlType::Q6_K, 1024), 4u * 210u);
}

}  // namespace
}  // namespace lkv
