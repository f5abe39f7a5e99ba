// Decoders checked against blocks built byte by byte from the ggml block layouts.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tensor/block_formats.h"
#include "tensor/quantize.h"

namespace lkv {
namespace {

constexpr uint16_t kHalf = 0x3800;     // 0.5 in fp16
constexpr uint16_t kQuarter = 0x3400;  // 0.25
constexpr uint16_t kMinusTwo = 0xc000;  // -2.0

std::vector<float> decode(GgmlType type, const void* block, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(type, block, out.data(), n);
  return out;
}

TEST(TensorDequantize, FloatTypes) {
  const float f32[3] = {1.5f, -2.0f, 0.0f};
  EXPECT_EQ(decode(GgmlType::F32, f32, 3), (std::vector<float>{1.5f, -2.0f, 0.0f}));
  const uint16_t f16[3] = {0x3c00, 0xc000, 0x0001};
  EXPECT_EQ(decode(GgmlType::F16, f16, 3), (std::vector<float>{1.0f, -2.0f, 0x1p-24f}));
  const uint16_t bf16[2] = {0x3f80, 0xc040};
  EXPECT_EQ(decode(GgmlType::BF16, bf16, 2), (std::vector<float>{1.0f, -3.0f}));
}

TEST(TensorDequantize, Q4_0SplitHalfNibbles) {
  BlockQ4_0 block{};
  block.d = kHalf;
  for (int k = 0; k < 16; ++k) block.qs[k] = static_cast<uint8_t>(k | ((15 - k) << 4));
  const std::vector<float> x = decode(GgmlType::Q4_0, &block, 32);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(x[k], 0.5f * static_cast<float>(k - 8)) << k;
    EXPECT_EQ(x[k + 16], 0.5f * static_cast<float>(15 - k - 8)) << k;
  }
  EXPECT_EQ(x[0], -4.0f);
  EXPECT_EQ(x[16], 3.5f);
}

TEST(TensorDequantize, Q4_1AddsMin) {
  BlockQ4_1 block{};
  block.d = kQuarter;
  block.m = kMinusTwo;
  for (int k = 0; k < 16; ++k) block.qs[k] = static_cast<uint8_t>(k | (3 << 4));
  const std::vector<float> x = decode(GgmlType::Q4_1, &block, 32);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(x[k], 0.25f * static_cast<float>(k) - 2.0f) << k;
    EXPECT_EQ(x[k + 16], 0.75f - 2.0f) << k;
  }
}

TEST(TensorDequantize, Q5_0FifthBitFromLittleEndianQh) {
  BlockQ5_0 block{};
  block.d = kHalf;
  for (int k = 0; k < 16; ++k) block.qs[k] = static_cast<uint8_t>(k | (k << 4));
  // Bits 0, 3, 16 and 31 set: qh bytes are little-endian, so byte 3 bit 7 is element 31.
  block.qh[0] = 0x09;
  block.qh[2] = 0x01;
  block.qh[3] = 0x80;
  const std::vector<float> x = decode(GgmlType::Q5_0, &block, 32);
  for (int j = 0; j < 32; ++j) {
    const int low = j % 16;
    const bool high = j == 0 || j == 3 || j == 16 || j == 31;
    EXPECT_EQ(x[j], 0.5f * static_cast<float>((low | (high ? 16 : 0)) - 16)) << j;
  }
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[1], -7.5f);
  EXPECT_EQ(x[31], 7.5f);
}

TEST(TensorDequantize, Q5_1FifthBitAndMin) {
  BlockQ5_1 block{};
  block.d = kQuarter;
  block.m = kMinusTwo;
  for (int k = 0; k < 16; ++k) block.qs[k] = static_cast<uint8_t>(15 | (1 << 4));
  block.qh[1] = 0x02;  // element 9
  const std::vector<float> x = decode(GgmlType::Q5_1, &block, 32);
  EXPECT_EQ(x[0], 0.25f * 15 - 2.0f);
  EXPECT_EQ(x[9], 0.25f * 31 - 2.0f);
  EXPECT_EQ(x[16], 0.25f * 1 - 2.0f);
}

TEST(TensorDequantize, Q8_0Signed) {
  BlockQ8_0 block{};
  block.d = kHalf;
  for (int j = 0; j < 32; ++j) block.qs[j] = static_cast<int8_t>(j * 8 - 128);
  const std::vector<float> x = decode(GgmlType::Q8_0, &block, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], 0.5f * static_cast<float>(j * 8 - 128)) << j;
}

TEST(TensorDequantize, Q8_1IgnoresSum) {
  BlockQ8_1 block{};
  block.d = kQuarter;
  block.s = kMinusTwo;  // d · Σq, used by dot products only
  for (int j = 0; j < 32; ++j) block.qs[j] = static_cast<int8_t>(j - 16);
  const std::vector<float> x = decode(GgmlType::Q8_1, &block, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], 0.25f * static_cast<float>(j - 16)) << j;
}

// Scale and min values chosen so that sub-blocks 4..7 need their top two bits.
constexpr uint8_t kSc[8] = {1, 2, 3, 63, 17, 33, 50, 47};
constexpr uint8_t kMin[8] = {5, 0, 7, 8, 20, 40, 60, 31};

// Packs kSc / kMin by the byte layout: bytes 0–3 low 6 bits of sc[0..3] plus top 2 bits of sc[4..7];
// bytes 4–7 the same for the mins; bytes 8–11 low nibbles of sc[4..7] | low nibbles of m[4..7] << 4.
void pack_test_scales(uint8_t* scales) {
  for (int s = 0; s < 4; ++s) {
    scales[s] = static_cast<uint8_t>(kSc[s] | ((kSc[s + 4] >> 4) << 6));
    scales[s + 4] = static_cast<uint8_t>(kMin[s] | ((kMin[s + 4] >> 4) << 6));
    scales[s + 8] = static_cast<uint8_t>((kSc[s + 4] & 15) | ((kMin[s + 4] & 15) << 4));
  }
}

TEST(TensorDequantize, KScaleUnpacking) {
  uint8_t packed[12];
  pack_test_scales(packed);
  const KScales unpacked = unpack_k_scales(packed);
  for (int s = 0; s < 8; ++s) {
    EXPECT_EQ(unpacked.sc[s], kSc[s]) << s;
    EXPECT_EQ(unpacked.m[s], kMin[s]) << s;
  }
  uint8_t repacked[12];
  pack_k_scales(unpacked, repacked);
  EXPECT_EQ(std::memcmp(packed, repacked, 12), 0);
  // Spot check of the byte view: sc[4] = 17 = 0b01'0001 puts 01 into bits 6–7 of byte 0.
  EXPECT_EQ(packed[0], 1 | (1 << 6));
  EXPECT_EQ(packed[8], (17 & 15) | ((20 & 15) << 4));
}

TEST(TensorDequantize, Q4_KChunksAndScales) {
  BlockQ4_K block{};
  block.d = kHalf;
  block.dmin = kQuarter;
  pack_test_scales(block.scales);
  for (int i = 0; i < 128; ++i) block.qs[i] = static_cast<uint8_t>((i % 16) | (((i / 8) % 16) << 4));
  const std::vector<float> x = decode(GgmlType::Q4_K, &block, 256);
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t byte = block.qs[32 * chunk + l];
      const int s_lo = 2 * chunk;
      const int s_hi = 2 * chunk + 1;
      EXPECT_EQ(x[64 * chunk + l], 0.5f * kSc[s_lo] * (byte & 15) - 0.25f * kMin[s_lo]) << chunk << "," << l;
      EXPECT_EQ(x[64 * chunk + 32 + l], 0.5f * kSc[s_hi] * (byte >> 4) - 0.25f * kMin[s_hi]) << chunk << "," << l;
    }
  }
  // Element 232: chunk 3, upper half, l = 8, so the high nibble of qs[104] (= (104 / 8) % 16 = 13)
  // in sub-block 7 (sc 47, m 31). Element 200 is the low nibble (104 % 16 = 8) in sub-block 6.
  EXPECT_EQ(x[232], 0.5f * 47 * 13 - 0.25f * 31);
  EXPECT_EQ(x[200], 0.5f * 50 * 8 - 0.25f * 60);
}

TEST(TensorDequantize, Q5_KFifthBits) {
  BlockQ5_K block{};
  block.d = kHalf;
  block.dmin = kQuarter;
  pack_test_scales(block.scales);
  for (int i = 0; i < 128; ++i) block.qs[i] = static_cast<uint8_t>(i % 16 | ((15 - i % 16) << 4));
  for (int l = 0; l < 32; ++l) block.qh[l] = static_cast<uint8_t>(l * 37);  // assorted bit patterns
  const std::vector<float> x = decode(GgmlType::Q5_K, &block, 256);
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t byte = block.qs[32 * chunk + l];
      const int q_lo = (byte & 15) + (((block.qh[l] >> (2 * chunk)) & 1) ? 16 : 0);
      const int q_hi = (byte >> 4) + (((block.qh[l] >> (2 * chunk + 1)) & 1) ? 16 : 0);
      EXPECT_EQ(x[64 * chunk + l], 0.5f * kSc[2 * chunk] * q_lo - 0.25f * kMin[2 * chunk]);
      EXPECT_EQ(x[64 * chunk + 32 + l], 0.5f * kSc[2 * chunk + 1] * q_hi - 0.25f * kMin[2 * chunk + 1]);
    }
  }
  // Element 65: chunk 1, lower half, l = 1; qh[1] = 37 = 0b100101 has bit 2 set, so q = 1 + 16.
  // Element 97 (upper half) reads bit 3, which is clear, so q = 14.
  EXPECT_EQ(x[65], 0.5f * kSc[2] * 17 - 0.25f * kMin[2]);
  EXPECT_EQ(x[97], 0.5f * kSc[3] * 14 - 0.25f * kMin[3]);
}

TEST(TensorDequantize, Q6_KLayout) {
  BlockQ6_K block{};
  block.d = kHalf;
  for (int i = 0; i < 128; ++i) block.ql[i] = static_cast<uint8_t>(i * 7);
  for (int i = 0; i < 64; ++i) block.qh[i] = static_cast<uint8_t>(i * 13 + 5);
  for (int s = 0; s < 16; ++s) block.scales[s] = static_cast<int8_t>(s * 9 - 70);
  const std::vector<float> x = decode(GgmlType::Q6_K, &block, 256);

  // Rebuild each element from the layout table: within half h, element l + 32g (l < 32) takes low
  // bits from ql[l + 32·(g % 2)] (low nibble for g < 2, high nibble otherwise) and high bits from bit
  // pair g of qh[l]; its scale is scales[8h + 2g + l / 16], i.e. the 16-run it lies in.
  for (int h = 0; h < 2; ++h) {
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t low_byte = block.ql[64 * h + l + 32 * (g % 2)];
        const int low = g < 2 ? (low_byte & 15) : (low_byte >> 4);
        const int high = (block.qh[32 * h + l] >> (2 * g)) & 3;
        const int index = 128 * h + 32 * g + l;
        const int scale = block.scales[index / 16];
        EXPECT_EQ(x[index], 0.5f * scale * ((low | (high << 4)) - 32)) << index;
      }
    }
  }
  // Element 70: half 0, group 2, l = 6: high nibble of ql[6] = 42 → 2, bits 4–5 of qh[6] = 83 → 1,
  // so q = 18; scale index 4 = −34.
  EXPECT_EQ(x[70], 0.5f * -34 * (18 - 32));
}

TEST(TensorDequantize, Q8_KScaleIsFloat) {
  BlockQ8_K block{};
  block.d = -0.125f;
  for (int j = 0; j < 256; ++j) block.qs[j] = static_cast<int8_t>(j - 128);
  const std::vector<float> x = decode(GgmlType::Q8_K, &block, 256);
  for (int j = 0; j < 256; ++j) EXPECT_EQ(x[j], -0.125f * static_cast<float>(j - 128)) << j;
}

TEST(TensorDequantize, RejectsBadLengthAndUnknownType) {
  float out[64];
  BlockQ4_0 blocks[2]{};
  EXPECT_THROW(dequantize_row(GgmlType::Q4_0, blocks, out, 33), std::exception);
  EXPECT_THROW(dequantize_row(static_cast<GgmlType>(17), blocks, out, 32), std::exception);
}

}  // namespace
}  // namespace lkv
