// Conversion between f32 and the quantized block formats, in plain scalar code.
//
// dequantize_row is the reference every SIMD kernel is tested against and the path used for
// embedding lookups. quantize_row implements the reference quantizers (round to nearest, per block
// scale), which are enough to build synthetic test models and adapter files; they do not search for
// the error-minimizing scales that llama.cpp's quantize tool uses.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace lkv {

// Decodes n elements (a multiple of the type's block size) starting at src into dst.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// Encodes n elements into dst (row_size(type, n) bytes). Supported: every weight type plus Q8_K.
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// IEEE half and bfloat16 conversions.
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

}  // namespace lkv
