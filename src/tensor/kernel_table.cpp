#include "tensor/kernels.h"

namespace lkv {

const KernelSet* kernel_set(GgmlType type, bool simd) {
  if (simd) {
    if (const KernelSet* set = avx2_legacy_kernel_set(type)) return set;
    if (const KernelSet* set = avx2_k_quant_kernel_set(type)) return set;
    if (const KernelSet* set = avx2_float_kernel_set(type)) return set;
  }
  return scalar_kernel_set(type);
}

}  // namespace lkv
