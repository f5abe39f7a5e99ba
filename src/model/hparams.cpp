#include "model/hparams.h"

#include <fmt/format.h>

#include <cmath>

#include "gguf/reader.h"
#include "model/arch.h"
#include "util/error.h"

namespace lkv {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = {"gemma3", "llama", "qwen2", "qwen3"};
  return names;
}

std::string HParams::summary() const {
  int n_swa = 0;
  for (int il = 0; il < n_layer; ++il) n_swa += is_swa(il) ? 1 : 0;
  return fmt::format(
      "{}: {} layers ({} sliding-window), d_model {}, heads {}/{} (q/kv), head dim {}, ffn {}, vocab {}, "
      "trained context {}",
      arch, n_layer, n_swa, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx_train);
}

namespace detail {

namespace {

uint32_t uniform_per_layer(const gguf::File& file, const std::string& key, size_t n_layer) {
  std::vector<uint32_t> values = file.get_u32_per_layer(key, n_layer);
  for (uint32_t v : values) {
    if (v != values[0]) {
      fail("{}: key '{}' varies across layers; per-layer sizes are not supported", file.path(), key);
    }
  }
  return values[0];
}

}  // namespace

void load_common_hparams(const gguf::File& file, const std::string& arch, HParams& hp) {
  hp.arch = arch;
  hp.n_layer = static_cast<int>(file.get_u32(arch + ".block_count"));
  hp.n_embd = static_cast<int>(file.get_u32(arch + ".embedding_length"));
  hp.n_ctx_train = static_cast<int>(file.get_u32(arch + ".context_length"));
  if (hp.n_layer <= 0 || hp.n_layer > 512) fail("{}: {}.block_count = {} is out of range", file.path(), arch, hp.n_layer);
  if (hp.n_embd <= 0 || hp.n_embd > 65536) fail("{}: {}.embedding_length = {} is out of range", file.path(), arch, hp.n_embd);

  const size_t n_layer = static_cast<size_t>(hp.n_layer);
  hp.n_ff = static_cast<int>(uniform_per_layer(file, arch + ".feed_forward_length", n_layer));
  hp.n_head = static_cast<int>(uniform_per_layer(file, arch + ".attention.head_count", n_layer));
  hp.n_head_kv = file.has(arch + ".attention.head_count_kv")
                     ? static_cast<int>(uniform_per_layer(file, arch + ".attention.head_count_kv", n_layer))
                     : hp.n_head;
  if (hp.n_head <= 0 || hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0) {
    fail("{}: {}.attention.head_count = {} and {}.attention.head_count_kv = {} are invalid: the query head count must "
         "be a positive multiple of the KV head count",
         file.path(), arch, hp.n_head, arch, hp.n_head_kv);
  }
  const uint32_t default_head_dim = static_cast<uint32_t>(hp.n_embd / hp.n_head);
  const uint32_t key_length = file.get_u32_opt(arch + ".attention.key_length").value_or(default_head_dim);
  const uint32_t value_length = file.get_u32_opt(arch + ".attention.value_length").value_or(default_head_dim);
  if (key_length != value_length) {
    fail("{}: key_length {} differs from value_length {}; the engine needs equal head dims", file.path(), key_length,
         value_length);
  }
  hp.head_dim = static_cast<int>(key_length);
  if (hp.head_dim <= 0 || hp.head_dim % 2 != 0 || hp.head_dim > 1024) {
    fail("{}: head dim {} is invalid (expected an even number up to 1024)", file.path(), hp.head_dim);
  }
  hp.n_rot = static_cast<int>(file.get_u32_opt(arch + ".rope.dimension_count").value_or(key_length));
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    fail("{}: {}.rope.dimension_count = {} is invalid for head dim {}", file.path(), arch, hp.n_rot, hp.head_dim);
  }
  hp.rms_eps = file.get_f32(arch + ".attention.layer_norm_rms_epsilon");
  hp.rope_base = file.get_f32_opt(arch + ".rope.freq_base").value_or(10000.0f);
  hp.rope_base_local = hp.rope_base;
  if (auto factor = file.get_f32_opt(arch + ".rope.scaling.factor"); factor && *factor != 0.0f) {
    const std::string type = file.get_string_opt(arch + ".rope.scaling.type").value_or("linear");
    if (type != "linear" && type != "none") {
      fail("{}: RoPE scaling type '{}' is not supported (only linear)", file.path(), type);
    }
    if (type == "linear") hp.rope_freq_scale = 1.0f / *factor;
  }
  hp.query_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  hp.layer_is_swa.assign(n_layer, false);

  const gguf::Value* tokens = file.find("tokenizer.ggml.tokens");
  hp.n_vocab = static_cast<int>(file.get_u32_opt(arch + ".vocab_size").value_or(tokens ? tokens->array_size : 0));
  if (hp.n_vocab <= 0) fail("{}: vocabulary size unknown: neither {}.vocab_size nor tokenizer.ggml.tokens is present", file.path(), arch);
}

}  // namespace detail

HParams load_hparams(const gguf::File& file) {
  const std::string arch = file.get_string("general.architecture");
  HParams hp;
  if (arch == "gemma3") {
    detail::load_gemma3_hparams(file, hp);
  } else if (arch == "llama" || arch == "qwen2" || arch == "qwen3") {
    detail::load_llama_family_hparams(file, hp);
  } else {
    fail("{}: architecture '{}' is not supported; supported: gemma3, llama, qwen2, qwen3", file.path(), arch);
  }
  return hp;
}

}  // namespace lkv
