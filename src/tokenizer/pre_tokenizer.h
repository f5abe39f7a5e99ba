// Pre-tokenizers for byte-level BPE: the split step that runs before merging.
//
// Each supported `tokenizer.ggml.pre` value names a list of regexes from the model's
// tokenizer.json. llama.cpp applies them in sequence: each one splits the pieces the previous one
// produced, and the text between matches stays a piece of its own. Each regex here is a
// hand-written matcher over code points with the same leftmost-first semantics, so no regex engine
// is involved and the character classes come from our generated Unicode tables.
// Non-goals: pre-tokenizers of models we do not ship (DeepSeek, Falcon, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lkv {

enum class PreTokenizer {
  Default,  // llama.cpp's fallback list: punctuation runs, GPT-2 words, number runs, 3 digits
  Gpt2,     // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
  Smollm,   // \p{N} (every digit alone), then the GPT-2 pattern
  Llama3,   // Llama 3 pattern: case-insensitive contractions, \p{N}{1,3}, newline-aware spaces
  Qwen2,    // Llama 3 pattern with single digits (\p{N})
};

// Maps a tokenizer.ggml.pre value to its pre-tokenizer; throws lkv::Error for unsupported names.
PreTokenizer pre_tokenizer_from_name(std::string_view name);
const char* pre_tokenizer_name(PreTokenizer kind);

// Splits cps[0..n) into pieces and appends each piece's end (exclusive code point index) to `ends`.
// The pieces cover the input exactly, in order; an empty input gives no pieces.
void pre_tokenize(PreTokenizer kind, const char32_t* cps, size_t n, std::vector<uint32_t>& ends);

}  // namespace lkv
