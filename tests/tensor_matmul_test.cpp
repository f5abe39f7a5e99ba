// Matmul kernels against references.
//
// Three checks per weight type: (1) every SIMD tile shape against the scalar kernel on the same
// converted activations; (2) the full driver against a double-precision product of the dequantized
// weights with the activations as the kernels see them (d · q), which isolates kernel arithmetic;
// (3) the driver against matmul_reference on the original f32 activations, where the allowed error
// is the exact worst case of the activation rounding, Σ |w| · |x − d·q|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quantize.h"
#include "tensor/thread_pool.h"
#include "tensor_test_util.h"

namespace lkv {
namespace {

const GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                 GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                 GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::string name_of(GgmlType type) { return type_name(static_cast<uint32_t>(type)); }

// Inner dimension for a type: several blocks, and for float types an odd length to reach the tails.
int64_t test_n_in(GgmlType type) {
  const int64_t block = type_traits(type).block_size;
  if (block == 1) return 83;
  if (block == 32) return 160;
  return 512;
}

struct Problem {
  GgmlType type;
  int64_t m, n_in, n_out;
  std::vector<uint8_t> weights;
  std::vector<float> x;
  WeightView view;

  Problem(GgmlType t, int64_t m_rows, int64_t n_out_rows, uint32_t seed)
      : type(t), m(m_rows), n_in(test_n_in(t)), n_out(n_out_rows) {
    weights = test::random_weights(type, n_out, n_in, seed);
    x = test::random_floats(static_cast<size_t>(m * n_in), seed + 1000);
    view = WeightView{type, weights.data(), n_in, n_out, row_size(type, n_in)};
  }

  std::vector<float> dequantized_weights() const {
    std::vector<float> w(static_cast<size_t>(n_out * n_in));
    for (int64_t j = 0; j < n_out; ++j) {
      dequantize_row(type, weights.data() + j * view.row_bytes, w.data() + j * n_in, n_in);
    }
    return w;
  }
};

// Σ |w · d·q| over one (activation row, weight row) pair: the scale of the f32 rounding error.
double product_magnitude(const std::vector<float>& w, const std::vector<float>& xq, int64_t n_in, int64_t i,
                         int64_t j) {
  double magnitude = 0.0;
  for (int64_t k = 0; k < n_in; ++k) magnitude += std::fabs(w[j * n_in + k] * xq[i * n_in + k]);
  return magnitude;
}

TEST(TensorMatmul, EveryTileShapeMatchesScalar) {
  for (GgmlType type : kWeightTypes) {
    const KernelSet* simd = kernel_set(type, true);
    const KernelSet* scalar = kernel_set(type, false);
    ASSERT_NE(simd, nullptr) << name_of(type);
    ASSERT_NE(scalar, nullptr) << name_of(type);
    ASSERT_EQ(simd->act, scalar->act);
    const Problem p(type, kMaxTile, kMaxTile, 11);
    const test::ActBuffer act(simd->act, p.x.data(), p.m, p.n_in, true);
    const std::vector<float> w = p.dequantized_weights();
    const std::vector<float> xq = act.decoded(p.m);
    for (int mr = 1; mr <= kMaxTile; ++mr) {
      for (int nr = 1; nr <= kMaxTile; ++nr) {
        float y_simd[kMaxTile * kMaxTile];
        float y_scalar[kMaxTile * kMaxTile];
        simd->tile[mr - 1][nr - 1](p.weights.data(), p.view.row_bytes, act.rows(), 0, p.n_in, y_simd, kMaxTile);
        scalar->tile[mr - 1][nr - 1](p.weights.data(), p.view.row_bytes, act.rows(), 0, p.n_in, y_scalar,
                                     kMaxTile);
        for (int i = 0; i < mr; ++i) {
          for (int j = 0; j < nr; ++j) {
            // Both sum the same exact block products in f32, in different orders.
            const double tolerance = 2e-6 * product_magnitude(w, xq, p.n_in, i, j) + 1e-6;
            ASSERT_NEAR(y_simd[i * kMaxTile + j], y_scalar[i * kMaxTile + j], tolerance)
                << name_of(type) << " tile " << mr << "x" << nr << " at " << i << "," << j;
          }
        }
      }
    }

    // The GEMV kernel, for every activation row.
    for (int i = 0; i < p.m; ++i) {
      float y_gemv[kMaxTile];
      float y_scalar[kMaxTile];
      simd->gemv(p.weights.data(), p.view.row_bytes, act.rows(), i, p.n_in, y_gemv, 1);
      scalar->tile[0][simd->gemv_nr - 1](p.weights.data(), p.view.row_bytes, act.rows(), i, p.n_in, y_scalar, 1);
      for (int j = 0; j < simd->gemv_nr; ++j) {
        ASSERT_NEAR(y_gemv[j], y_scalar[j], 2e-6 * product_magnitude(w, xq, p.n_in, i, j) + 1e-6)
            << name_of(type) << " gemv row " << i << ", weight row " << j;
      }
    }
  }
}

void check_driver(GgmlType type, int64_t m, int64_t n_out, ThreadPool& pool) {
  const Problem p(type, m, n_out, static_cast<uint32_t>(m * 100 + n_out));
  std::vector<float> y(static_cast<size_t>(m * n_out));
  matmul(p.view, p.x.data(), m, y.data(), pool);

  std::vector<float> y_ref(y.size());
  matmul_reference(p.view, p.x.data(), m, y_ref.data());

  const test::ActBuffer act(kernel_set(type, true)->act, p.x.data(), m, p.n_in, true);
  const std::vector<float> xq = act.decoded(m);
  const std::vector<float> w = p.dequantized_weights();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n_out; ++j) {
      double exact = 0.0;           // Σ w · (d·q): what the kernels compute, in double
      double magnitude = 0.0;       // Σ |w · d·q|
      double rounding_bound = 0.0;  // Σ |w| · |x − d·q|
      for (int64_t k = 0; k < p.n_in; ++k) {
        const double wk = w[j * p.n_in + k];
        exact += wk * xq[i * p.n_in + k];
        magnitude += std::fabs(wk * xq[i * p.n_in + k]);
        rounding_bound += std::fabs(wk) * std::fabs(p.x[i * p.n_in + k] - xq[i * p.n_in + k]);
      }
      const float got = y[i * n_out + j];
      // f32 accumulation over at most 83 terms (elements or exact block sums), so the rounding stays
      // far below 2e-6 relative to Σ|terms|.
      ASSERT_NEAR(got, exact, 2e-6 * magnitude + 1e-6)
          << name_of(type) << " m=" << m << " n_out=" << n_out << " at " << i << "," << j;
      ASSERT_NEAR(got, y_ref[i * n_out + j], rounding_bound * 1.0001 + 2e-6 * magnitude + 1e-6)
          << name_of(type) << " vs reference, m=" << m << " n_out=" << n_out << " at " << i << "," << j;
    }
  }
}

TEST(TensorMatmul, DriverMatchesReferenceOddShapes) {
  ThreadPool pool(2);
  for (GgmlType type : kWeightTypes) {
    for (int64_t m : {1, 3, 7, 69}) {
      for (int64_t n_out : {1, 13, 37}) {
        if (m == 69 && n_out == 1) continue;
        check_driver(type, m, n_out, pool);
      }
    }
  }
}

TEST(TensorMatmul, ManyOutputRowsSplitAcrossTasks) {
  ThreadPool pool(3);
  check_driver(GgmlType::Q8_0, 1, 1029, pool);
  check_driver(GgmlType::Q4_K, 5, 301, pool);
}

TEST(TensorMatmul, ResultIndependentOfThreadCount) {
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_1, GgmlType::Q6_K, GgmlType::F16}) {
    const Problem p(type, 70, 45, 21);
    std::vector<float> y1(static_cast<size_t>(p.m * p.n_out));
    std::vector<float> y3(y1.size());
    ThreadPool one(1);
    ThreadPool three(3);
    matmul(p.view, p.x.data(), p.m, y1.data(), one);
    matmul(p.view, p.x.data(), p.m, y3.data(), three);
    ASSERT_EQ(std::memcmp(y1.data(), y3.data(), y1.size() * sizeof(float)), 0) << name_of(type);
  }
}

TEST(TensorMatmul, RowRangeMatchesFullProduct) {
  ThreadPool pool(2);
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::BF16, GgmlType::Q5_0}) {
    for (int64_t m : {1, 3}) {
      const Problem p(type, m, 50, 31);
      std::vector<float> full(static_cast<size_t>(p.m * p.n_out));
      matmul(p.view, p.x.data(), p.m, full.data(), pool);
      const int64_t begin = 7;
      const int64_t end = 30;
      std::vector<float> part(static_cast<size_t>(p.m * (end - begin)));
      matmul_rows(p.view, begin, end, p.x.data(), p.m, part.data(), pool);
      for (int64_t i = 0; i < p.m; ++i) {
        for (int64_t j = begin; j < end; ++j) {
          // The range shifts tile positions; only the Q5_0 tiles' rounding depends on position.
          const float expected = full[i * p.n_out + j];
          const float tolerance = type == GgmlType::Q5_0 ? 1e-5f * (1.0f + std::fabs(expected)) : 0.0f;
          ASSERT_NEAR(part[i * (end - begin) + (j - begin)], expected, tolerance)
              << name_of(type) << " m=" << m << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(TensorMatmul, ScalarKernelsThroughDriver) {
  ThreadPool pool(2);
  for (GgmlType type : kWeightTypes) {
    const Problem p(type, 5, 9, 41);
    std::vector<float> y_simd(static_cast<size_t>(p.m * p.n_out));
    std::vector<float> y_scalar(y_simd.size());
    matmul(p.view, p.x.data(), p.m, y_simd.data(), pool);
    matmul_with_kernels(*kernel_set(type, false), p.view, 0, p.n_out, p.x.data(), p.m, y_scalar.data(), pool);
    for (size_t k = 0; k < y_simd.size(); ++k) {
      ASSERT_NEAR(y_simd[k], y_scalar[k], 1e-4 * (1.0 + std::fabs(y_scalar[k]))) << name_of(type) << " " << k;
    }
  }
}

TEST(TensorMatmul, PaddedRowStride) {
  ThreadPool pool(2);
  const Problem p(GgmlType::Q5_0, 4, 6, 51);
  const size_t padded = p.view.row_bytes + 10;
  std::vector<uint8_t> spaced(padded * static_cast<size_t>(p.n_out), 0xAB);
  for (int64_t j = 0; j < p.n_out; ++j) {
    std::memcpy(spaced.data() + j * padded, p.weights.data() + j * p.view.row_bytes, p.view.row_bytes);
  }
  WeightView view = p.view;
  view.data = spaced.data();
  view.row_bytes = padded;
  std::vector<float> y1(static_cast<size_t>(p.m * p.n_out));
  std::vector<float> y2(y1.size());
  matmul(p.view, p.x.data(), p.m, y1.data(), pool);
  matmul(view, p.x.data(), p.m, y2.data(), pool);
  EXPECT_EQ(y1, y2);
}

TEST(TensorMatmul, RejectsInvalidViews) {
  ThreadPool pool(1);
  std::vector<uint8_t> data(1024);
  float x[64] = {};
  float y[64] = {};
  EXPECT_THROW(matmul(WeightView{GgmlType::Q8_1, data.data(), 32, 1, 36}, x, 1, y, pool), std::exception);
  EXPECT_THROW(matmul(WeightView{static_cast<GgmlType>(23), data.data(), 32, 1, 36}, x, 1, y, pool), std::exception);
  EXPECT_THROW(matmul(WeightView{GgmlType::Q4_0, data.data(), 33, 1, 18}, x, 1, y, pool), std::exception);
  EXPECT_THROW(matmul(WeightView{GgmlType::Q4_0, data.data(), 32, 1, 17}, x, 1, y, pool), std::exception);
  EXPECT_THROW(matmul(WeightView{GgmlType::Q4_0, nullptr, 32, 1, 18}, x, 1, y, pool), std::exception);
  EXPECT_THROW(matmul_rows(WeightView{GgmlType::Q4_0, data.data(), 32, 4, 18}, 2, 5, x, 1, y, pool), std::exception);
  EXPECT_NO_THROW(matmul(WeightView{GgmlType::Q4_0, data.data(), 32, 4, 18}, x, 0, y, pool));
}

}  // namespace
}  // namespace lkv
