#include "lookahead/train_step.h"

#include <algorithm>

#include "util/error.h"

namespace lkv {

// Saved activations of one layer for the m lookahead rows (row-major, rows first).
template <typename T>
struct LookaheadStep<T>::Acts {
  std::vector<T> x;                  // [m × d] layer input (residual stream)
  std::vector<T> inv1, h1;           // attention-norm scale [m], output [m × d]
  std::vector<T> tq, tk, tv;         // LoRA A·x·scale [m × rank] of q, k, v
  std::vector<T> q_pre, k_pre;       // projections + bias before QK-norm [m × q_width], [m × kv_width]
  std::vector<T> invq, invk;         // QK-norm scales [m × n_head], [m × n_head_kv]
  std::vector<T> q, k, v;            // after QK-norm, RoPE (and the query scale for q)
  grad::AttentionSaved<T> attn;
  std::vector<grad::CacheHead> cache;
  std::vector<T> att;                // attention output [m × q_width]
  std::vector<T> to, a;              // LoRA of o [m × rank]; o projection + bias [m × d]
  std::vector<T> inv_pa;             // post-attention norm scale [m] (Gemma)
  std::vector<T> x1, inv2, h2;       // after the attention residual; FFN-norm scale and output
  std::vector<T> tg, tu, gate, up;   // [m × rank] ×2, [m × n_ff] ×2
  std::vector<T> act;                // act(gate) ⊙ up [m × n_ff]
  std::vector<T> td, f;              // LoRA of down [m × rank]; down projection [m × d]
  std::vector<T> inv_pf;             // post-FFN norm scale [m] (Gemma)
};

template <typename T>
LookaheadStep<T>::LookaheadStep(const Model& model, const ParamLayout& layout, ThreadPool* pool)
    : model_(model), layout_(layout), pool_(pool), m_(layout.config().n_lookahead) {
  const HParams& hp = model.hparams;
  LKV_CHECK(layout.hparams().n_layer == hp.n_layer && layout.hparams().n_embd == hp.n_embd);
}

template <typename T>
LookaheadStep<T>::~LookaheadStep() = default;

template <typename T>
void LookaheadStep<T>::forward_layer(int il, bool full, const T* params, const KVCache& prompt,
                                     const int32_t* positions) {
  const HParams& hp = model_.hparams;
  const LayerWeights& l = model_.weights.layers[static_cast<size_t>(il)];
  Acts& A = acts_[static_cast<size_t>(il)];
  const int m = m_, d = hp.n_embd, hd = hp.head_dim, ff = hp.n_ff;
  const int qw = hp.n_head * hd, kvw = hp.n_head_kv * hd, r = layout_.config().rank;
  const size_t M = static_cast<size_t>(m);
  auto sized = [](std::vector<T>& v, size_t n) { v.assign(n, T(0)); };

  A.x = residual_;
  sized(A.inv1, M);
  sized(A.h1, M * d);
  for (int i = 0; i < m; ++i) {
    A.inv1[i] = grad::rms_norm_forward(&A.x[i * d], l.attn_norm.data(), &A.h1[i * d], d, hp.rms_eps);
  }
  sized(A.tq, M * r);
  sized(A.tk, M * r);
  sized(A.tv, M * r);
  sized(A.q_pre, M * qw);
  sized(A.k_pre, M * kvw);
  sized(A.v, M * kvw);
  grad::projection_forward(l.wq, layout_.lora(params, il, Projection::Q), A.h1.data(), m, A.q_pre.data(), A.tq.data(), pool_);
  grad::projection_forward(l.wk, layout_.lora(params, il, Projection::K), A.h1.data(), m, A.k_pre.data(), A.tk.data(), pool_);
  grad::projection_forward(l.wv, layout_.lora(params, il, Projection::V), A.h1.data(), m, A.v.data(), A.tv.data(), pool_);

  sized(A.invq, M * hp.n_head);
  sized(A.invk, M * hp.n_head_kv);
  A.q = A.q_pre;
  A.k = A.k_pre;
  const bool swa = hp.is_swa(il);
  const float base = swa ? hp.rope_base_local : hp.rope_base;
  const float freq_scale = swa ? 1.0f : hp.rope_freq_scale;
  for (int i = 0; i < m; ++i) {
    T* qr = &A.q_pre[i * qw];
    T* kr = &A.k_pre[i * kvw];
    T* vr = &A.v[i * kvw];
    if (!l.bq.empty()) for (int c = 0; c < qw; ++c) qr[c] += l.bq[c];
    if (!l.bk.empty()) for (int c = 0; c < kvw; ++c) kr[c] += l.bk[c];
    if (!l.bv.empty()) for (int c = 0; c < kvw; ++c) vr[c] += l.bv[c];
    T* q = &A.q[i * qw];
    T* k = &A.k[i * kvw];
    std::copy(qr, qr + qw, q);
    std::copy(kr, kr + kvw, k);
    if (!l.q_norm.empty()) {
      for (int h = 0; h < hp.n_head; ++h) A.invq[i * hp.n_head + h] = grad::rms_norm_forward(qr + h * hd, l.q_norm.data(), q + h * hd, hd, hp.rms_eps);
    }
    if (!l.k_norm.empty()) {
      for (int h = 0; h < hp.n_head_kv; ++h) A.invk[i * hp.n_head_kv + h] = grad::rms_norm_forward(kr + h * hd, l.k_norm.data(), k + h * hd, hd, hp.rms_eps);
    }
    grad::rope(q, hp.n_head, hd, hp.n_rot, positions[i], base, freq_scale, hp.rope_style, false);
    grad::rope(k, hp.n_head_kv, hd, hp.n_rot, positions[i], base, freq_scale, hp.rope_style, false);
    const T qs = static_cast<T>(hp.query_scale);
    for (int c = 0; c < qw; ++c) q[c] *= qs;
  }

  A.cache.assign(static_cast<size_t>(hp.n_head_kv), grad::CacheHead{});
  for (int g = 0; g < hp.n_head_kv; ++g) {
    A.cache[g] = {prompt.keys(il, g), prompt.values(il, g), prompt.positions(il, g), prompt.n_entries(il)};
  }
  const grad::AttentionShape shape{hp.n_head, hp.n_head_kv, hd, swa ? hp.sliding_window : 0};
  sized(A.att, M * qw);
  grad::attention_forward(shape, A.cache, positions, m, A.q.data(), A.k.data(), A.v.data(), A.att.data(), A.attn, pool_);
  if (!full) return;

  sized(A.to, M * r);
  sized(A.a, M * d);
  grad::projection_forward(l.wo, layout_.lora(params, il, Projection::O), A.att.data(), m, A.a.data(), A.to.data(), pool_);
  sized(A.inv_pa, M);
  sized(A.x1, M * d);
  sized(A.inv2, M);
  sized(A.h2, M * d);
  std::vector<T> normed(static_cast<size_t>(d));
  for (int i = 0; i < m; ++i) {
    T* a = &A.a[i * d];
    if (!l.bo.empty()) for (int c = 0; c < d; ++c) a[c] += l.bo[c];
    const T* add = a;
    if (!l.post_attn_norm.empty()) {
      A.inv_pa[i] = grad::rms_norm_forward(a, l.post_attn_norm.data(), normed.data(), d, hp.rms_eps);
      add = normed.data();
    }
    for (int c = 0; c < d; ++c) A.x1[i * d + c] = A.x[i * d + c] + add[c];
    A.inv2[i] = grad::rms_norm_forward(&A.x1[i * d], l.ffn_norm.data(), &A.h2[i * d], d, hp.rms_eps);
  }

  sized(A.tg, M * r);
  sized(A.tu, M * r);
  sized(A.gate, M * ff);
  sized(A.up, M * ff);
  sized(A.act, M * ff);
  grad::projection_forward(l.w_gate, layout_.lora(params, il, Projection::Gate), A.h2.data(), m, A.gate.data(), A.tg.data(), pool_);
  grad::projection_forward(l.w_up, layout_.lora(params, il, Projection::Up), A.h2.data(), m, A.up.data(), A.tu.data(), pool_);
  grad::gated_forward(A.gate.data(), A.up.data(), A.act.data(), static_cast<int64_t>(M * ff), hp.ffn_activation);
  sized(A.td, M * r);
  sized(A.f, M * d);
  grad::projection_forward(l.w_down, layout_.lora(params, il, Projection::Down), A.act.data(), m, A.f.data(), A.td.data(), pool_);
  sized(A.inv_pf, M);
  for (int i = 0; i < m; ++i) {
    const T* f = &A.f[i * d];
    const T* add = f;
    if (!l.post_ffw_norm.empty()) {
      A.inv_pf[i] = grad::rms_norm_forward(f, l.post_ffw_norm.data(), normed.data(), d, hp.rms_eps);
      add = normed.data();
    }
    for (int c = 0; c < d; ++c) residual_[i * d + c] = A.x1[i * d + c] + add[c];
  }
}

template <typename T>
void LookaheadStep<T>::backward_layer(int il, bool full, const T* params, T* dparams, const int32_t* positions,
                                      const T* dprob, std::vector<T>& dx) {
  // On entry dx is ∂L/∂(this layer's output); on exit ∂L/∂(its input).
  const HParams& hp = model_.hparams;
  const LayerWeights& l = model_.weights.layers[static_cast<size_t>(il)];
  const Acts& A = acts_[static_cast<size_t>(il)];
  const int m = m_, d = hp.n_embd, hd = hp.head_dim, ff = hp.n_ff;
  const int qw = hp.n_head * hd, kvw = hp.n_head_kv * hd;
  const size_t M = static_cast<size_t>(m);

  std::vector<T> dx_in(M * d, T(0));
  std::vector<T> datt;
  if (full) {
    // x_out = x1 + post_ffw_norm(down(act(gate(h2)) ⊙ up(h2))), h2 = ffn_norm(x1).
    std::vector<T> dx1 = dx;
    std::vector<T> df(M * d, T(0));
    for (int i = 0; i < m; ++i) {
      if (!l.post_ffw_norm.empty()) {
        grad::rms_norm_backward(&A.f[i * d], l.post_ffw_norm.data(), A.inv_pf[i], &dx[i * d], &df[i * d], d);
      } else {
        std::copy(&dx[i * d], &dx[i * d] + d, &df[i * d]);
      }
    }
    std::vector<T> dact(M * ff, T(0));
    grad::projection_backward(l.w_down, layout_.lora(params, il, Projection::Down), A.act.data(), A.td.data(), df.data(), m,
                              dact.data(), layout_.lora_grad(dparams, il, Projection::Down), pool_);
    std::vector<T> dgate(M * ff, T(0)), dup(M * ff, T(0));
    grad::gated_backward(A.gate.data(), A.up.data(), dact.data(), dgate.data(), dup.data(), static_cast<int64_t>(M * ff),
                         hp.ffn_activation);
    std::vector<T> dh2(M * d, T(0));
    grad::projection_backward(l.w_gate, layout_.lora(params, il, Projection::Gate), A.h2.data(), A.tg.data(), dgate.data(),
                              m, dh2.data(), layout_.lora_grad(dparams, il, Projection::Gate), pool_);
    grad::projection_backward(l.w_up, layout_.lora(params, il, Projection::Up), A.h2.data(), A.tu.data(), dup.data(), m,
                              dh2.data(), layout_.lora_grad(dparams, il, Projection::Up), pool_);
    for (int i = 0; i < m; ++i) {
      grad::rms_norm_backward(&A.x1[i * d], l.ffn_norm.data(), A.inv2[i], &dh2[i * d], &dx1[i * d], d);
    }

    // x1 = x + post_attn_norm(o(att) + bo).
    dx_in = dx1;
    std::vector<T> da(M * d, T(0));
    for (int i = 0; i < m; ++i) {
      if (!l.post_attn_norm.empty()) {
        grad::rms_norm_backward(&A.a[i * d], l.post_attn_norm.data(), A.inv_pa[i], &dx1[i * d], &da[i * d], d);
      } else {
        std::copy(&dx1[i * d], &dx1[i * d] + d, &da[i * d]);
      }
    }
    datt.assign(M * qw, T(0));
    grad::projection_backward(l.wo, layout_.lora(params, il, Projection::O), A.att.data(), A.to.data(), da.data(), m,
                              datt.data(), layout_.lora_grad(dparams, il, Projection::O), pool_);
  }

  std::vector<T> dq(M * qw, T(0)), dk(M * kvw, T(0)), dv(M * kvw, T(0));
  const grad::AttentionShape shape{hp.n_head, hp.n_head_kv, hd, hp.is_swa(il) ? hp.sliding_window : 0};
  grad::attention_backward(shape, A.cache, m, A.q.data(), A.k.data(), A.v.data(), A.attn, full ? datt.data() : nullptr,
                           dprob, dq.data(), dk.data(), dv.data(), pool_);

  // q = query_scale · RoPE(q_norm(q_pre)), k = RoPE(k_norm(k_pre)).
  const bool swa = hp.is_swa(il);
  const float base = swa ? hp.rope_base_local : hp.rope_base;
  const float freq_scale = swa ? 1.0f : hp.rope_freq_scale;
  std::vector<T> dq_pre(M * qw, T(0)), dk_pre(M * kvw, T(0));
  const T qs = static_cast<T>(hp.query_scale);
  for (int i = 0; i < m; ++i) {
    T* dqr = &dq[i * qw];
    T* dkr = &dk[i * kvw];
    for (int c = 0; c < qw; ++c) dqr[c] *= qs;
    grad::rope(dqr, hp.n_head, hd, hp.n_rot, positions[i], base, freq_scale, hp.rope_style, true);
    grad::rope(dkr, hp.n_head_kv, hd, hp.n_rot, positions[i], base, freq_scale, hp.rope_style, true);
    if (!l.q_norm.empty()) {
      for (int h = 0; h < hp.n_head; ++h) {
        grad::rms_norm_backward(&A.q_pre[i * qw + h * hd], l.q_norm.data(), A.invq[i * hp.n_head + h], dqr + h * hd,
                                &dq_pre[i * qw + h * hd], hd);
      }
    } else {
      std::copy(dqr, dqr + qw, &dq_pre[i * qw]);
    }
    if (!l.k_norm.empty()) {
      for (int h = 0; h < hp.n_head_kv; ++h) {
        grad::rms_norm_backward(&A.k_pre[i * kvw + h * hd], l.k_norm.data(), A.invk[i * hp.n_head_kv + h], dkr + h * hd,
                                &dk_pre[i * kvw + h * hd], hd);
      }
    } else {
      std::copy(dkr, dkr + kvw, &dk_pre[i * kvw]);
    }
  }

  std::vector<T> dh1(M * d, T(0));
  grad::projection_backward(l.wq, layout_.lora(params, il, Projection::Q), A.h1.data(), A.tq.data(), dq_pre.data(), m,
                            dh1.data(), layout_.lora_grad(dparams, il, Projection::Q), pool_);
  grad::projection_backward(l.wk, layout_.lora(params, il, Projection::K), A.h1.data(), A.tk.data(), dk_pre.data(), m,
                            dh1.data(), layout_.lora_grad(dparams, il, Projection::K), pool_);
  grad::projection_backward(l.wv, layout_.lora(params, il, Projection::V), A.h1.data(), A.tv.data(), dv.data(), m,
                            dh1.data(), layout_.lora_grad(dparams, il, Projection::V), pool_);
  for (int i = 0; i < m; ++i) {
    grad::rms_norm_backward(&A.x[i * d], l.attn_norm.data(), A.inv1[i], &dh1[i * d], &dx_in[i * d], d);
  }
  dx.swap(dx_in);
}

template <typename T>
double LookaheadStep<T>::run(const T* params, const KVCache& prompt, const ImportanceTarget& target, T* dparams) {
  const HParams& hp = model_.hparams;
  if (prompt.type() != KVCacheType::F32) {
    fail("LookaheadKV training needs an f32 prompt KV cache, but this one stores {}; prefill it into make_cache()'s "
         "default f32 cache",
         kv_cache_type_name(prompt.type()));
  }
  target.validate();
  if (target.layers.empty()) fail("ground truth lists no evicted layers; regenerate it");
  if (target.n_head_kv != hp.n_head_kv) {
    fail("ground truth has {} KV heads per layer, but the model has {}; it was made for another model", target.n_head_kv,
         hp.n_head_kv);
  }
  for (size_t k = 0; k < target.layers.size(); ++k) {
    const int il = target.layers[k];
    if (il < 0 || il >= hp.n_layer || (k > 0 && il <= target.layers[k - 1])) {
      fail("ground truth layer list is invalid at layer {}: layers must increase within [0, {})", il, hp.n_layer);
    }
    if (prompt.n_entries(il) != target.n_entries[k]) {
      fail("ground truth covers {} prompt entries in layer {}, but the prompt cache contains {}; regenerate it for this "
           "prompt",
           target.n_entries[k], il, prompt.n_entries(il));
    }
  }

  const int m = m_, d = hp.n_embd;
  const size_t M = static_cast<size_t>(m);
  const int last = target.layers.back();
  std::vector<int32_t> positions(M);
  for (int i = 0; i < m; ++i) positions[static_cast<size_t>(i)] = prompt.next_position() + i;

  // Forward.
  const T scale = static_cast<T>(hp.embed_scale);
  residual_.assign(params, params + M * d);
  for (T& v : residual_) v *= scale;
  acts_.resize(static_cast<size_t>(last + 1));
  for (int il = 0; il <= last; ++il) forward_layer(il, il < last, params, prompt, positions.data());

  // Loss: mean over target layers and KV heads of KL(g ‖ ŝ).
  const double weight = 1.0 / (static_cast<double>(target.layers.size()) * hp.n_head_kv);
  scores_.resize(target.layers.size());
  dprob_.resize(target.layers.size());
  double loss = 0.0;
  for (size_t k = 0; k < target.layers.size(); ++k) {
    const Acts& A = acts_[static_cast<size_t>(target.layers[k])];
    const int n = A.attn.n_cache;
    std::vector<T>& s = scores_[k];
    s.assign(static_cast<size_t>(hp.n_head) * n, T(0));
    for (int h = 0; h < hp.n_head; ++h) {
      T* sh = &s[static_cast<size_t>(h) * n];
      for (int i = 0; i < m; ++i) {
        const T* p = A.attn.row(i, h, hp.n_head);
        for (int j = 0; j < n; ++j) sh[j] += p[j];
      }
      for (int j = 0; j < n; ++j) sh[j] /= static_cast<T>(m);
    }
    std::vector<T>& dp = dprob_[k];
    dp.assign(dparams ? s.size() : 0, T(0));
    loss += layer_kl(s.data(), target.g[k].data(), hp.n_head, hp.n_head_kv, n, weight, dparams ? dp.data() : nullptr);
    // s_h[j] = (1/m) Σ_i A_h[i, j]: every row receives ∂L/∂s_h[j] / m.
    for (T& v : dp) v /= static_cast<T>(m);
  }
  if (!dparams) return loss;

  // Backward, from the last target layer down to the embeddings.
  std::vector<T> dx(M * d, T(0));
  size_t k = target.layers.size();
  for (int il = last; il >= 0; --il) {
    const T* dprob = nullptr;
    if (k > 0 && target.layers[k - 1] == il) dprob = dprob_[--k].data();
    backward_layer(il, il < last, params, dparams, positions.data(), dprob, dx);
  }
  for (size_t c = 0; c < M * d; ++c) dparams[c] += scale * dx[c];
  return loss;
}

template class LookaheadStep<float>;
template class LookaheadStep<double>;

}  // namespace lkv
