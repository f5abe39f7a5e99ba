// Gemma 3 (GGUF architecture `gemma3`).
//
// Differences from the Llama family, as llama.cpp's gemma3 graph defines them: token embeddings
// scaled by sqrt(d_model); four norms per block (pre/post attention, pre/post FFN) whose stored
// weights already include Gemma's +1; RMSNorm on each query and key head before RoPE; NEOX RoPE;
// GELU-tanh gated FFN; the output head tied to the embeddings. Layers alternate five sliding-window
// layers (RoPE base 10000) and one global layer (RoPE base from the file, linear scaling allowed).
#include <cmath>

#include "gguf/reader.h"
#include "model/arch.h"
#include "util/error.h"

namespace lkv::detail {

void load_gemma3_hparams(const gguf::File& file, HParams& hp) {
  load_common_hparams(file, "gemma3", hp);
  hp.rope_style = RopeStyle::Neox;
  hp.rope_base_local = 10000.0f;  // fixed for the sliding-window layers in Gemma 3
  hp.embed_scale = std::sqrt(static_cast<float>(hp.n_embd));
  hp.ffn_activation = FfnActivation::GeluTanh;
  // Gemma 3 scales queries by 1/sqrt(head_dim) except the 27B model (62 layers), which uses
  // 1/sqrt(d_model / n_head).
  hp.query_scale = hp.n_layer == 62 ? 1.0f / std::sqrt(static_cast<float>(hp.n_embd / hp.n_head))
                                    : 1.0f / std::sqrt(static_cast<float>(hp.head_dim));

  auto window = file.get_u32_opt("gemma3.attention.sliding_window");
  if (!window || *window == 0) {
    fail("{}: gemma3.attention.sliding_window is missing; Gemma 3 files without sliding-window layers "
         "are not supported",
         file.path());
  }
  hp.sliding_window = static_cast<int>(*window);
  // Every sixth layer (5, 11, 17, ...) attends globally; the others use the sliding window.
  for (int il = 0; il < hp.n_layer; ++il) hp.layer_is_swa[il] = (il % 6) < 5;
}

}  // namespace lkv::detail
