#include "lookahead/backward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "model/vec_f32.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv::grad {

namespace {

template <typename F>
void parallel_for(ThreadPool* pool, int64_t n, F&& fn) {
  if (pool && pool->size() > 1 && n > 1) {
    pool->run(n, [&](int64_t task, int) { fn(task); });
  } else {
    for (int64_t task = 0; task < n; ++task) fn(task);
  }
}

// Dot products and axpy with the f32 SIMD primitives for float, plain loops for double (where the
// second operand may be a stored f32 value promoted on the fly).
inline float dot(const float* a, const float* b, int n) { return vec::dot(a, b, n); }
template <typename U>
inline double dot(const double* a, const U* b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += a[i] * static_cast<double>(b[i]);
  return s;
}
inline void axpy(float alpha, const float* x, float* y, int n) { vec::axpy(alpha, x, y, n); }
template <typename U>
inline void axpy(double alpha, const U* x, double* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += alpha * static_cast<double>(x[i]);
}

// Columns of W handled by one task of matmul_add_dyw: a multiple of the type's block size, so a
// column slice of a quantized row can be dequantized on its own.
int64_t column_chunk(GgmlType type) {
  const int64_t block = type_traits(type).block_size;
  return block * std::max<int64_t>(1, (128 + block - 1) / block);
}

}  // namespace

template <typename T>
T rms_norm_forward(const T* x, const float* w, T* y, int n, float eps) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  // Same rounding as ops::rms_norm for float: the scale is rounded once, then applied per element.
  const T inv = static_cast<T>(1.0 / std::sqrt(sum / n + static_cast<double>(eps)));
  for (int i = 0; i < n; ++i) y[i] = x[i] * inv * static_cast<T>(w[i]);
  return inv;
}

template <typename T>
void rms_norm_backward(const T* x, const float* w, T inv, const T* dy, T* dx, int n) {
  // y_i = x_i·inv·w_i and ∂inv/∂x_k = −inv³·x_k/n, so with u = dy ⊙ w:
  // dx_k = inv·u_k − inv³·x_k·(Σ_i u_i·x_i)/n.
  double ux = 0.0;
  for (int i = 0; i < n; ++i) ux += static_cast<double>(dy[i]) * w[i] * static_cast<double>(x[i]);
  const T c = static_cast<T>(static_cast<double>(inv) * inv * inv * ux / n);
  for (int i = 0; i < n; ++i) dx[i] += inv * dy[i] * static_cast<T>(w[i]) - c * x[i];
}

template <typename T>
void rope(T* x, int n_heads, int head_dim, int n_rot, int32_t position, float base, float freq_scale, RopeStyle style,
          bool inverse) {
  const int half = n_rot / 2;
  for (int i = 0; i < half; ++i) {
    // Angles as ops::rope computes them (in double), then rounded to T.
    const double theta = static_cast<double>(position) * freq_scale *
                         std::pow(static_cast<double>(base), -2.0 * i / static_cast<double>(n_rot));
    const T c = static_cast<T>(std::cos(theta));
    const T s = inverse ? -static_cast<T>(std::sin(theta)) : static_cast<T>(std::sin(theta));
    const int a = style == RopeStyle::Norm ? 2 * i : i;
    const int b = style == RopeStyle::Norm ? 2 * i + 1 : i + half;
    for (int h = 0; h < n_heads; ++h) {
      T* v = x + static_cast<size_t>(h) * head_dim;
      const T x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

namespace {

template <typename T>
T gelu(T x) {
  const T k = static_cast<T>(0.7978845608028654);  // sqrt(2/π)
  return static_cast<T>(0.5) * x * (1 + std::tanh(k * x * (1 + static_cast<T>(0.044715) * x * x)));
}

template <typename T>
T gelu_derivative(T x) {
  const T k = static_cast<T>(0.7978845608028654);
  const T c = static_cast<T>(0.044715);
  const T th = std::tanh(k * x * (1 + c * x * x));
  return static_cast<T>(0.5) * (1 + th) + static_cast<T>(0.5) * x * (1 - th * th) * k * (1 + 3 * c * x * x);
}

template <typename T>
T silu(T x) {
  return x / (1 + std::exp(-x));
}

template <typename T>
T silu_derivative(T x) {
  const T sig = 1 / (1 + std::exp(-x));
  return sig * (1 + x * (1 - sig));
}

}  // namespace

template <typename T>
void gated_forward(const T* gate, const T* up, T* out, int64_t n, FfnActivation act) {
  if (act == FfnActivation::GeluTanh) {
    for (int64_t i = 0; i < n; ++i) out[i] = gelu(gate[i]) * up[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
  }
}

template <typename T>
void gated_backward(const T* gate, const T* up, const T* dout, T* dgate, T* dup, int64_t n, FfnActivation act) {
  const bool gelu_act = act == FfnActivation::GeluTanh;
  for (int64_t i = 0; i < n; ++i) {
    const T a = gelu_act ? gelu(gate[i]) : silu(gate[i]);
    const T da = gelu_act ? gelu_derivative(gate[i]) : silu_derivative(gate[i]);
    dgate[i] += dout[i] * up[i] * da;
    dup[i] += dout[i] * a;
  }
}

namespace {

// The one-thread pool that runs a product inline when the caller passes no pool.
ThreadPool& pool_or_inline(ThreadPool* pool) {
  static ThreadPool inline_pool(1);
  return pool ? *pool : inline_pool;
}

bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// W [n_out × n_in] dequantized to f32, or its transpose [n_in × n_out], in `buf`.
void dequantize_matrix(const WeightView& w, bool transpose, ThreadPool* pool, std::vector<float>& buf) {
  const int64_t n_in = w.n_in, n_out = w.n_out;
  buf.resize(static_cast<size_t>(n_in * n_out));
  constexpr int64_t kRowsPerTask = 32;
  parallel_for(pool, (n_out + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task) {
    thread_local std::vector<float> row;
    row.resize(static_cast<size_t>(n_in));
    const int64_t o_end = std::min(n_out, (task + 1) * kRowsPerTask);
    for (int64_t o = task * kRowsPerTask; o < o_end; ++o) {
      const uint8_t* src = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(o) * w.row_bytes;
      if (!transpose) {
        dequantize_row(w.type, src, buf.data() + static_cast<size_t>(o * n_in), n_in);
        continue;
      }
      dequantize_row(w.type, src, row.data(), n_in);
      for (int64_t i = 0; i < n_in; ++i) buf[static_cast<size_t>(i * n_out + o)] = row[static_cast<size_t>(i)];
    }
  });
}

}  // namespace

template <typename T>
void matmul_xwt(const WeightView& w, const T* x, int m, T* y, ThreadPool* pool) {
  const int64_t n_in = w.n_in, n_out = w.n_out;
  if constexpr (std::is_same_v<T, float>) {
    // Float weights go to the engine's f32 kernels as they are, which read activations unrounded.
    // Quantized weights are dequantized once per call (n_out·n_in values, 1/m of the product's
    // work) and then take the same kernels.
    if (is_float_type(w.type)) {
      matmul(w, x, m, y, pool_or_inline(pool));
      return;
    }
    thread_local std::vector<float> dense;
    dequantize_matrix(w, /*transpose=*/false, pool, dense);
    const WeightView f{GgmlType::F32, dense.data(), n_in, n_out, static_cast<size_t>(n_in) * sizeof(float)};
    matmul(f, x, m, y, pool_or_inline(pool));
  } else {
    constexpr int64_t kRowsPerTask = 32;
    const int64_t tasks = (n_out + kRowsPerTask - 1) / kRowsPerTask;
    parallel_for(pool, tasks, [&](int64_t task) {
      thread_local std::vector<float> row;
      row.resize(static_cast<size_t>(n_in));
      const int64_t o_end = std::min(n_out, (task + 1) * kRowsPerTask);
      for (int64_t o = task * kRowsPerTask; o < o_end; ++o) {
        dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(o) * w.row_bytes, row.data(), n_in);
        for (int r = 0; r < m; ++r) {
          y[static_cast<size_t>(r) * n_out + o] = dot(x + static_cast<size_t>(r) * n_in, row.data(), static_cast<int>(n_in));
        }
      }
    });
  }
}

template <typename T>
void matmul_add_dyw(const WeightView& w, const T* dy, int m, T* dx, ThreadPool* pool) {
  const int64_t n_in = w.n_in, n_out = w.n_out;
  if constexpr (std::is_same_v<T, float>) {
    // dx += dy·W as a product with Wᵀ [n_in × n_out] on the f32 kernels.
    thread_local std::vector<float> transposed, product;
    dequantize_matrix(w, /*transpose=*/true, pool, transposed);
    product.resize(static_cast<size_t>(m) * n_in);
    const WeightView t{GgmlType::F32, transposed.data(), n_out, n_in, static_cast<size_t>(n_out) * sizeof(float)};
    matmul(t, dy, m, product.data(), pool_or_inline(pool));
    for (size_t i = 0; i < product.size(); ++i) dx[i] += product[i];
  } else {
    const int64_t chunk = column_chunk(w.type);
    LKV_CHECK(n_in % type_traits(w.type).block_size == 0);
    const int64_t tasks = (n_in + chunk - 1) / chunk;
    // Each task owns a column range of dx and walks every row of W in order, so the sums do not
    // depend on how tasks are spread over threads.
    parallel_for(pool, tasks, [&](int64_t task) {
      thread_local std::vector<float> slice;
      const int64_t c0 = task * chunk;
      const int64_t len = std::min(n_in, c0 + chunk) - c0;
      slice.resize(static_cast<size_t>(len));
      const size_t offset = row_size(w.type, c0);
      for (int64_t o = 0; o < n_out; ++o) {
        const uint8_t* src = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(o) * w.row_bytes + offset;
        bool any = false;
        for (int r = 0; r < m && !any; ++r) any = dy[static_cast<size_t>(r) * n_out + o] != 0;
        if (!any) continue;
        dequantize_row(w.type, src, slice.data(), len);
        for (int r = 0; r < m; ++r) {
          const T g = dy[static_cast<size_t>(r) * n_out + o];
          if (g != 0) axpy(g, slice.data(), dx + static_cast<size_t>(r) * n_in + c0, static_cast<int>(len));
        }
      }
    });
  }
}

template <typename T>
void projection_forward(const WeightView& w, const LoraRef<T>& lora, const T* x, int m, T* y, T* t, ThreadPool* pool) {
  matmul_xwt(w, x, m, y, pool);
  if (!lora.a) return;
  const size_t r = static_cast<size_t>(lora.rank);
  const size_t n_in = static_cast<size_t>(w.n_in), n_out = static_cast<size_t>(w.n_out);
  // Same order of operations as the inference pass's LoRA (transformer.cpp) for float.
  for (size_t row = 0; row < static_cast<size_t>(m); ++row) {
    T* tr = t + row * r;
    for (size_t k = 0; k < r; ++k) tr[k] = lora.scale * dot(lora.a + k * n_in, x + row * n_in, static_cast<int>(n_in));
    T* yr = y + row * n_out;
    for (size_t o = 0; o < n_out; ++o) {
      const T* br = lora.b + o * r;
      T sum = 0;
      for (size_t k = 0; k < r; ++k) sum += br[k] * tr[k];
      yr[o] += sum;
    }
  }
}

template <typename T>
void projection_backward(const WeightView& w, const LoraRef<T>& lora, const T* x, const T* t, const T* dy, int m,
                         T* dx, const LoraGrad<T>& grad, ThreadPool* pool) {
  if (dx) matmul_add_dyw(w, dy, m, dx, pool);
  if (!lora.a) return;
  const size_t r = static_cast<size_t>(lora.rank);
  const size_t n_in = static_cast<size_t>(w.n_in), n_out = static_cast<size_t>(w.n_out);
  std::vector<T> u(r);  // ∂L/∂t for one row, t = scale·A·x
  for (size_t row = 0; row < static_cast<size_t>(m); ++row) {
    const T* dyr = dy + row * n_out;
    const T* tr = t + row * r;
    std::fill(u.begin(), u.end(), T(0));
    for (size_t o = 0; o < n_out; ++o) {
      const T g = dyr[o];
      if (g == 0) continue;
      const T* br = lora.b + o * r;
      T* gbr = grad.b + o * r;
      for (size_t k = 0; k < r; ++k) {
        u[k] += g * br[k];
        gbr[k] += g * tr[k];
      }
    }
    const T* xr = x + row * n_in;
    for (size_t k = 0; k < r; ++k) {
      const T uk = lora.scale * u[k];
      if (uk == 0) continue;
      axpy(uk, xr, grad.a + k * n_in, static_cast<int>(n_in));
      if (dx) axpy(uk, lora.a + k * n_in, dx + row * n_in, static_cast<int>(n_in));
    }
  }
}

template <typename T>
void attention_forward(const AttentionShape& shape, const std::vector<CacheHead>& cache, const int32_t* positions, int m,
                       const T* q, const T* k, const T* v, T* out, AttentionSaved<T>& saved, ThreadPool* pool) {
  const int hd = shape.head_dim, n_head = shape.n_head, n_kv = shape.n_head_kv;
  const int n_gqa = n_head / n_kv;
  LKV_CHECK(static_cast<int>(cache.size()) == n_kv && n_head % n_kv == 0);
  const int n_cache = cache[0].n;
  for (const CacheHead& c : cache) LKV_CHECK(c.n == n_cache);
  const int n_total = n_cache + m;
  saved.m = m;
  saved.n_cache = n_cache;
  saved.probs.assign(static_cast<size_t>(m) * n_head * n_total, T(0));

  parallel_for(pool, static_cast<int64_t>(n_head) * m, [&](int64_t task) {
    const int h = static_cast<int>(task / m);
    const int i = static_cast<int>(task % m);
    const int g = h / n_gqa;
    const CacheHead& c = cache[static_cast<size_t>(g)];
    const int32_t p = positions[i];
    const int32_t first_visible = shape.window > 0 ? p - shape.window + 1 : std::numeric_limits<int32_t>::min();
    const int lo = static_cast<int>(std::lower_bound(c.positions, c.positions + n_cache, first_visible) - c.positions);
    const int hi = static_cast<int>(std::upper_bound(c.positions, c.positions + n_cache, p) - c.positions);
    int i_lo = 0;
    while (i_lo < i && positions[i_lo] < first_visible) ++i_lo;

    const T* qr = q + (static_cast<size_t>(i) * n_head + h) * hd;
    T* probs = saved.probs.data() + (static_cast<size_t>(i) * n_head + h) * n_total;
    auto new_key = [&](int j) { return k + (static_cast<size_t>(j) * n_kv + g) * hd; };
    auto new_value = [&](int j) { return v + (static_cast<size_t>(j) * n_kv + g) * hd; };

    T max_score = -std::numeric_limits<T>::infinity();
    for (int j = lo; j < hi; ++j) {
      probs[j] = dot(qr, c.keys + static_cast<size_t>(j) * hd, hd);
      max_score = std::max(max_score, probs[j]);
    }
    for (int j = i_lo; j <= i; ++j) {
      probs[n_cache + j] = dot(qr, new_key(j), hd);
      max_score = std::max(max_score, probs[n_cache + j]);
    }
    double sum = 0.0;
    auto expo = [&](T& s) {
      s = std::exp(s - max_score);
      sum += s;
    };
    for (int j = lo; j < hi; ++j) expo(probs[j]);
    for (int j = i_lo; j <= i; ++j) expo(probs[n_cache + j]);
    const T inv = static_cast<T>(1.0 / sum);

    T* o = out + (static_cast<size_t>(i) * n_head + h) * hd;
    std::fill(o, o + hd, T(0));
    for (int j = lo; j < hi; ++j) {
      probs[j] *= inv;
      axpy(probs[j], c.values + static_cast<size_t>(j) * hd, o, hd);
    }
    for (int j = i_lo; j <= i; ++j) {
      probs[n_cache + j] *= inv;
      axpy(probs[n_cache + j], new_value(j), o, hd);
    }
  });
}

template <typename T>
void attention_backward(const AttentionShape& shape, const std::vector<CacheHead>& cache, int m, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dout, const T* dprob_cache,
                        T* dq, T* dk, T* dv, ThreadPool* pool) {
  const int hd = shape.head_dim, n_head = shape.n_head, n_kv = shape.n_head_kv;
  const int n_gqa = n_head / n_kv;
  const int n_cache = saved.n_cache;
  const int n_total = n_cache + m;
  LKV_CHECK(saved.m == m);
  // Per query head gradients of the new rows' keys and values, summed into their KV head below in
  // head order, so the result does not depend on the thread count.
  std::vector<T> dk_head(static_cast<size_t>(n_head) * m * hd, T(0));
  std::vector<T> dv_head(static_cast<size_t>(n_head) * m * hd, T(0));

  parallel_for(pool, n_head, [&](int64_t task) {
    const int h = static_cast<int>(task);
    const int g = h / n_gqa;
    const CacheHead& c = cache[static_cast<size_t>(g)];
    std::vector<T> dp(static_cast<size_t>(n_total));
    T* dkh = dk_head.data() + static_cast<size_t>(h) * m * hd;
    T* dvh = dv_head.data() + static_cast<size_t>(h) * m * hd;
    auto key_of = [&](int j) -> const T* { return k + (static_cast<size_t>(j) * n_kv + g) * hd; };
    auto value_of = [&](int j) -> const T* { return v + (static_cast<size_t>(j) * n_kv + g) * hd; };
    for (int i = 0; i < m; ++i) {
      const T* probs = saved.row(i, h, n_head);
      const T* dor = dout ? dout + (static_cast<size_t>(i) * n_head + h) * hd : nullptr;
      // ∂L/∂A over the visible entries (probability 0 marks a hidden entry; an entry whose
      // probability underflowed to 0 contributes nothing either way).
      double c_sum = 0.0;
      for (int j = 0; j < n_total; ++j) {
        if (probs[j] == 0) {
          dp[static_cast<size_t>(j)] = 0;
          continue;
        }
        T d = 0;
        if (dor) d = j < n_cache ? dot(dor, c.values + static_cast<size_t>(j) * hd, hd) : dot(dor, value_of(j - n_cache), hd);
        if (dprob_cache && j < n_cache) d += dprob_cache[static_cast<size_t>(h) * n_cache + j];
        dp[static_cast<size_t>(j)] = d;
        c_sum += static_cast<double>(probs[j]) * d;
      }
      // Softmax: ∂L/∂score_j = A_j·(∂L/∂A_j − Σ_k A_k·∂L/∂A_k).
      const T c_t = static_cast<T>(c_sum);
      T* dqr = dq + (static_cast<size_t>(i) * n_head + h) * hd;
      const T* qr = q + (static_cast<size_t>(i) * n_head + h) * hd;
      for (int j = 0; j < n_total; ++j) {
        if (probs[j] == 0) continue;
        const T ds = probs[j] * (dp[static_cast<size_t>(j)] - c_t);
        if (j < n_cache) {
          axpy(ds, c.keys + static_cast<size_t>(j) * hd, dqr, hd);
        } else {
          const int jn = j - n_cache;
          axpy(ds, key_of(jn), dqr, hd);
          axpy(ds, qr, dkh + static_cast<size_t>(jn) * hd, hd);
          if (dor) axpy(probs[j], dor, dvh + static_cast<size_t>(jn) * hd, hd);
        }
      }
    }
  });

  for (int h = 0; h < n_head; ++h) {
    const int g = h / n_gqa;
    for (int i = 0; i < m; ++i) {
      const T* sk = dk_head.data() + (static_cast<size_t>(h) * m + i) * hd;
      const T* sv = dv_head.data() + (static_cast<size_t>(h) * m + i) * hd;
      T* tk = dk + (static_cast<size_t>(i) * n_kv + g) * hd;
      T* tv = dv + (static_cast<size_t>(i) * n_kv + g) * hd;
      for (int d = 0; d < hd; ++d) {
        tk[d] += sk[d];
        tv[d] += sv[d];
      }
    }
  }
}

#define LKV_INSTANTIATE(T)                                                                                          \
  template T rms_norm_forward<T>(const T*, const float*, T*, int, float);                                           \
  template void rms_norm_backward<T>(const T*, const float*, T, const T*, T*, int);                                 \
  template void rope<T>(T*, int, int, int, int32_t, float, float, RopeStyle, bool);                                 \
  template void gated_forward<T>(const T*, const T*, T*, int64_t, FfnActivation);                                   \
  template void gated_backward<T>(const T*, const T*, const T*, T*, T*, int64_t, FfnActivation);                    \
  template void matmul_xwt<T>(const WeightView&, const T*, int, T*, ThreadPool*);                                   \
  template void matmul_add_dyw<T>(const WeightView&, const T*, int, T*, ThreadPool*);                               \
  template void projection_forward<T>(const WeightView&, const LoraRef<T>&, const T*, int, T*, T*, ThreadPool*);    \
  template void projection_backward<T>(const WeightView&, const LoraRef<T>&, const T*, const T*, const T*, int, T*, \
                                       const LoraGrad<T>&, ThreadPool*);                                            \
  template void attention_forward<T>(const AttentionShape&, const std::vector<CacheHead>&, const int32_t*, int,     \
                                     const T*, const T*, const T*, T*, AttentionSaved<T>&, ThreadPool*);            \
  template void attention_backward<T>(const AttentionShape&, const std::vector<CacheHead>&, int, const T*, const T*, \
                                      const T*, const AttentionSaved<T>&, const T*, const T*, T*, T*, T*, ThreadPool*);

LKV_INSTANTIATE(float)
LKV_INSTANTIATE(double)
#undef LKV_INSTANTIATE

}  // namespace lkv::grad
