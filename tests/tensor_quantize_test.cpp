// Quantizers: round-trip error bounds per format, and the activation converters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/act_quant.h"
#include "tensor/block_formats.h"
#include "tensor/float_convert.h"
#include "tensor/quantize.h"
#include "tensor_test_util.h"

namespace lkv {
namespace {

std::vector<float> round_trip(GgmlType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> encoded(row_size(type, n));
  quantize_row(type, x.data(), encoded.data(), n);
  std::vector<float> decoded(x.size());
  dequantize_row(type, encoded.data(), decoded.data(), n);
  return decoded;
}

float block_absmax(const std::vector<float>& x, size_t begin, size_t len) {
  float m = 0.0f;
  for (size_t i = begin; i < begin + len; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

float block_range(const std::vector<float>& x, size_t begin, size_t len) {
  const auto [lo, hi] = std::minmax_element(x.begin() + static_cast<std::ptrdiff_t>(begin),
                                            x.begin() + static_cast<std::ptrdiff_t>(begin + len));
  return *hi - *lo;
}

float rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0.0;
  double ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    ref += x[i] * static_cast<double>(x[i]);
  }
  return static_cast<float>(std::sqrt(err / ref));
}

TEST(TensorQuantize, FloatTypesRoundTrip) {
  const std::vector<float> x = test::random_floats(37, 1);
  EXPECT_EQ(round_trip(GgmlType::F32, x), x);
  const std::vector<float> f16 = round_trip(GgmlType::F16, x);
  const std::vector<float> bf16 = round_trip(GgmlType::BF16, x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(f16[i], x[i], std::fabs(x[i]) * 0x1p-11f) << i;
    EXPECT_NEAR(bf16[i], x[i], std::fabs(x[i]) * 0x1p-8f) << i;
  }
}

// Symmetric formats: codes are round(x / d) with |d| = absmax / 127, 8 or 16. The element of
// opposite sign to the extreme may be clamped one step, so Q4_0 / Q5_0 allow one full step. The
// slack covers the fp16 rounding of d.
TEST(TensorQuantize, SymmetricBlockErrorBounds) {
  const std::vector<float> x = test::random_floats(32 * 64, 2, 3.0f);
  struct Case {
    GgmlType type;
    float divisor;
    float steps;
  };
  for (const Case& c : {Case{GgmlType::Q8_0, 127.0f, 0.5f}, Case{GgmlType::Q4_0, 8.0f, 1.0f},
                        Case{GgmlType::Q5_0, 16.0f, 1.0f}}) {
    const std::vector<float> y = round_trip(c.type, x);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      const float d = block_absmax(x, 32 * b, 32) / c.divisor;
      for (size_t i = 32 * b; i < 32 * b + 32; ++i) {
        ASSERT_LE(std::fabs(x[i] - y[i]), c.steps * d + std::fabs(x[i]) * 0x1p-9f + 1e-7f)
            << type_name(static_cast<uint32_t>(c.type)) << " element " << i;
      }
    }
  }
}

// Asymmetric formats: d = range / (levels − 1); error ≤ d / 2 plus the fp16 rounding of d and m.
TEST(TensorQuantize, AsymmetricBlockErrorBounds) {
  std::vector<float> x = test::random_floats(32 * 64, 3, 2.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] += (i / 32 % 3 == 0) ? 4.0f : 0.0f;  // some all-positive blocks
  for (const auto& [type, levels] : {std::pair{GgmlType::Q4_1, 16}, std::pair{GgmlType::Q5_1, 32}}) {
    const std::vector<float> y = round_trip(type, x);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      const float d = block_range(x, 32 * b, 32) / static_cast<float>(levels - 1);
      const float min = *std::min_element(x.begin() + static_cast<std::ptrdiff_t>(32 * b),
                                          x.begin() + static_cast<std::ptrdiff_t>(32 * b + 32));
      const float slack = (std::fabs(min) + levels * d) * 0x1p-10f;
      for (size_t i = 32 * b; i < 32 * b + 32; ++i) {
        ASSERT_LE(std::fabs(x[i] - y[i]), 0.5f * d + slack) << type_name(static_cast<uint32_t>(type)) << " " << i;
      }
    }
  }
}

// K-quant quantizers are the simple range-based scheme, so only the relative RMS error is bounded.
// On this fixed data the errors are Q4_K 0.079, Q5_K 0.039, Q6_K 0.019 and Q8_K 0.0083; the bounds
// leave 20–60 % headroom.
TEST(TensorQuantize, KQuantRelativeRmsError) {
  std::vector<float> x = test::random_floats(256 * 16, 4, 1.5f);
  for (size_t i = 0; i < x.size(); ++i) x[i] *= 1.0f + static_cast<float>(i / 32 % 8);  // uneven sub-blocks
  EXPECT_LT(rms_error(x, round_trip(GgmlType::Q4_K, x)), 0.11f);
  EXPECT_LT(rms_error(x, round_trip(GgmlType::Q5_K, x)), 0.055f);
  EXPECT_LT(rms_error(x, round_trip(GgmlType::Q6_K, x)), 0.03f);
  EXPECT_LT(rms_error(x, round_trip(GgmlType::Q8_K, x)), 0.01f);
}

TEST(TensorQuantize, ZeroRowsStayZero) {
  const std::vector<float> zeros(512, 0.0f);
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                        GgmlType::Q8_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K}) {
    const std::vector<float> y = round_trip(type, zeros);
    for (float v : y) ASSERT_EQ(v, 0.0f) << type_name(static_cast<uint32_t>(type));
  }
}

TEST(TensorQuantize, Q8_KMatchesReferenceRule) {
  std::vector<float> x = test::random_floats(256, 5);
  x[17] = -9.0f;  // the extreme is negative, so d is positive and x[17] codes to −127
  BlockQ8_K block;
  quantize_row(GgmlType::Q8_K, x.data(), &block, 256);
  EXPECT_FLOAT_EQ(block.d, 9.0f / 127.0f);
  EXPECT_EQ(block.qs[17], -127);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += block.qs[16 * g + l];
    EXPECT_EQ(block.bsums[g], sum) << g;
  }
}

TEST(TensorQuantize, RejectsLengthNotMultipleOfBlock) {
  std::vector<float> x(300);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(quantize_row(GgmlType::Q4_K, x.data(), out.data(), 300), std::exception);
  EXPECT_THROW(quantize_row(static_cast<GgmlType>(21), x.data(), out.data(), 256), std::exception);
}

// Activation rows: the SIMD converter must give the same bytes as the scalar one, including blocks
// whose extreme appears with both signs and all-zero blocks.
TEST(TensorQuantize, ActivationSimdMatchesScalar) {
  const int64_t n = 1024;
  std::vector<float> x = test::random_floats(static_cast<size_t>(n), 6);
  x[300] = 5.0f;
  x[301] = -5.0f;  // tie for the Q8_K extreme: the first one decides the sign
  x[600] = -5.0f;
  x[601] = 5.0f;
  std::fill(x.begin() + 768, x.end(), 0.0f);
  x[40] = 0.5f / 127.0f * 3.0f;  // some codes land exactly on .5 after scaling
  for (ActFormat format : {ActFormat::Q8_0, ActFormat::Q8_1, ActFormat::Q8_K, ActFormat::F32}) {
    const test::ActBuffer simd(format, x.data(), 1, n, true);
    const test::ActBuffer scalar(format, x.data(), 1, n, false);
    ASSERT_EQ(std::memcmp(simd.base, scalar.base, simd.layout.row_stride), 0) << static_cast<int>(format);
  }
}

TEST(TensorQuantize, ActivationQ8ErrorAndSums) {
  const int64_t n = 512;
  const std::vector<float> x = test::random_floats(static_cast<size_t>(n), 8, 4.0f);
  for (ActFormat format : {ActFormat::Q8_0, ActFormat::Q8_1, ActFormat::Q8_K}) {
    const test::ActBuffer act(format, x.data(), 1, n, true);
    const std::vector<float> decoded = act.decoded(1);
    const int64_t block = act_block_size(format);
    for (int64_t b = 0; b < n / block; ++b) {
      const float d = block_absmax(x, static_cast<size_t>(b * block), static_cast<size_t>(block)) / 127.0f;
      for (int64_t k = b * block; k < (b + 1) * block; ++k) {
        // Half a step, plus the fp16 rounding of d (at most 2^-11 relative) times |q| ≤ 127.
        ASSERT_LE(std::fabs(decoded[k] - x[k]), 0.5f * d + 127.0f * d * 0x1p-11f) << k;
      }
    }
    const ActRows rows = act.rows();
    if (format == ActFormat::Q8_1) {
      for (int64_t b = 0; b < n / 32; ++b) {
        int sum = 0;
        for (int k = 0; k < 32; ++k) sum += rows.q(0)[32 * b + k];
        EXPECT_EQ(rows.s(0)[b], rows.d(0)[b] * static_cast<float>(sum)) << b;
      }
    }
    if (format == ActFormat::Q8_K) {
      // The internal Q8_K row carries the same codes, d and sums as the ggml block encoder.
      std::vector<BlockQ8_K> blocks(static_cast<size_t>(n / 256));
      quantize_row(GgmlType::Q8_K, x.data(), blocks.data(), n);
      for (int64_t b = 0; b < n / 256; ++b) {
        EXPECT_EQ(rows.d(0)[b], blocks[b].d);
        EXPECT_EQ(std::memcmp(rows.q(0) + 256 * b, blocks[b].qs, 256), 0);
        EXPECT_EQ(std::memcmp(rows.bsums(0) + 16 * b, blocks[b].bsums, 32), 0);
      }
    }
  }
}

TEST(TensorQuantize, ActivationScalesAreFp16Values) {
  const std::vector<float> x = test::random_floats(64, 9, 0.3f);
  const test::ActBuffer act(ActFormat::Q8_0, x.data(), 1, 64, true);
  for (int b = 0; b < 2; ++b) {
    const float d = act.rows().d(0)[b];
    EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(d)), d);
  }
}

}  // namespace
}  // namespace lkv
