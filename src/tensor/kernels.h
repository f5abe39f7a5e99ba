// Register-tile kernels of the matmul: one call computes an MR × NR block of Y = X · Wᵀ over the
// whole inner dimension.
//
// Each weight type has a scalar kernel set (integer dot products per block, the readable reference
// for the SIMD code) and, when the build enables AVX2, a SIMD kernel set. Both consume activations
// already converted by quantize_act_row() to act_format_for(type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "tensor/act_quant.h"
#include "tensor/matmul.h"
#include "tensor/types.h"

namespace lkv {

// Largest tile side; kernels exist for every MR, NR in [1, kMaxTile].
constexpr int kMaxTile = 4;

// Computes y[i · ldy + j] = Σ_k W[j][k] · X[a_first + i][k] for i < MR, j < NR, where weight row j
// starts at w + j · w_stride and n is the inner dimension (a multiple of the block size). The f32
// rounding of an element may depend on the tile shape and on its row's position in the tile, because
// the Q4_0 / Q5_0 / Q4_1 / Q5_1 tiles pair weight rows. The driver therefore keeps tile positions
// independent of the thread count.
using TileFn = void (*)(const uint8_t* w, size_t w_stride, const ActRows& a, int64_t a_first, int64_t n,
                        float* y, int64_t ldy);

struct KernelSet {
  ActFormat act = ActFormat::F32;
  int gemm_mr = 1;  // tile shape preferred when there are many activation rows
  int gemm_nr = 1;
  int gemv_nr = 1;  // weight rows per gemv call
  TileFn tile[kMaxTile][kMaxTile] = {};  // tile[MR - 1][NR - 1]
  // Kernel for a single activation row (MR = 1, NR = gemv_nr). It may order its sums differently
  // from the tiles (e.g. several accumulators to hide FMA latency); the driver uses it for every
  // element whenever m = 1.
  TileFn gemv = nullptr;
};

// Kernels for a weight type, or nullptr when the type has none. simd = false selects the scalar set.
const KernelSet* kernel_set(GgmlType type, bool simd);

// Per-file kernel tables, assembled by kernel_set().
const KernelSet* scalar_kernel_set(GgmlType type);
const KernelSet* avx2_legacy_kernel_set(GgmlType type);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
const KernelSet* avx2_k_quant_kernel_set(GgmlType type);  // Q4_K, Q5_K, Q6_K
const KernelSet* avx2_float_kernel_set(GgmlType type);  // F32, F16, BF16

// Runs matmul_rows() with the given kernel set and without argument checks. matmul_rows() checks its
// arguments and calls this with the SIMD set; tests also run the scalar set through it.
void matmul_with_kernels(const KernelSet& kernels, const WeightView& w, int64_t row_begin, int64_t row_end,
                         const float* x, int64_t m, float* y, ThreadPool& pool);

// Fills set.tile with Kernel<MR, NR>::run for every tile shape.
template <template <int, int> class Kernel>
void fill_tiles(KernelSet& set) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    ((set.tile[I / kMaxTile][I % kMaxTile] = &Kernel<I / kMaxTile + 1, I % kMaxTile + 1>::run), ...);
  }(std::make_integer_sequence<int, kMaxTile * kMaxTile>{});
  set.gemv = set.tile[0][set.gemv_nr - 1];
}

}  // namespace lkv
