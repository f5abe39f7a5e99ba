#include "lookahead/loss.h"

#include <cmath>

#include "util/error.h"

namespace lkv {

void ImportanceTarget::validate() const {
  if (n_entries.size() != layers.size() || g.size() != layers.size()) {
    fail("ground truth lists {} layers but has {} entry counts and {} distributions; regenerate it", layers.size(),
         n_entries.size(), g.size());
  }
  for (size_t k = 0; k < layers.size(); ++k) {
    const size_t n = static_cast<size_t>(n_entries[k]);
    if (n == 0 || g[k].size() != static_cast<size_t>(n_head_kv) * n) {
      fail("ground truth of layer {} contains {} values for {} KV heads × {} entries; regenerate it", layers[k], g[k].size(),
           n_head_kv, n);
    }
    for (int h = 0; h < n_head_kv; ++h) {
      double sum = 0.0;
      for (size_t j = 0; j < n; ++j) {
        const float v = g[k][static_cast<size_t>(h) * n + j];
        if (!(v >= 0.0f) || !std::isfinite(v)) {
          fail("ground truth of layer {}, KV head {} has value {} at entry {}; it must be a distribution, regenerate it",
               layers[k], h, v, j);
        }
        sum += v;
      }
      if (std::abs(sum - 1.0) > 1e-3) {
        fail("ground truth of layer {}, KV head {} sums to {}, not 1; regenerate it", layers[k], h, sum);
      }
    }
  }
}

template <typename T>
double layer_kl(const T* s_heads, const float* g, int n_head, int n_head_kv, int n, double weight, T* ds_heads) {
  const int group = n_head / n_head_kv;
  LKV_CHECK(group * n_head_kv == n_head && n > 0);
  std::vector<double> s(static_cast<size_t>(n)), d_shat(static_cast<size_t>(n));
  double total = 0.0;
  for (int kv = 0; kv < n_head_kv; ++kv) {
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      double v = 0.0;
      for (int h = kv * group; h < (kv + 1) * group; ++h) v += static_cast<double>(s_heads[static_cast<size_t>(h) * n + j]);
      s[static_cast<size_t>(j)] = v / group;
      sum += s[static_cast<size_t>(j)];
    }
    LKV_CHECK(sum > 0.0);
    const float* gk = g + static_cast<size_t>(kv) * n;
    double kl = 0.0, weighted = 0.0;  // weighted = Σ_j ŝ_j·∂KL/∂ŝ_j
    for (int j = 0; j < n; ++j) {
      const double shat = s[static_cast<size_t>(j)] / sum;
      const double gj = gk[j];
      if (gj > 0.0) kl += gj * (std::log(gj) - std::log(shat + kKlEpsilon));
      d_shat[static_cast<size_t>(j)] = -gj / (shat + kKlEpsilon);
      weighted += shat * d_shat[static_cast<size_t>(j)];
    }
    total += kl;
    if (!ds_heads) continue;
    // ŝ_j = s_j / S: ∂KL/∂s_k = (∂KL/∂ŝ_k − Σ_j ŝ_j·∂KL/∂ŝ_j) / S; s is the group mean of s_h.
    for (int j = 0; j < n; ++j) {
      const double ds = weight * (d_shat[static_cast<size_t>(j)] - weighted) / sum / group;
      for (int h = kv * group; h < (kv + 1) * group; ++h) ds_heads[static_cast<size_t>(h) * n + j] += static_cast<T>(ds);
    }
  }
  return weight * total;
}

template double layer_kl<float>(const float*, const float*, int, int, int, double, float*);
template double layer_kl<double>(const double*, const float*, int, int, int, double, double*);

}  // namespace lkv
