#include "model/weights.h"

#include <fmt/format.h>

#include "gguf/reader.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

std::string shape_text(const gguf::TensorInfo& t) {
  std::string text = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) text += (i ? ", " : "") + std::to_string(t.shape[i]);
  return text + "]";
}

class Binder {
 public:
  Binder(const gguf::File& file) : file_(file) {}

  const gguf::TensorInfo* find(const std::string& name) const { return file_.find_tensor(name); }

  WeightView matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
    const gguf::TensorInfo* t = find(name);
    if (!t) fail("{}: tensor '{}' is missing; the file does not match its architecture '{}'", file_.path(), name, arch());
    return matrix_from(*t, n_in, n_out);
  }

  WeightView matrix_from(const gguf::TensorInfo& t, int64_t n_in, int64_t n_out) const {
    if (t.shape.size() != 2 || t.shape[0] != n_in || t.shape[1] != n_out) {
      fail("{}: tensor '{}' has shape {}, expected [{}, {}] from the metadata", file_.path(), t.name, shape_text(t), n_in,
           n_out);
    }
    const TypeTraits& traits = type_traits(t.type_id);
    if (!traits.weight_supported) {
      fail("{}: tensor '{}' has type {}, which the engine cannot multiply; supported: F32, F16, BF16, Q4_0, Q4_1, "
           "Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K. Re-quantize the model to one of them",
           file_.path(), t.name, type_name(t.type_id));
    }
    WeightView w;
    w.type = t.type;
    w.data = t.data;
    w.n_in = n_in;
    w.n_out = n_out;
    w.row_bytes = row_size(t.type, n_in);
    return w;
  }

  std::vector<float> vector(const std::string& name, int64_t n) const {
    const gguf::TensorInfo* t = find(name);
    if (!t) fail("{}: tensor '{}' is missing; the file does not match its architecture '{}'", file_.path(), name, arch());
    return vector_from(*t, n);
  }

  std::vector<float> optional_vector(const std::string& name, int64_t n) const {
    const gguf::TensorInfo* t = find(name);
    return t ? vector_from(*t, n) : std::vector<float>{};
  }

  std::vector<float> vector_from(const gguf::TensorInfo& t, int64_t n) const {
    if (t.n_elements() != n) {
      fail("{}: tensor '{}' has shape {}, expected {} elements from the metadata", file_.path(), t.name, shape_text(t), n);
    }
    const TypeTraits& traits = type_traits(t.type_id);
    if (!traits.weight_supported || n % traits.block_size != 0) {
      fail("{}: tensor '{}' has unsupported type {}", file_.path(), t.name, type_name(t.type_id));
    }
    std::vector<float> values(static_cast<size_t>(n));
    dequantize_row(t.type, t.data, values.data(), n);
    return values;
  }

 private:
  std::string arch() const { return file_.get_string("general.architecture"); }
  const gguf::File& file_;
};

}  // namespace

ModelWeights bind_weights(const gguf::File& file, const HParams& hp) {
  Binder bind(file);
  ModelWeights w;
  const int64_t d = hp.n_embd;
  const int64_t q_width = static_cast<int64_t>(hp.n_head) * hp.head_dim;
  const int64_t kv_width = static_cast<int64_t>(hp.n_head_kv) * hp.head_dim;

  w.token_embd = bind.matrix("token_embd.weight", d, hp.n_vocab);
  w.output_norm = bind.vector("output_norm.weight", d);
  if (bind.find("output.weight")) {
    w.output = bind.matrix("output.weight", d, hp.n_vocab);
  } else {
    w.output = w.token_embd;
    w.output_tied = true;
  }

  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int il = 0; il < hp.n_layer; ++il) {
    const std::string p = fmt::format("blk.{}.", il);
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    l.attn_norm = bind.vector(p + "attn_norm.weight", d);
    l.wq = bind.matrix(p + "attn_q.weight", d, q_width);
    l.wk = bind.matrix(p + "attn_k.weight", d, kv_width);
    l.wv = bind.matrix(p + "attn_v.weight", d, kv_width);
    l.wo = bind.matrix(p + "attn_output.weight", q_width, d);
    l.bq = bind.optional_vector(p + "attn_q.bias", q_width);
    l.bk = bind.optional_vector(p + "attn_k.bias", kv_width);
    l.bv = bind.optional_vector(p + "attn_v.bias", kv_width);
    l.bo = bind.optional_vector(p + "attn_output.bias", d);
    l.q_norm = bind.optional_vector(p + "attn_q_norm.weight", hp.head_dim);
    l.k_norm = bind.optional_vector(p + "attn_k_norm.weight", hp.head_dim);
    l.post_attn_norm = bind.optional_vector(p + "post_attention_norm.weight", d);
    l.ffn_norm = bind.vector(p + "ffn_norm.weight", d);
    l.w_gate = bind.matrix(p + "ffn_gate.weight", d, hp.n_ff);
    l.w_up = bind.matrix(p + "ffn_up.weight", d, hp.n_ff);
    l.w_down = bind.matrix(p + "ffn_down.weight", hp.n_ff, d);
    l.post_ffw_norm = bind.optional_vector(p + "post_ffw_norm.weight", d);

    if (hp.arch == "gemma3" && (l.q_norm.empty() || l.k_norm.empty() || l.post_attn_norm.empty() || l.post_ffw_norm.empty())) {
      fail("{}: layer {} lacks one of the Gemma 3 norms (attn_q_norm, attn_k_norm, post_attention_norm, post_ffw_norm)",
           file.path(), il);
    }
    if (hp.arch == "qwen3" && (l.q_norm.empty() || l.k_norm.empty())) {
      fail("{}: layer {} lacks attn_q_norm/attn_k_norm, which qwen3 requires", file.path(), il);
    }
  }
  return w;
}

}  // namespace lkv
