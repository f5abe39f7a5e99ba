// The Llama family: GGUF architectures `llama`, `qwen2` and `qwen3`.
//
// All three are pre-norm blocks (attention norm, FFN norm) with a SwiGLU FFN and no embedding
// scale. They differ in RoPE pairing (llama: adjacent pairs, because the GGUF converter permuted
// the Q/K rows; qwen: halves), in q/k/v biases (present in qwen2 files, optional in llama) and in
// per-head QK RMSNorm (qwen3). Biases and QK norms are taken from the tensors a file contains.
#include "gguf/reader.h"
#include "model/arch.h"
#include "util/error.h"

namespace lkv::detail {

void load_llama_family_hparams(const gguf::File& file, HParams& hp) {
  const std::string arch = file.get_string("general.architecture");
  load_common_hparams(file, arch, hp);
  hp.rope_style = arch == "llama" ? RopeStyle::Norm : RopeStyle::Neox;
  hp.ffn_activation = FfnActivation::Silu;
  if (auto scale = file.get_f32_opt(arch + ".attention.scale"); scale && *scale != 0.0f) hp.query_scale = *scale;
  if (file.has(arch + ".attention.sliding_window")) {
    fail("{}: {}.attention.sliding_window is set, but sliding-window attention is only supported for gemma3",
         file.path(), arch);
  }
}

}  // namespace lkv::detail
