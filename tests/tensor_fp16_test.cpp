#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "tensor/float_convert.h"
#include "tensor/quantize.h"

namespace lkv {
namespace {

TEST(TensorFp16, DecodeKnownValues) {
  EXPECT_EQ(float_bits(fp16_to_fp32(0x0000)), 0x00000000u);
  EXPECT_EQ(float_bits(fp16_to_fp32(0x8000)), 0x80000000u);  // -0
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x0400), 0x1p-14f);          // smallest normal
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);          // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x03ff), 1023.0f * 0x1p-24f);  // largest subnormal
  EXPECT_EQ(fp16_to_fp32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_fp32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7c01)));  // signalling NaN comes out as NaN
}

TEST(TensorFp16, EncodeRoundsToNearestEven) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // halfway ties to even, which is infinity
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);  // tie, even mantissa stays
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie, odd mantissa rounds up
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);  // tie between 0 and 2^-24 goes to 0
  EXPECT_EQ(fp32_to_fp16(0x1.8p-25f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);  // 1.5 units ties to 2
  EXPECT_EQ(fp32_to_fp16(1e-30f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
}

TEST(TensorFp16, ScalarMatchesF16cForAllHalves) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const uint32_t scalar = float_bits(fp16_to_fp32_scalar(half));
    const uint32_t fast = float_bits(fp16_to_fp32_fast(half));
    ASSERT_EQ(scalar, fast) << "half 0x" << std::hex << h;
    // Every non-NaN half survives a round trip.
    if ((h & 0x7c00) != 0x7c00 || (h & 0x3ff) == 0) {
      ASSERT_EQ(fp32_to_fp16_scalar(fp16_to_fp32_scalar(half)), half) << "half 0x" << std::hex << h;
    }
  }
}

TEST(TensorFp16, ScalarEncodeMatchesF16c) {
  // Every exponent with random mantissas, plus the values around each rounding boundary.
  std::mt19937 rng(7);
  for (uint32_t exponent = 0; exponent < 256; ++exponent) {
    for (int sample = 0; sample < 300; ++sample) {
      uint32_t mantissa = rng() & 0x7fffffu;
      if (sample < 8) mantissa = (mantissa & ~0x1fffu) | (0x0ffeu + static_cast<uint32_t>(sample));
      const uint32_t bits = ((rng() & 1u) << 31) | (exponent << 23) | mantissa;
      const float f = bits_float(bits);
      ASSERT_EQ(fp32_to_fp16_scalar(f), fp32_to_fp16_fast(f)) << "f32 bits 0x" << std::hex << bits;
    }
  }
}

TEST(TensorFp16, Bfloat16) {
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808001u)), 0x3f81);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(bits_float(0x7f800001u)), 0x7fc0);  // signalling NaN made quiet, not infinity
  EXPECT_EQ(fp32_to_bf16(bits_float(0x7f7fffffu)), 0x7f80);  // FLT_MAX rounds up to infinity
  EXPECT_EQ(bf16_to_fp32(0x0001), bits_float(0x00010000u));  // subnormal kept exactly
}

}  // namespace
}  // namespace lkv
