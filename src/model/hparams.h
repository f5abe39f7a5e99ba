// Hyperparameters of a decoder-only transformer, read from GGUF metadata.
//
// Everything that differs between architectures is decided here, once, by the per-architecture
// loader (arch_*.cpp): the forward pass reads these fields and the presence of optional tensors,
// never the architecture name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lkv::gguf {
class File;
}

namespace lkv {

enum class RopeStyle {
  Norm,  // rotate adjacent pairs (x[2i], x[2i+1]): GGUF `llama`, whose converter permuted Q/K rows
  Neox,  // rotate halves (x[i], x[i + n_rot/2]): Gemma 3, Qwen2, Qwen3
};

enum class FfnActivation {
  Silu,      // SwiGLU: down(silu(gate·x) ⊙ up·x)
  GeluTanh,  // GeGLU with the tanh approximation of GELU (Gemma)
};

struct HParams {
  std::string arch;      // general.architecture
  int n_layer = 0;
  int n_embd = 0;        // d_model
  int n_vocab = 0;
  int n_ctx_train = 0;   // context length the model was trained for
  int n_head = 0;        // query heads (same in every layer for the supported families)
  int n_head_kv = 0;     // KV heads
  int head_dim = 0;      // key and value width per head
  int n_ff = 0;          // feed-forward hidden size
  int n_rot = 0;         // rotated dimensions per head
  float rms_eps = 1e-6f;

  RopeStyle rope_style = RopeStyle::Norm;
  float rope_base = 10000.0f;        // global (full-attention) layers
  float rope_base_local = 10000.0f;  // sliding-window layers
  float rope_freq_scale = 1.0f;      // 1 / linear scaling factor, global layers only

  int sliding_window = 0;            // 0: no sliding-window layers
  std::vector<bool> layer_is_swa;    // n_layer entries

  float embed_scale = 1.0f;          // token embeddings are multiplied by this (Gemma: sqrt(n_embd))
  float query_scale = 1.0f;          // queries are multiplied by this before q·k (1/sqrt(head_dim))
  FfnActivation ffn_activation = FfnActivation::Silu;

  int n_gqa() const { return n_head / n_head_kv; }
  bool is_swa(int layer) const { return sliding_window > 0 && layer_is_swa[layer]; }
  std::string summary() const;
};

// Reads the hyperparameters of any supported architecture; throws lkv::Error for an unknown
// architecture or a missing or inconsistent key.
HParams load_hparams(const gguf::File& file);

// Architectures the engine can run.
const std::vector<std::string>& supported_architectures();

}  // namespace lkv
