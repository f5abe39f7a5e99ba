#include "tensor/float_convert.h"

#include "tensor/quantize.h"

namespace lkv {

float fp16_to_fp32(uint16_t h) { return fp16_to_fp32_fast(h); }
uint16_t fp32_to_fp16(float f) { return fp32_to_fp16_fast(f); }
float bf16_to_fp32(uint16_t h) { return bf16_to_fp32_inline(h); }
uint16_t fp32_to_bf16(float f) { return fp32_to_bf16_inline(f); }

}  // namespace lkv
