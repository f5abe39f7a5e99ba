// Tiny random-weight models of every supported architecture, written as GGUF files by our own
// writer, for fast tests of the loader and the forward pass.
//
// A SyntheticModel contains the metadata choices (SyntheticSpec) and the tensor list as f32 values.
// Tests may edit either before encoding (drop a tensor, change a shape or type, rename the
// architecture), which is how the loader's failure cases are produced. Tensor names, shapes and
// keys are those of a real converted file of the architecture.
// Non-goals: realistic weight statistics, tokenizers that encode real text (the vocabulary is a
// list of placeholder pieces, present because models carry one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/writer.h"
#include "tensor/types.h"

namespace lkv::test {

struct SyntheticSpec {
  std::string arch;                  // general.architecture and the key prefix
  GgmlType weight_type = GgmlType::F32;  // type of the matrices, with the fallback rule of synthetic_spec()
  int n_layer = 2;
  int n_embd = 64;
  int n_head = 4;
  int n_head_kv = 2;
  int head_dim = 16;                 // written as key_length/value_length when it differs from n_embd/n_head
  int n_ff = 96;
  int n_vocab = 80;
  int n_ctx = 256;
  int sliding_window = 0;            // gemma3 only; 0 writes no key
  float rope_base = 10000.0f;
  float rms_eps = 1e-6f;
  bool tied_output = true;           // false: a separate output.weight
  bool qkv_bias = false;             // attn_q/k/v.bias (qwen2)
  bool qk_norm = false;              // attn_q_norm/attn_k_norm (gemma3, qwen3)
  bool sandwich_norms = false;       // post_attention_norm and post_ffw_norm (gemma3)
  uint64_t seed = 1;
};

// Returns the spec the tests use for an architecture ("gemma3", "llama", "qwen2" or "qwen3").
//   gemma3: 7 layers (0-4 and 6 sliding, 5 global), window 8, 4 heads / 1 KV head of 32 (Q width
//           128 ≠ n_embd 64), QK norms, sandwich norms, tied output, global RoPE base 1e6.
//   llama:  2 layers, 4 heads / 2 KV heads of 16, separate output.weight, RoPE base 10000.
//   qwen2:  2 layers, 4 heads / 1 KV head of 16, q/k/v biases, tied output, RoPE base 1e6.
//   qwen3:  2 layers, 4 heads / 2 KV heads of 32 (Q width 128 ≠ n_embd 64), QK norms, separate
//           output.weight, RoPE base 1e6.
// K-quant types (block 256) get n_embd = n_ff = 256 so most matrices can use them; a matrix whose
// row length is not a multiple of the type's block is stored as Q8_0 instead (F16 when not a
// multiple of 32), the way real quantized files store rows of 640 or 896 elements.
SyntheticSpec synthetic_spec(const std::string& arch, GgmlType weight_type);

// Returns the type a matrix with rows of n_in elements gets under the fallback rule above.
GgmlType synthetic_matrix_type(GgmlType requested, int64_t n_in);

struct SyntheticTensor {
  std::string name;
  std::vector<int64_t> shape;        // ne[0] first
  GgmlType type = GgmlType::F32;
  std::vector<float> values;         // encoded to `type` by the writer
  std::vector<uint8_t> raw;          // when non-empty, written as-is instead of `values`
};

class SyntheticModel {
 public:
  explicit SyntheticModel(SyntheticSpec spec);

  SyntheticSpec& spec() { return spec_; }
  const SyntheticSpec& spec() const { return spec_; }
  std::vector<SyntheticTensor>& tensors() { return tensors_; }

  // Returns the tensor with this name. Throws lkv::Error when it is missing.
  SyntheticTensor& tensor(const std::string& name);
  // Removes the tensor. Throws lkv::Error when it is missing.
  void remove_tensor(const std::string& name);
  // Writes `key` = value in place of the spec's value for that key, or as an extra key. Tests use
  // it to write inconsistent metadata on purpose.
  void set_u32_override(const std::string& key, uint32_t value);

  std::vector<uint8_t> to_gguf() const;
  void write(const std::string& path) const;

 private:
  void build_tensors();
  gguf::Writer writer() const;
  void add_metadata(gguf::Writer& w) const;

  SyntheticSpec spec_;
  std::vector<SyntheticTensor> tensors_;
  std::vector<std::pair<std::string, uint32_t>> u32_overrides_;
};

// Temporary file path under the test temp directory, unique to this process and `name`. The file
// is deleted on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& name);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lkv::test
