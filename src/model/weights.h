// Views of a model's weight tensors inside the mapped GGUF file.
//
// Matrices stay quantized in the mapping and are used through WeightView. Vectors (norm weights,
// biases) are small and are converted to f32 copies at load time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/hparams.h"
#include "tensor/matmul.h"

namespace lkv {

struct LayerWeights {
  std::vector<float> attn_norm;            // [n_embd]
  WeightView wq, wk, wv, wo;               // [n_embd → n_head·hd], [n_embd → n_kv·hd] ×2, [n_head·hd → n_embd]
  std::vector<float> bq, bk, bv, bo;       // optional biases (empty when absent)
  std::vector<float> q_norm, k_norm;       // optional per-head RMSNorm weights [head_dim]
  std::vector<float> post_attn_norm;       // optional (Gemma) [n_embd]
  std::vector<float> ffn_norm;             // [n_embd]
  WeightView w_gate, w_up, w_down;         // [n_embd → n_ff] ×2, [n_ff → n_embd]
  std::vector<float> post_ffw_norm;        // optional (Gemma) [n_embd]
};

struct ModelWeights {
  WeightView token_embd;                   // [n_embd, n_vocab]: row t is token t's embedding
  std::vector<float> output_norm;          // [n_embd]
  WeightView output;                       // [n_embd → n_vocab]; the embedding matrix when tied
  bool output_tied = false;
  std::vector<LayerWeights> layers;
};

namespace gguf {
class File;
}

// Binds every tensor the hyperparameters call for, checking its presence, shape and type.
// Throws lkv::Error naming the tensor, its actual and expected shape and what to do.
ModelWeights bind_weights(const gguf::File& file, const HParams& hp);

}  // namespace lkv
