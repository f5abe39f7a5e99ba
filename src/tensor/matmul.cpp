// Matmul driver: checks the weight view, converts the activations once, then spreads register
// tiles over the thread pool.
//
// Work is cut into tasks of (up to 32 activation rows) × (a run of weight rows). Inside a task the
// kernel walks weight tiles in the outer loop and activation tiles in the inner one, so each NR-row
// weight tile is read from memory once per task and reused from L1 against every activation tile.
#include "tensor/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "tensor/act_quant.h"
#include "tensor/kernels.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

// Activation rows per task at most. 32 converted rows of 640..2048 elements (about 23..75 KiB) stay
// in L1/L2 while every weight tile of the task sweeps over them. On the benchmark shapes (Zen 4, one
// thread) 32 measured a little faster than 16 or 64 and clearly faster than 128.
constexpr int64_t kActRowsPerTask = 32;
// Below this many input elements the conversion runs on the calling thread (a pool dispatch costs
// more than converting a few rows).
constexpr int64_t kParallelConvertElements = 1 << 16;

// Grow-only, 64-byte aligned scratch memory for converted activations, one per calling thread so
// concurrent matmuls from different threads do not share it.
class ScratchBuffer {
 public:
  uint8_t* get(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset(static_cast<uint8_t*>(::operator new(bytes, std::align_val_t{64})));
      capacity_ = bytes;
    }
    return data_.get();
  }

 private:
  struct AlignedDelete {
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<uint8_t, AlignedDelete> data_;
  size_t capacity_ = 0;
};

void check_weight(const WeightView& w) {
  const TypeTraits& traits = type_traits(w.type);
  const std::string name = type_name(static_cast<uint32_t>(w.type));
  if (!traits.weight_supported) fail("matmul: weight type {} is not supported", name);
  if (w.data == nullptr) fail("matmul: weight data is null");
  if (w.n_in <= 0 || w.n_out < 0) fail("matmul: invalid weight shape [{}, {}]", w.n_in, w.n_out);
  if (w.n_in % traits.block_size != 0) {
    fail("matmul: row length {} is not a multiple of the {} block size {}", w.n_in, name, traits.block_size);
  }
  if (w.row_bytes < row_size(w.type, w.n_in)) {
    fail("matmul: row_bytes {} is smaller than the {} bytes of a {} row of {} elements", w.row_bytes,
         row_size(w.type, w.n_in), name, w.n_in);
  }
}

// Runs every tile of the task covering activation rows [i_begin, i_end) and weight rows
// [j_begin, j_end), with weight row j at w + j · stride and Y row i at y + i · ldy.
void run_task(const KernelSet& kernels, int mr, int nr, const uint8_t* w, size_t w_stride, const ActRows& a,
              int64_t n_in, int64_t i_begin, int64_t i_end, int64_t j_begin, int64_t j_end, float* y,
              int64_t ldy) {
  if (i_end - i_begin == 1 && mr == 1) {
    // Single activation row: the GEMV kernel for full groups of gemv_nr rows, a 1-row tile for the rest.
    const int64_t full_end = j_begin + (j_end - j_begin) / nr * nr;
    for (int64_t j = j_begin; j < full_end; j += nr) {
      kernels.gemv(w + static_cast<size_t>(j) * w_stride, w_stride, a, i_begin, n_in, y + i_begin * ldy + j, ldy);
    }
    if (full_end < j_end) {
      kernels.tile[0][j_end - full_end - 1](w + static_cast<size_t>(full_end) * w_stride, w_stride, a, i_begin, n_in,
                                            y + i_begin * ldy + full_end, ldy);
    }
    return;
  }
  for (int64_t j = j_begin; j < j_end; j += nr) {
    const int tile_nr = static_cast<int>(std::min<int64_t>(nr, j_end - j));
    const uint8_t* w_tile = w + static_cast<size_t>(j) * w_stride;
    for (int64_t i = i_begin; i < i_end; i += mr) {
      const int tile_mr = static_cast<int>(std::min<int64_t>(mr, i_end - i));
      kernels.tile[tile_mr - 1][tile_nr - 1](w_tile, w_stride, a, i, n_in, y + i * ldy + j, ldy);
    }
  }
}

}  // namespace

void matmul(const WeightView& w, const float* x, int64_t m, float* y, ThreadPool& pool) {
  matmul_rows(w, 0, w.n_out, x, m, y, pool);
}

void matmul_rows(const WeightView& w, int64_t row_begin, int64_t row_end, const float* x, int64_t m,
                 float* y, ThreadPool& pool) {
  check_weight(w);
  if (row_begin < 0 || row_end > w.n_out || row_begin > row_end) {
    fail("matmul_rows: invalid row range [{}, {}) for a weight with {} rows", row_begin, row_end, w.n_out);
  }
  if (m < 0) fail("matmul: invalid activation row count {}", m);
  const int64_t n_out = row_end - row_begin;
  if (m == 0 || n_out == 0) return;

  const KernelSet* kernels = kernel_set(w.type, /*simd=*/true);
  LKV_CHECK(kernels != nullptr);
  matmul_with_kernels(*kernels, w, row_begin, row_end, x, m, y, pool);
}

void matmul_with_kernels(const KernelSet& chosen, const WeightView& w, int64_t row_begin, int64_t row_end,
                         const float* x, int64_t m, float* y, ThreadPool& pool) {
  const KernelSet* kernels = &chosen;
  const int64_t n_out = row_end - row_begin;
  if (m <= 0 || n_out <= 0) return;
  const int64_t n_in = w.n_in;

  // Convert the activations once. Float weights read x in place.
  ActRows a;
  if (kernels->act == ActFormat::F32) {
    a.base = reinterpret_cast<const uint8_t*>(x);
    a.stride = static_cast<size_t>(n_in) * sizeof(float);
  } else {
    static thread_local ScratchBuffer scratch;
    const ActLayout layout = act_layout(kernels->act, n_in);
    uint8_t* buffer = scratch.get(layout.row_stride * static_cast<size_t>(m));
    a.base = buffer;
    a.stride = layout.row_stride;
    a.scale_offset = layout.scale_offset;
    a.aux_offset = layout.aux_offset;
    const ActFormat format = kernels->act;
    if (m * n_in < kParallelConvertElements || pool.size() == 1) {
      for (int64_t i = 0; i < m; ++i) quantize_act_row(format, x + i * n_in, n_in, buffer + i * layout.row_stride);
    } else {
      pool.run(m, [&](int64_t i, int) {
        quantize_act_row(format, x + i * n_in, n_in, buffer + i * layout.row_stride);
      });
    }
  }

  // Tile shape: the GEMM tile when there are enough rows, else all rows in one short tile.
  int mr = kernels->gemm_mr;
  int nr = kernels->gemm_nr;
  if (m < mr) {
    mr = static_cast<int>(m);
    nr = m == 1 ? kernels->gemv_nr : kernels->gemm_nr;
  }

  // Task grid: activation chunks of up to kActRowsPerTask rows, weight chunks sized for about eight
  // tasks per thread (for load balance) but never below 16 rows (for tile efficiency).
  const int64_t m_chunk = std::min<int64_t>(m, kActRowsPerTask);
  const int64_t m_chunks = (m + m_chunk - 1) / m_chunk;
  const int64_t target_n_chunks = std::max<int64_t>(1, (8 * pool.size() + m_chunks - 1) / m_chunks);
  int64_t n_chunk = std::max<int64_t>(16, (n_out + target_n_chunks - 1) / target_n_chunks);
  if (m == 1) n_chunk = std::min<int64_t>(n_chunk, 256);  // bounds the tail of a huge GEMV
  // Chunk edges on tile multiples give every output element the same tile shape whatever the
  // thread count, so results do not depend on the pool size.
  n_chunk = (n_chunk + nr - 1) / nr * nr;
  const int64_t n_chunks = (n_out + n_chunk - 1) / n_chunk;

  const auto* w_base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row_begin) * w.row_bytes;
  const auto body = [&](int64_t task, int) {
    const int64_t mc = task / n_chunks;
    const int64_t nc = task % n_chunks;
    const int64_t i_begin = mc * m_chunk;
    const int64_t j_begin = nc * n_chunk;
    run_task(*kernels, mr, nr, w_base, w.row_bytes, a, n_in, i_begin, std::min(m, i_begin + m_chunk), j_begin,
             std::min(n_out, j_begin + n_chunk), y, n_out);
  };
  pool.run(m_chunks * n_chunks, body);
}

void matmul_reference(const WeightView& w, const float* x, int64_t m, float* y) {
  check_weight(w);
  std::vector<float> row(static_cast<size_t>(w.n_in));
  for (int64_t j = 0; j < w.n_out; ++j) {
    dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(j) * w.row_bytes, row.data(),
                   w.n_in);
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0.0;
      for (int64_t k = 0; k < w.n_in; ++k) acc += static_cast<double>(row[k]) * x[i * w.n_in + k];
      y[i * w.n_out + j] = static_cast<float>(acc);
    }
  }
}

}  // namespace lkv
