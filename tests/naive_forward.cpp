#include "naive_forward.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv::test {

namespace {

using Vec = std::vector<double>;

// Weight tensor decoded to double. For a matrix, row o (one output) contains n_in values.
struct Tensor {
  int64_t n_in = 0;
  int64_t n_out = 1;
  Vec w;
  bool present() const { return !w.empty(); }
};

Tensor load(const gguf::File& file, const std::string& name, bool required = true) {
  const gguf::TensorInfo* info = file.find_tensor(name);
  if (!info) {
    if (required) fail("naive forward: tensor '{}' is missing", name);
    return {};
  }
  Tensor t;
  t.n_in = info->ne(0);
  t.n_out = info->n_elements() / t.n_in;
  std::vector<float> f(static_cast<size_t>(info->n_elements()));
  dequantize_row(info->type, info->data, f.data(), info->n_elements());
  t.w.assign(f.begin(), f.end());
  return t;
}

// Returns W x, plus the bias when one is given and present.
Vec matvec(const Tensor& m, const Vec& x, const Tensor* bias = nullptr) {
  LKV_CHECK(static_cast<int64_t>(x.size()) == m.n_in);
  Vec y(static_cast<size_t>(m.n_out));
  for (int64_t o = 0; o < m.n_out; ++o) {
    const double* row = m.w.data() + o * m.n_in;
    double sum = 0.0;
    for (int64_t i = 0; i < m.n_in; ++i) sum += row[i] * x[static_cast<size_t>(i)];
    y[static_cast<size_t>(o)] = sum + (bias && bias->present() ? bias->w[static_cast<size_t>(o)] : 0.0);
  }
  return y;
}

// Applies RMSNorm times weight to x[begin, begin + n), in place.
void rms_norm(Vec& x, size_t begin, size_t n, const Vec& weight, double eps) {
  double mean_sq = 0.0;
  for (size_t i = 0; i < n; ++i) mean_sq += x[begin + i] * x[begin + i];
  mean_sq /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(mean_sq + eps);
  for (size_t i = 0; i < n; ++i) x[begin + i] = x[begin + i] * inv * weight[i];
}

// Rotates each head of v (n_heads × head_dim) for position pos: pair i turns by
// pos · base^(−2i / n_rot). NEOX pairs element i with i + n_rot/2, NORM pairs 2i with 2i + 1.
void rope(Vec& v, int n_heads, int head_dim, int n_rot, int pos, double base, bool neox) {
  const int half = n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    double* x = v.data() + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const double angle = pos * std::pow(base, -2.0 * i / n_rot);
      const int a = neox ? i : 2 * i;
      const int b = neox ? i + half : 2 * i + 1;
      const double x0 = x[a], x1 = x[b];
      x[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
      x[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
    }
  }
}

double gelu_tanh(double x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }

struct Layer {
  Tensor attn_norm, wq, wk, wv, wo, bq, bk, bv, q_norm, k_norm, post_attn_norm;
  Tensor ffn_norm, gate, up, down, post_ffw_norm;
};

}  // namespace

NaiveLogits naive_forward(const gguf::File& file, const std::vector<int32_t>& tokens, const NaiveMutation& mutation) {
  // Architecture rules. Gemma 3: embeddings times sqrt(n_embd), NEOX RoPE, QK norms, a norm after
  // attention and after the FFN, GELU-tanh gate, five sliding-window layers then one global layer.
  // Llama: NORM RoPE (adjacent pairs), SiLU gate. Qwen2: NEOX RoPE, Q/K/V biases. Qwen3: NEOX RoPE,
  // QK norms. All scale queries by 1/sqrt(head_dim) and tie the output head to the embeddings
  // when output.weight is absent.
  const std::string arch = file.get_string("general.architecture");
  const bool gemma = arch == "gemma3";
  if (!gemma && arch != "llama" && arch != "qwen2" && arch != "qwen3") fail("naive forward: unknown architecture '{}'", arch);
  const std::string a = arch + ".";
  const int n_layer = static_cast<int>(file.get_u32(a + "block_count"));
  const int d = static_cast<int>(file.get_u32(a + "embedding_length"));
  const int n_head = static_cast<int>(file.get_u32(a + "attention.head_count"));
  const int n_kv = static_cast<int>(file.get_u32_opt(a + "attention.head_count_kv").value_or(n_head));
  const int hd = static_cast<int>(file.get_u32_opt(a + "attention.key_length").value_or(d / n_head));
  const int n_rot = static_cast<int>(file.get_u32_opt(a + "rope.dimension_count").value_or(hd));
  const double eps = file.get_f32(a + "attention.layer_norm_rms_epsilon");
  const double rope_base_global = file.get_f32_opt(a + "rope.freq_base").value_or(10000.0f);
  const int window = gemma && !mutation.ignore_sliding_window
                         ? static_cast<int>(file.get_u32(a + "attention.sliding_window"))
                         : 0;
  const bool neox = (arch != "llama") != mutation.swap_rope_pairing;
  const double embed_scale = gemma ? std::sqrt(static_cast<double>(d)) : 1.0;
  const double query_scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const int group = n_head / n_kv;  // query heads per KV head

  const Tensor embd = load(file, "token_embd.weight");
  const Tensor output_norm = load(file, "output_norm.weight");
  Tensor output = load(file, "output.weight", /*required=*/false);
  const Tensor& head = output.present() ? output : embd;
  const int n_vocab = static_cast<int>(embd.n_out);

  std::vector<Layer> layers(static_cast<size_t>(n_layer));
  for (int il = 0; il < n_layer; ++il) {
    const std::string p = fmt::format("blk.{}.", il);
    Layer& l = layers[static_cast<size_t>(il)];
    l.attn_norm = load(file, p + "attn_norm.weight");
    l.wq = load(file, p + "attn_q.weight");
    l.wk = load(file, p + "attn_k.weight");
    l.wv = load(file, p + "attn_v.weight");
    l.wo = load(file, p + "attn_output.weight");
    l.bq = load(file, p + "attn_q.bias", false);
    l.bk = load(file, p + "attn_k.bias", false);
    l.bv = load(file, p + "attn_v.bias", false);
    l.q_norm = load(file, p + "attn_q_norm.weight", gemma || arch == "qwen3");
    l.k_norm = load(file, p + "attn_k_norm.weight", gemma || arch == "qwen3");
    l.post_attn_norm = load(file, p + "post_attention_norm.weight", gemma);
    l.ffn_norm = load(file, p + "ffn_norm.weight");
    l.gate = load(file, p + "ffn_gate.weight");
    l.up = load(file, p + "ffn_up.weight");
    l.down = load(file, p + "ffn_down.weight");
    l.post_ffw_norm = load(file, p + "post_ffw_norm.weight", gemma);
  }

  const size_t n = tokens.size();
  std::vector<Vec> x(n);  // residual stream per position, [d]
  for (size_t t = 0; t < n; ++t) {
    const int32_t tok = tokens[t];
    if (tok < 0 || tok >= n_vocab) fail("naive forward: token {} is outside the vocabulary", tok);
    x[t].assign(embd.w.begin() + tok * embd.n_in, embd.w.begin() + (tok + 1) * embd.n_in);
    for (double& v : x[t]) v *= embed_scale;
  }

  for (int il = 0; il < n_layer; ++il) {
    const Layer& l = layers[static_cast<size_t>(il)];
    // Gemma 3 repeats five sliding-window layers and one global layer. Its local layers use RoPE
    // base 10000 whatever the file says.
    const bool local = window > 0 && il % 6 < 5;
    const double rope_base = gemma && il % 6 < 5 && !mutation.global_rope_base_everywhere ? 10000.0 : rope_base_global;

    std::vector<Vec> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      Vec h = x[t];
      rms_norm(h, 0, static_cast<size_t>(d), l.attn_norm.w, eps);
      q[t] = matvec(l.wq, h, &l.bq);
      k[t] = matvec(l.wk, h, &l.bk);
      v[t] = matvec(l.wv, h, &l.bv);
      if (l.q_norm.present()) {
        for (int hh = 0; hh < n_head; ++hh) rms_norm(q[t], static_cast<size_t>(hh * hd), static_cast<size_t>(hd), l.q_norm.w, eps);
      }
      if (l.k_norm.present()) {
        for (int hh = 0; hh < n_kv; ++hh) rms_norm(k[t], static_cast<size_t>(hh * hd), static_cast<size_t>(hd), l.k_norm.w, eps);
      }
      rope(q[t], n_head, hd, n_rot, static_cast<int>(t), rope_base, neox);
      rope(k[t], n_kv, hd, n_rot, static_cast<int>(t), rope_base, neox);
      for (double& e : q[t]) e *= query_scale;
    }

    for (size_t t = 0; t < n; ++t) {
      Vec attn(static_cast<size_t>(n_head * hd), 0.0);
      for (int hh = 0; hh < n_head; ++hh) {
        const size_t qo = static_cast<size_t>(hh * hd);
        const size_t ko = static_cast<size_t>((hh / group) * hd);
        // Key s is visible from query t when s <= t and, in a local layer, t - s < window.
        const size_t first = local && t + 1 > static_cast<size_t>(window) ? t + 1 - static_cast<size_t>(window) : 0;
        Vec score;
        double max_score = -INFINITY;
        for (size_t s = first; s <= t; ++s) {
          double dot = 0.0;
          for (int i = 0; i < hd; ++i) dot += q[t][qo + i] * k[s][ko + i];
          score.push_back(dot);
          max_score = std::max(max_score, dot);
        }
        double total = 0.0;
        for (double& e : score) total += (e = std::exp(e - max_score));
        for (size_t s = first; s <= t; ++s) {
          const double p = score[s - first] / total;
          for (int i = 0; i < hd; ++i) attn[qo + i] += p * v[s][ko + i];
        }
      }
      Vec out = matvec(l.wo, attn);
      if (l.post_attn_norm.present()) rms_norm(out, 0, out.size(), l.post_attn_norm.w, eps);
      for (int i = 0; i < d; ++i) x[t][i] += out[i];

      Vec h = x[t];
      rms_norm(h, 0, h.size(), l.ffn_norm.w, eps);
      Vec g = matvec(l.gate, h);
      const Vec u = matvec(l.up, h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = (gemma ? gelu_tanh(g[i]) : silu(g[i])) * u[i];
      Vec f = matvec(l.down, g);
      if (l.post_ffw_norm.present()) rms_norm(f, 0, f.size(), l.post_ffw_norm.w, eps);
      for (int i = 0; i < d; ++i) x[t][i] += f[i];
    }
  }

  NaiveLogits result;
  result.n_vocab = n_vocab;
  result.values.reserve(n * static_cast<size_t>(n_vocab));
  for (size_t t = 0; t < n; ++t) {
    Vec h = x[t];
    rms_norm(h, 0, h.size(), output_norm.w, eps);
    const Vec logits = matvec(head, h);
    result.values.insert(result.values.end(), logits.begin(), logits.end());
  }
  return result;
}

}  // namespace lkv::test
