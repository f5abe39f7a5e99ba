// Text <-> token ids for the vocabularies stored in GGUF metadata.
//
// Two algorithms cover the supported families: SentencePiece-style score-driven merging
// (`tokenizer.ggml.model = "llama"`: Gemma, Llama 2) and byte-level BPE with rank-ordered merges
// (`gpt2`: Llama 3, Qwen2/3, SmolLM2). Both share the special-token partitioning step and the
// BOS/EOS rules read from the file. The results must match llama.cpp token for token.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lkv::gguf {
class File;
}

namespace lkv {

using TokenId = int32_t;

class Tokenizer {
 public:
  // Builds the tokenizer described by the file's tokenizer.ggml.* keys. Throws lkv::Error for an
  // unsupported tokenizer model or pre-tokenizer, or inconsistent vocabulary arrays.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& file);
  virtual ~Tokenizer() = default;

  // Encodes text. add_special: prepend BOS (and append EOS) when the file's add_bos/add_eos
  // flags are set.
  // parse_special: text such as "<start_of_turn>" becomes its control token instead of plain text.
  // Invalid UTF-8 throws lkv::Error naming the byte offset.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const = 0;

  // Text of one token as it appears in output. Control tokens give "" unless render_special.
  virtual std::string token_to_piece(TokenId id, bool render_special = false) const = 0;
  // Concatenated pieces; byte tokens are joined so multi-byte characters reassemble.
  std::string decode(const std::vector<TokenId>& ids, bool render_special = false) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  const std::string& token_text(TokenId id) const;  // raw vocabulary entry; throws if out of range
  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  // End-of-generation ids: EOS plus end-of-turn tokens (<end_of_turn>, <|im_end|>, <|eot_id|>, ...).
  const std::vector<TokenId>& eog_ids() const { return eog_; }
  bool is_eog(TokenId id) const;
  // Looks up an exact vocabulary entry; -1 if absent.
  TokenId find_token(std::string_view text) const;

 protected:
  Tokenizer() = default;
  // The lookup table refers to tokens_ by id; copies would be cheap to get wrong and are not needed.
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Builds the exact-text lookup behind find_token() once tokens_ is final. Throws lkv::Error
  // naming both ids when two entries have the same text (llama.cpp refuses such files too).
  void build_token_index();

  std::vector<std::string> tokens_;
  std::vector<int32_t> token_types_;  // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  TokenId bos_ = -1, eos_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  std::vector<TokenId> eog_;

 private:
  // Open-addressing hash table of token ids keyed by token text (-1 = empty slot). It stays
  // compact for 262k-entry vocabularies and lets find_token() take a string_view without copying.
  std::vector<TokenId> index_slots_;
  uint64_t index_mask_ = 0;
};

}  // namespace lkv
