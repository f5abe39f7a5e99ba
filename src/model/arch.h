// Per-architecture hyperparameter rules. Each supported architecture has one loader in its own
// file (arch_gemma3.cpp, arch_llama.cpp); load_hparams() dispatches on general.architecture.
#pragma once

#include "model/hparams.h"

namespace lkv::detail {

// Fills the keys every supported family shares: sizes, head counts, eps, RoPE base.
void load_common_hparams(const gguf::File& file, const std::string& arch, HParams& hp);

void load_gemma3_hparams(const gguf::File& file, HParams& hp);
void load_llama_family_hparams(const gguf::File& file, HParams& hp);  // llama, qwen2, qwen3

}  // namespace lkv::detail
