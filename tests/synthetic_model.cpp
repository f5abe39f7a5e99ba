#include "synthetic_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "util/error.h"

namespace lkv::test {

namespace {

// splitmix64: a fixed, library-independent sequence, so a seed names the same model everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi).
  float uniform(float lo, float hi) {
    const double u = static_cast<double>(next() >> 11) * 0x1.0p-53;
    return static_cast<float>(lo + (hi - lo) * u);
  }

 private:
  uint64_t state_;
};

bool is_k_quant(GgmlType type) {
  return type == GgmlType::Q4_K || type == GgmlType::Q5_K || type == GgmlType::Q6_K;
}

}  // namespace

GgmlType synthetic_matrix_type(GgmlType requested, int64_t n_in) {
  const int64_t block = type_traits(requested).block_size;
  if (n_in % block == 0) return requested;
  return n_in % 32 == 0 ? GgmlType::Q8_0 : GgmlType::F16;
}

SyntheticSpec synthetic_spec(const std::string& arch, GgmlType weight_type) {
  SyntheticSpec s;
  s.arch = arch;
  s.weight_type = weight_type;
  if (arch == "gemma3") {
    // Seven layers so that both kinds appear: 0-4 and 6 are sliding-window layers, 5 is global.
    s.n_layer = 7;
    s.n_head = 4;
    s.n_head_kv = 1;
    s.head_dim = 32;
    s.n_ff = 128;
    s.n_vocab = 96;
    s.sliding_window = 8;
    s.rope_base = 1e6f;
    s.qk_norm = true;
    s.sandwich_norms = true;
    s.tied_output = true;
    s.seed = 3;
  } else if (arch == "llama") {
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim = 16;
    s.n_vocab = 80;
    s.rms_eps = 1e-5f;
    s.tied_output = false;
    s.seed = 5;
  } else if (arch == "qwen2") {
    s.n_head = 4;
    s.n_head_kv = 1;
    s.head_dim = 16;
    s.n_vocab = 72;
    s.rope_base = 1e6f;
    s.qkv_bias = true;
    s.tied_output = true;
    s.seed = 7;
  } else if (arch == "qwen3") {
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim = 32;
    s.n_vocab = 300;
    s.rope_base = 1e6f;
    s.qk_norm = true;
    s.tied_output = false;
    s.seed = 11;
  } else {
    fail("synthetic_spec: no spec for architecture '{}'", arch);
  }
  if (is_k_quant(weight_type)) {
    // K-quant blocks span 256 elements, so wider rows let the embedding, Q/K/V, gate, up and down
    // matrices use the type. attn_output, with rows of n_head·head_dim = 64 or 128, falls back.
    s.n_embd = 256;
    s.n_ff = 256;
  }
  return s;
}

SyntheticModel::SyntheticModel(SyntheticSpec spec) : spec_(std::move(spec)) { build_tensors(); }

void SyntheticModel::build_tensors() {
  const SyntheticSpec& s = spec_;
  const int64_t d = s.n_embd;
  const int64_t q_width = static_cast<int64_t>(s.n_head) * s.head_dim;
  const int64_t kv_width = static_cast<int64_t>(s.n_head_kv) * s.head_dim;
  Rng rng(s.seed);

  // Matrix values have standard deviation 1/sqrt(n_in), so every projection keeps its input's
  // scale. Norm weights lie around 1 because Gemma's stored weights include its +1.
  auto matrix = [&](const std::string& name, int64_t n_in, int64_t n_out, float stddev) {
    SyntheticTensor t{name, {n_in, n_out}, synthetic_matrix_type(s.weight_type, n_in), {}, {}};
    const float a = stddev * std::sqrt(3.0f);
    t.values.resize(static_cast<size_t>(n_in * n_out));
    for (float& v : t.values) v = rng.uniform(-a, a);
    tensors_.push_back(std::move(t));
  };
  auto vector = [&](const std::string& name, int64_t n, float lo, float hi) {
    SyntheticTensor t{name, {n}, GgmlType::F32, {}, {}};
    t.values.resize(static_cast<size_t>(n));
    for (float& v : t.values) v = rng.uniform(lo, hi);
    tensors_.push_back(std::move(t));
  };
  auto proj = [&](const std::string& name, int64_t n_in, int64_t n_out) {
    matrix(name, n_in, n_out, 1.0f / std::sqrt(static_cast<float>(n_in)));
  };

  // Gemma multiplies embeddings by sqrt(n_embd), so its rows are drawn to have rms 1 after scaling.
  const float embd_std = s.arch == "gemma3" ? 1.0f / std::sqrt(static_cast<float>(d)) : 0.5f;
  matrix("token_embd.weight", d, s.n_vocab, embd_std);
  for (int il = 0; il < s.n_layer; ++il) {
    const std::string p = fmt::format("blk.{}.", il);
    vector(p + "attn_norm.weight", d, 0.7f, 1.3f);
    proj(p + "attn_q.weight", d, q_width);
    proj(p + "attn_k.weight", d, kv_width);
    proj(p + "attn_v.weight", d, kv_width);
    if (s.qkv_bias) {
      vector(p + "attn_q.bias", q_width, -0.5f, 0.5f);
      vector(p + "attn_k.bias", kv_width, -0.5f, 0.5f);
      vector(p + "attn_v.bias", kv_width, -0.5f, 0.5f);
    }
    if (s.qk_norm) {
      vector(p + "attn_q_norm.weight", s.head_dim, 0.7f, 1.3f);
      vector(p + "attn_k_norm.weight", s.head_dim, 0.7f, 1.3f);
    }
    proj(p + "attn_output.weight", q_width, d);
    if (s.sandwich_norms) vector(p + "post_attention_norm.weight", d, 0.7f, 1.3f);
    vector(p + "ffn_norm.weight", d, 0.7f, 1.3f);
    proj(p + "ffn_gate.weight", d, s.n_ff);
    proj(p + "ffn_up.weight", d, s.n_ff);
    proj(p + "ffn_down.weight", s.n_ff, d);
    if (s.sandwich_norms) vector(p + "post_ffw_norm.weight", d, 0.7f, 1.3f);
  }
  vector("output_norm.weight", d, 0.7f, 1.3f);
  if (!s.tied_output) proj("output.weight", d, s.n_vocab);
}

SyntheticTensor& SyntheticModel::tensor(const std::string& name) {
  for (SyntheticTensor& t : tensors_) {
    if (t.name == name) return t;
  }
  fail("synthetic model has no tensor '{}'", name);
}

void SyntheticModel::remove_tensor(const std::string& name) {
  auto it = std::find_if(tensors_.begin(), tensors_.end(), [&](const SyntheticTensor& t) { return t.name == name; });
  if (it == tensors_.end()) fail("synthetic model has no tensor '{}'", name);
  tensors_.erase(it);
}

void SyntheticModel::set_u32_override(const std::string& key, uint32_t value) { u32_overrides_.emplace_back(key, value); }

void SyntheticModel::add_metadata(gguf::Writer& w) const {
  const SyntheticSpec& s = spec_;
  const std::string a = s.arch + ".";
  auto overridden = [&](const std::string& key) {
    return std::any_of(u32_overrides_.begin(), u32_overrides_.end(), [&](const auto& kv) { return kv.first == key; });
  };
  auto u32 = [&](const std::string& key, int value) {
    if (!overridden(key)) w.add_u32(key, static_cast<uint32_t>(value));
  };

  w.add_string("general.architecture", s.arch);
  w.add_string("general.name", "synthetic " + s.arch);
  u32(a + "block_count", s.n_layer);
  u32(a + "context_length", s.n_ctx);
  u32(a + "embedding_length", s.n_embd);
  u32(a + "feed_forward_length", s.n_ff);
  u32(a + "attention.head_count", s.n_head);
  u32(a + "attention.head_count_kv", s.n_head_kv);
  // Real files state the head width when it differs from n_embd / n_head (Gemma 3, Qwen3); the
  // others rely on the default. Llama files also carry rope.dimension_count.
  if (s.head_dim * s.n_head != s.n_embd) {
    u32(a + "attention.key_length", s.head_dim);
    u32(a + "attention.value_length", s.head_dim);
  }
  if (s.arch == "llama") u32(a + "rope.dimension_count", s.head_dim);
  w.add_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.add_f32(a + "rope.freq_base", s.rope_base);
  if (s.sliding_window > 0) u32(a + "attention.sliding_window", s.sliding_window);
  for (const auto& [key, value] : u32_overrides_) w.add_u32(key, value);

  // A placeholder SentencePiece-style vocabulary: three control tokens, then distinct pieces.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int i = 3; i < s.n_vocab; ++i) {
    tokens.push_back(fmt::format("\u2581p{}", i));
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.add_u32("tokenizer.ggml.unknown_token_id", 0);
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
}

gguf::Writer SyntheticModel::writer() const {
  gguf::Writer w;
  add_metadata(w);
  for (const SyntheticTensor& t : tensors_) {
    if (!t.raw.empty()) {
      w.add_tensor_bytes(t.name, t.shape, t.type, t.raw);
    } else {
      w.add_tensor(t.name, t.shape, t.type, t.values);
    }
  }
  return w;
}

std::vector<uint8_t> SyntheticModel::to_gguf() const { return writer().to_bytes(); }

void SyntheticModel::write(const std::string& path) const { writer().write_file(path); }

TempFile::TempFile(const std::string& name)
    : path_(fmt::format("{}lkv_synthetic_{}_{}", ::testing::TempDir(), ::getpid(), name)) {}

TempFile::~TempFile() { std::remove(path_.c_str()); }

}  // namespace lkv::test
