// Byte layouts of ggml's quantization blocks, as stored in GGUF tensor data.
//
// All blocks are packed little-endian structs; fp16 fields are raw binary16 bits. The field order
// and sizes follow ggml's block definitions (ggml-common.h). Each struct is checked against the size
// in the type table.
#pragma once

#include <cstdint>

namespace lkv {

constexpr int kQK = 32;   // elements per legacy block (Q4_0 ... Q8_1)
constexpr int kQKK = 256;  // elements per K-quant super-block
constexpr int kKScaleBytes = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

#pragma pack(push, 1)

// x = d · (q − 8), q in [0, 15]. Byte k contains element k (low nibble) and element k + 16 (high).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// x = d · q + m, q in [0, 15], nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// x = d · (q − 16), q in [0, 31]. Bit j of qh (read as a little-endian u32) is bit 4 of element j.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d · q + m, q in [0, 31], bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d · q, q signed.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// As Q8_0 plus s = d · Σq.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};

// x = d · sc[s] · q − dmin · m[s] over 8 sub-blocks of 32. Chunk c (64 elements) uses qs[32c, 32c+32):
// low nibbles are sub-block 2c, high nibbles sub-block 2c + 1. Scales are packed as described at
// unpack_k_scales().
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQKK / 2];
};

// Q4_K plus a fifth bit: in chunk c, bit 2c of qh[l] belongs to element 64c + l and bit 2c + 1 to
// element 64c + 32 + l.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};

// x = d · scales[s] · (q − 32), q in [0, 63], 16 sub-blocks of 16. Layout per half of 128 elements
// is described at the Q6_K dequantizer. Note d comes last.
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};

// Activation format of the K-quants: x = d · q with an f32 d, plus Σq per 16 elements.
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};

#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scales and mins of one Q4_K / Q5_K super-block. Bytes 0–3 contain sc[0..3] in their
// low 6 bits and the top 2 bits of sc[4..7] in bits 6–7. Bytes 4–7 do the same for m. Bytes 8–11
// contain the low 4 bits of sc[4..7] (low nibble) and of m[4..7] (high nibble).
struct KScales {
  uint8_t sc[8];
  uint8_t m[8];
};

inline KScales unpack_k_scales(const uint8_t* packed) {
  KScales out;
  for (int s = 0; s < 4; ++s) {
    out.sc[s] = packed[s] & 63;
    out.m[s] = packed[s + 4] & 63;
    out.sc[s + 4] = static_cast<uint8_t>((packed[s + 8] & 15) | ((packed[s] >> 6) << 4));
    out.m[s + 4] = static_cast<uint8_t>((packed[s + 8] >> 4) | ((packed[s + 4] >> 6) << 4));
  }
  return out;
}

// Inverse of unpack_k_scales; every value must be below 64.
inline void pack_k_scales(const KScales& in, uint8_t* packed) {
  for (int s = 0; s < 4; ++s) {
    packed[s] = static_cast<uint8_t>((in.sc[s] & 63) | ((in.sc[s + 4] >> 4) << 6));
    packed[s + 4] = static_cast<uint8_t>((in.m[s] & 63) | ((in.m[s + 4] >> 4) << 6));
    packed[s + 8] = static_cast<uint8_t>((in.sc[s + 4] & 15) | ((in.m[s + 4] & 15) << 4));
  }
}

}  // namespace lkv
