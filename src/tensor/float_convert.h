// Inline IEEE binary16 and bfloat16 conversions for the kernels.
//
// The *_scalar versions are portable bit manipulation. The *_fast versions use F16C when the build
// enables it. Both give bit-identical results, including subnormals, infinities and NaN. NaN inputs
// come out quiet with the top payload bits kept, as the x86 conversion instructions do.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace lkv {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline float fp16_to_fp32_scalar(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa · 2^-24, exact in f32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return bits_float(float_bits(magnitude) | sign);
  }
  if (exponent == 31) {
    // Infinity, or NaN with the quiet bit forced on.
    const uint32_t nan_quiet = mantissa != 0 ? 0x400000u : 0u;
    return bits_float(sign | 0x7f800000u | nan_quiet | (mantissa << 13));
  }
  return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest, ties to even. Values at or above 65520 in magnitude become infinity.
inline uint16_t fp32_to_fp16_scalar(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t magnitude = x & 0x7fffffffu;

  if (magnitude >= 0x7f800000u) {
    if (magnitude == 0x7f800000u) return sign | 0x7c00u;
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;

  if (magnitude < 0x38800000u) {
    // Result is an fp16 subnormal (or zero): count units of 2^-24 and round the dropped bits.
    const uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2^-25, rounds to zero (2^-25 itself ties to zero)
    const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // in [14, 24]
    uint32_t units = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (remainder > half || (remainder == half && (units & 1u))) ++units;
    return static_cast<uint16_t>(sign | units);
  }

  uint32_t result = ((magnitude >> 23) - 112) << 10 | ((magnitude >> 13) & 0x3ffu);
  const uint32_t remainder = magnitude & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;  // may carry into the exponent
  return static_cast<uint16_t>(sign | result);
}

inline float fp16_to_fp32_fast(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return fp16_to_fp32_scalar(h);
#endif
}

inline uint16_t fp32_to_fp16_fast(float f) {
#if defined(__F16C__)
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
  return fp32_to_fp16_scalar(f);
#endif
}

inline float bf16_to_fp32_inline(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// Round to nearest even on the dropped 16 bits; NaN keeps its top bits and is made quiet.
inline uint16_t fp32_to_bf16_inline(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// f32 rounded through fp16, the value a stored fp16 scale will have.
inline float round_to_fp16(float f) { return fp16_to_fp32_fast(fp32_to_fp16_fast(f)); }

}  // namespace lkv
