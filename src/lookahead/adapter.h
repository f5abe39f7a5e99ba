// LookaheadKV's trainable module and its adapter file (DESIGN.md §6).
//
// The module is m lookahead embeddings (m × d_model) and LoRA adapters on chosen projections of
// every layer, active only on the lookahead rows, so the prompt's hidden states and KV cache stay
// those of the base model. It is saved as a small GGUF file of F32 tensors:
//   lookahead.embd              shape [n_embd, m]    row i is lookahead embedding i
//   blk.N.<proj>.lora_a         shape [n_in, rank]   A: rank rows of n_in
//   blk.N.<proj>.lora_b         shape [rank, n_out]  B: n_out rows of rank
// where <proj> is the base tensor's stem (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up,
// ffn_down), and metadata under `lookaheadkv.`: the base model's architecture, sizes and file
// fingerprint, m, rank, alpha, targets, the embedding initialization and a training summary.
//
// Embeddings are stored in the units of the model's token-embedding table. The forward pass
// multiplies them by the model's embedding scale (sqrt(d_model) for Gemma, 1 elsewhere) as it does
// for token embeddings, so a row copied from the table enters the first layer like that token.
// Goals: exact round trips, and loading refused with a clear message when the file does not fit
// the model. Non-goals: quantized adapter tensors, merging LoRA into the base weights.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/transformer.h"

namespace lkv {

// Flags for the projections that carry LoRA, indexed by Projection.
using LoraTargets = std::array<bool, kProjectionCount>;

// Short name used on the command line and in the file's target list: q, k, v, o, gate, up, down.
const char* projection_short_name(Projection p);
// Stem of the base model's GGUF tensor: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up,
// ffn_down.
const char* projection_tensor_stem(Projection p);
// Parses "q,k,v,o,gate,up,down" (any subset, any order) or "all". Throws lkv::Error naming the
// unknown entry.
LoraTargets parse_lora_targets(const std::string& text);
std::string lora_targets_text(const LoraTargets& targets);
LoraTargets all_lora_targets();

// Input rows [n_in] and output rows [n_out] of projection p in the model's layers.
int64_t projection_n_in(const HParams& hp, Projection p);
int64_t projection_n_out(const HParams& hp, Projection p);

enum class EmbeddingInit {
  TokenEmbeddings,  // rows of the token-embedding table at seeded random token ids
  Random,           // N(0, σ²) with σ the RMS of the token-embedding table
};
const char* embedding_init_name(EmbeddingInit init);

struct LookaheadConfig {
  int n_lookahead = 32;  // m, lookahead tokens
  int rank = 8;          // LoRA rank r
  float alpha = 32.0f;   // LoRA alpha; the update is scaled by alpha / rank
  LoraTargets targets = all_lora_targets();
  EmbeddingInit embedding_init = EmbeddingInit::TokenEmbeddings;

  float lora_scale() const { return alpha / static_cast<float>(rank); }
  // Throws lkv::Error naming the field out of range.
  void validate() const;
};

// Identity of the base model an adapter was made for.
struct BaseModelInfo {
  std::string arch;
  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int n_ff = 0;
  int n_vocab = 0;
  std::string fingerprint;  // model_fingerprint() of the base file
  std::string file_name;    // base name of that file; informative only

  static BaseModelInfo of(const Model& model);
};

// Summary of the module's training. All zero or empty for a freshly initialized module.
struct TrainingSummary {
  int64_t steps = 0;
  int64_t examples = 0;       // training examples
  double train_loss = 0.0;    // final mean training loss (KL, nats)
  double val_loss = 0.0;      // final validation loss; meaningful when val_examples > 0
  int64_t val_examples = 0;
  double seconds = 0.0;       // wall-clock training time
  uint64_t seed = 0;
  std::string command;        // the command line that trained it
  std::string data;           // what it was trained on
  std::string date;           // when training finished (ISO 8601)

  bool trained() const { return steps > 0; }
};

struct LookaheadAdapter {
  LookaheadConfig config;
  BaseModelInfo base;
  TrainingSummary training;
  std::vector<float> embeddings;  // [m × n_embd], token-embedding units (see above)
  LoraWeights lora;               // layers[n_layer]; untargeted projections stay empty

  // A fresh module for `model`: embeddings as config.embedding_init selects, LoRA A uniform in
  // ±1/sqrt(n_in) (the Kaiming-uniform bound LoRA implementations use) and B zero, so the adapter
  // starts as the identity on the base model. Deterministic for a seed.
  static LookaheadAdapter create(const Model& model, const LookaheadConfig& config, uint64_t seed);

  // Reads an adapter file and checks it against its own metadata (shapes, types, finite values,
  // no missing or unexpected tensors). Throws lkv::Error naming the path, the tensor or key, and
  // the fix.
  static LookaheadAdapter load(const std::string& path);
  // load() followed by check_compatible(model, check_fingerprint).
  static LookaheadAdapter load_for(const std::string& path, const Model& model, bool check_fingerprint = true);

  // Throws lkv::Error when the adapter was made for a model of another architecture or other sizes,
  // or (with check_fingerprint) for another file. `label` names the adapter in the message.
  void check_compatible(const Model& model, bool check_fingerprint = true, const std::string& label = "adapter") const;

  // Writes the adapter file. Throws lkv::Error naming the path on an I/O error.
  void save(const std::string& path) const;

  int64_t embedding_parameter_count() const { return static_cast<int64_t>(embeddings.size()); }
  int64_t lora_parameter_count() const;
  int64_t parameter_count() const { return embedding_parameter_count() + lora_parameter_count(); }

  // The lookahead rows as the forward pass takes them: embeddings × the model's embedding scale,
  // [m × n_embd].
  std::vector<float> input_rows(const HParams& hp) const;

  // Metadata and parameter counts, one item per line, for `lookaheadkv adapter-info`.
  std::string describe() const;
};

// Fingerprint of a GGUF model file: FNV-1a (64-bit) over the header (every metadata entry and the
// tensor table: names, types, shapes, offsets), the file size, and the first and last 4 KiB of each
// tensor's data. It distinguishes other models, other quantizations and edited weights in about
// 10 ms, without reading the whole file. Not a cryptographic hash. Format: "fnv1a64:" + 16 hex digits.
std::string model_fingerprint(const gguf::File& file);

}  // namespace lkv
