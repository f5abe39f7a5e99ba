#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/attention_tile.h"
#include "model/ops.h"
#include "model/vec_f32.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

// y[m × n_out] += scale·(x·Aᵀ)·Bᵀ for one projection of a LoRA adapter; a no-op when the
// projection is not adapted. x is [m × n_in]. Costs m·rank·(n_in + n_out) multiply-adds, a few
// percent of the base projection's m·n_in·n_out at rank 8.
void add_lora(const LoraWeights& lora, int layer, Projection p, const WeightView& w, const float* x, int64_t m,
              float* y) {
  const LoraMatrix& mat = lora.layers[static_cast<size_t>(layer)][static_cast<size_t>(p)];
  if (mat.empty()) return;
  const size_t r = static_cast<size_t>(lora.rank);
  const size_t n_in = static_cast<size_t>(w.n_in), n_out = static_cast<size_t>(w.n_out);
  LKV_CHECK(r > 0 && mat.a.size() == r * n_in && mat.b.size() == n_out * r);
  // Bᵀ, so that adding each rank component to an output row is a contiguous multiply-add that the
  // compiler vectorizes. The inner loop over 8 rank values would not vectorize.
  std::vector<float> bt(r * n_out);
  for (size_t o = 0; o < n_out; ++o) {
    for (size_t k = 0; k < r; ++k) bt[k * n_out + o] = mat.b[o * r + k];
  }
  std::vector<float> t(r);  // scale·A·x for one row
  for (size_t row = 0; row < static_cast<size_t>(m); ++row) {
    const float* xr = x + row * n_in;
    float* yr = y + row * n_out;
    for (size_t k = 0; k < r; ++k) t[k] = lora.scale * vec::dot(&mat.a[k * n_in], xr, static_cast<int>(n_in));
    for (size_t k = 0; k < r; ++k) {
      const float tk = t[k];
      const float* b = &bt[k * n_out];
      for (size_t o = 0; o < n_out; ++o) yr[o] += tk * b[o];
    }
  }
}

}  // namespace

Batch Batch::from_tokens(const std::vector<int32_t>& tokens, int32_t first_position, bool all_logits) {
  Batch b;
  b.tokens = tokens;
  b.n_rows = static_cast<int>(tokens.size());
  b.positions.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) b.positions[i] = first_position + static_cast<int32_t>(i);
  if (all_logits) {
    for (int i = 0; i < b.n_rows; ++i) b.logit_rows.push_back(i);
  } else if (b.n_rows > 0) {
    b.logit_rows.push_back(b.n_rows - 1);
  }
  return b;
}

Transformer::Transformer(const Model& model, int n_threads)
    : model_(model), pool_(std::make_unique<ThreadPool>(std::max(1, n_threads))) {}

Transformer::~Transformer() = default;

KVCache Transformer::make_cache(KVCacheType type) const {
  const HParams& hp = model_.hparams;
  KVCacheShape shape;
  shape.n_layer = hp.n_layer;
  shape.n_head_kv = hp.n_head_kv;
  shape.head_dim = hp.head_dim;
  shape.sliding_window = hp.sliding_window;
  shape.layer_is_swa = hp.layer_is_swa;
  return KVCache(shape, type);
}

void Transformer::project(const WeightView& w, const float* x, int64_t m, float* y) {
  if (exact_math_) {
    matmul_reference(w, x, m, y);
  } else {
    matmul(w, x, m, y, *pool_);
  }
}

void Transformer::embed(const Batch& batch, float* x) {
  const HParams& hp = model_.hparams;
  const size_t d = static_cast<size_t>(hp.n_embd);
  if (batch.embeddings) {
    std::memcpy(x, batch.embeddings, sizeof(float) * d * static_cast<size_t>(batch.n_rows));
    return;
  }
  const WeightView& e = model_.weights.token_embd;
  for (int r = 0; r < batch.n_rows; ++r) {
    const int32_t t = batch.tokens[static_cast<size_t>(r)];
    if (t < 0 || t >= hp.n_vocab) fail("token id {} is outside the vocabulary [0, {})", t, hp.n_vocab);
    float* row = x + static_cast<size_t>(r) * d;
    dequantize_row(e.type, static_cast<const uint8_t*>(e.data) + static_cast<size_t>(t) * e.row_bytes, row, hp.n_embd);
    if (hp.embed_scale != 1.0f) {
      for (size_t i = 0; i < d; ++i) row[i] *= hp.embed_scale;
    }
  }
}

void Transformer::attention(int layer, int m, const int32_t* positions, const float* q, const KVCache& cache,
                            float* out, AttentionObserver* observer) {
  const HParams& hp = model_.hparams;
  const int hd = hp.head_dim;
  const int n_head = hp.n_head;
  const int n_gqa = hp.n_gqa();
  const bool swa = hp.is_swa(layer);
  const int n_entries = cache.n_entries(layer);
  const bool want_probs = observer && observer->wants_probs(layer);
  // Masks are fetched here, on the calling thread, so observers need no locking.
  std::vector<const uint8_t*> masks;
  if (observer) {
    masks.resize(static_cast<size_t>(hp.n_head_kv));
    for (int g = 0; g < hp.n_head_kv; ++g) masks[static_cast<size_t>(g)] = observer->entry_mask(layer, g, n_entries);
  }

  // Tasks: (KV head, block of query rows, slice of the KV head's query heads). A tile holds the
  // slice's heads at every row of the block, so each K/V row it loads serves all of them. Small
  // blocks keep both threads busy on short batches. When there are too few (KV head, block)
  // pairs, as in decode, the group's heads are split over tasks instead.
  const int n_threads = pool_->size();
  const int rows_per_task = std::max(1, std::min(16, m / 2));
  const int blocks = (m + rows_per_task - 1) / rows_per_task;
  int slices = 1;
  if (hp.n_head_kv * blocks < 2 * n_threads) {
    slices = std::min(n_gqa, (2 * n_threads + hp.n_head_kv * blocks - 1) / (hp.n_head_kv * blocks));
  }
  const int heads_per_slice = (n_gqa + slices - 1) / slices;
  slices = (n_gqa + heads_per_slice - 1) / heads_per_slice;
  const int max_tile = rows_per_task * heads_per_slice;

  if (attn_scratch_.size() < static_cast<size_t>(n_threads)) attn_scratch_.resize(static_cast<size_t>(n_threads));
  const int64_t stride = std::max(1, n_entries);

  const int64_t tasks = static_cast<int64_t>(hp.n_head_kv) * blocks * slices;
  pool_->run(tasks, [&](int64_t task, int thread) {
    const int g = static_cast<int>(task / (static_cast<int64_t>(blocks) * slices));
    const int block = static_cast<int>((task / slices) % blocks);
    const int slice = static_cast<int>(task % slices);
    const int h_begin = g * n_gqa + slice * heads_per_slice;
    const int h_end = std::min(g * n_gqa + n_gqa, h_begin + heads_per_slice);
    const int r_begin = block * rows_per_task;
    const int r_end = std::min(m, r_begin + rows_per_task);
    const int32_t* pos = cache.positions(layer, g);

    AttentionScratch& sc = attn_scratch_[static_cast<size_t>(thread)];
    const size_t cap = static_cast<size_t>(max_tile);
    if (sc.probs.size() < cap * static_cast<size_t>(stride)) sc.probs.resize(cap * static_cast<size_t>(stride));
    sc.q.clear(), sc.out.clear(), sc.lo.clear(), sc.hi.clear(), sc.head.clear(), sc.row.clear();
    for (int r = r_begin; r < r_end; ++r) {
      const int32_t p = positions[r];
      const int hi = static_cast<int>(std::upper_bound(pos, pos + n_entries, p) - pos);
      const int lo = swa ? static_cast<int>(std::lower_bound(pos, pos + hi, p - hp.sliding_window + 1) - pos) : 0;
      for (int h = h_begin; h < h_end; ++h) {
        const size_t at = (static_cast<size_t>(r) * n_head + h) * hd;
        sc.q.push_back(q + at);
        sc.out.push_back(out + at);
        sc.lo.push_back(lo);
        sc.hi.push_back(hi);
        sc.head.push_back(h);
        sc.row.push_back(r);
      }
    }

    AttentionTile tile;
    tile.head_dim = hd;
    tile.n_query = static_cast<int>(sc.q.size());
    tile.q = sc.q.data();
    tile.out = sc.out.data();
    tile.lo = sc.lo.data();
    tile.hi = sc.hi.data();
    tile.mask = masks.empty() ? nullptr : masks[static_cast<size_t>(g)];
    tile.probs = sc.probs.data();
    tile.probs_stride = stride;
    attend_tile(tile, cache, layer, g);

    if (want_probs) {
      const int e_lo = tile.entry_lo(), e_hi = std::max(e_lo, tile.entry_hi());
      for (int i = 0; i < tile.n_query; ++i) {
        float* s = sc.probs.data() + static_cast<size_t>(i) * static_cast<size_t>(stride);
        std::fill(s, s + e_lo, 0.0f);
        std::fill(s + e_hi, s + n_entries, 0.0f);
        observer->on_probs(layer, sc.head[static_cast<size_t>(i)], sc.row[static_cast<size_t>(i)], thread, s, n_entries);
      }
    }
  });
}

void Transformer::forward(const Batch& batch, KVCache& cache, std::vector<float>* logits, AttentionObserver* observer) {
  const HParams& hp = model_.hparams;
  const ModelWeights& w = model_.weights;
  const int m = batch.n_rows;
  if (m <= 0) fail("empty batch: at least one row is needed");
  if (static_cast<int>(batch.positions.size()) != m) fail("batch has {} rows but {} positions", m, batch.positions.size());
  if (!batch.embeddings && static_cast<int>(batch.tokens.size()) != m) {
    fail("batch has {} rows but {} tokens", m, batch.tokens.size());
  }
  for (int r = 0; r < m; ++r) {
    const int32_t p = batch.positions[static_cast<size_t>(r)];
    if (p < 0 || (r > 0 && p <= batch.positions[static_cast<size_t>(r) - 1]) || (r == 0 && p < cache.next_position())) {
      fail("batch position {} at row {} is invalid: positions must increase and continue after {}", p, r,
           cache.next_position() - 1);
    }
  }
  const LoraWeights* lora = batch.lora;
  if (lora) LKV_CHECK(static_cast<int>(lora->layers.size()) == hp.n_layer);

  const size_t d = static_cast<size_t>(hp.n_embd);
  const size_t hd = static_cast<size_t>(hp.head_dim);
  const size_t q_width = static_cast<size_t>(hp.n_head) * hd;
  const size_t kv_width = static_cast<size_t>(hp.n_head_kv) * hd;
  const size_t ff = static_cast<size_t>(hp.n_ff);
  const size_t rows = static_cast<size_t>(m);
  x_.resize(rows * d);
  h_.resize(rows * d);
  q_.resize(rows * q_width);
  k_.resize(rows * kv_width);
  v_.resize(rows * kv_width);
  attn_.resize(rows * q_width);
  proj_.resize(rows * d);
  gate_.resize(rows * ff);
  up_.resize(rows * ff);

  embed(batch, x_.data());
  const int32_t* positions = batch.positions.data();

  for (int il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const bool swa = hp.is_swa(il);

    for (size_t r = 0; r < rows; ++r) ops::rms_norm(&x_[r * d], l.attn_norm.data(), &h_[r * d], hp.n_embd, hp.rms_eps);
    project(l.wq, h_.data(), m, q_.data());
    project(l.wk, h_.data(), m, k_.data());
    project(l.wv, h_.data(), m, v_.data());
    if (lora) {
      add_lora(*lora, il, Projection::Q, l.wq, h_.data(), m, q_.data());
      add_lora(*lora, il, Projection::K, l.wk, h_.data(), m, k_.data());
      add_lora(*lora, il, Projection::V, l.wv, h_.data(), m, v_.data());
    }

    for (size_t r = 0; r < rows; ++r) {
      float* qr = &q_[r * q_width];
      float* kr = &k_[r * kv_width];
      float* vr = &v_[r * kv_width];
      if (!l.bq.empty()) for (size_t i = 0; i < q_width; ++i) qr[i] += l.bq[i];
      if (!l.bk.empty()) for (size_t i = 0; i < kv_width; ++i) kr[i] += l.bk[i];
      if (!l.bv.empty()) for (size_t i = 0; i < kv_width; ++i) vr[i] += l.bv[i];
      if (!l.q_norm.empty()) {
        for (int h = 0; h < hp.n_head; ++h) ops::rms_norm(qr + h * hd, l.q_norm.data(), qr + h * hd, hp.head_dim, hp.rms_eps);
      }
      if (!l.k_norm.empty()) {
        for (int h = 0; h < hp.n_head_kv; ++h) ops::rms_norm(kr + h * hd, l.k_norm.data(), kr + h * hd, hp.head_dim, hp.rms_eps);
      }
      const float base = swa ? hp.rope_base_local : hp.rope_base;
      const float freq_scale = swa ? 1.0f : hp.rope_freq_scale;
      ops::rope(qr, hp.n_head, hp.head_dim, hp.n_rot, positions[r], base, freq_scale, hp.rope_style);
      ops::rope(kr, hp.n_head_kv, hp.head_dim, hp.n_rot, positions[r], base, freq_scale, hp.rope_style);
      for (size_t i = 0; i < q_width; ++i) qr[i] *= hp.query_scale;
    }
    if (observer) observer->on_queries(il, q_.data(), m, positions);

    cache.append(il, k_.data(), v_.data(), positions, m);
    attention(il, m, positions, q_.data(), cache, attn_.data(), observer);
    if (!batch.transient) cache.trim_window(il, positions[m - 1]);

    project(l.wo, attn_.data(), m, proj_.data());
    if (lora) add_lora(*lora, il, Projection::O, l.wo, attn_.data(), m, proj_.data());
    for (size_t r = 0; r < rows; ++r) {
      float* a = &proj_[r * d];
      if (!l.bo.empty()) for (size_t i = 0; i < d; ++i) a[i] += l.bo[i];
      if (!l.post_attn_norm.empty()) ops::rms_norm(a, l.post_attn_norm.data(), a, hp.n_embd, hp.rms_eps);
      float* x = &x_[r * d];
      for (size_t i = 0; i < d; ++i) x[i] += a[i];
      ops::rms_norm(x, l.ffn_norm.data(), &h_[r * d], hp.n_embd, hp.rms_eps);
    }

    project(l.w_gate, h_.data(), m, gate_.data());
    project(l.w_up, h_.data(), m, up_.data());
    if (lora) {
      add_lora(*lora, il, Projection::Gate, l.w_gate, h_.data(), m, gate_.data());
      add_lora(*lora, il, Projection::Up, l.w_up, h_.data(), m, up_.data());
    }
    ops::gated_activation(gate_.data(), up_.data(), gate_.data(), static_cast<int64_t>(rows * ff), hp.ffn_activation,
                          /*fp16_gelu=*/!exact_math_);
    project(l.w_down, gate_.data(), m, proj_.data());
    if (lora) add_lora(*lora, il, Projection::Down, l.w_down, gate_.data(), m, proj_.data());
    for (size_t r = 0; r < rows; ++r) {
      float* f = &proj_[r * d];
      if (!l.post_ffw_norm.empty()) ops::rms_norm(f, l.post_ffw_norm.data(), f, hp.n_embd, hp.rms_eps);
      float* x = &x_[r * d];
      for (size_t i = 0; i < d; ++i) x[i] += f[i];
    }
  }

  if (batch.logit_rows.empty()) return;
  LKV_CHECK(logits != nullptr);
  const size_t n_out = batch.logit_rows.size();
  if (h_.size() < n_out * d) h_.resize(n_out * d);
  for (size_t i = 0; i < n_out; ++i) {
    const int32_t r = batch.logit_rows[i];
    if (r < 0 || r >= m) fail("logit row {} is outside the batch of {} rows", r, m);
    ops::rms_norm(&x_[static_cast<size_t>(r) * d], w.output_norm.data(), &h_[i * d], hp.n_embd, hp.rms_eps);
  }
  logits->resize(n_out * static_cast<size_t>(hp.n_vocab));
  project(w.output, h_.data(), static_cast<int64_t>(n_out), logits->data());
}

}  // namespace lkv
