// Internal: what the SentencePiece-style and byte-level BPE tokenizers share.
//
// VocabTokenizer reads the common tokenizer.ggml.* keys, applies llama.cpp's fix-ups of token
// types and end-of-generation ids, splits special tokens out of the input and drives the
// encode/decode skeleton. The subclasses supply the algorithm for plain text and the output text
// of normal tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lkv::detail {

// Token types as stored in tokenizer.ggml.token_type.
enum TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// A stretch of input after special-token partitioning: one special token, or plain text
// [begin, end) to be run through the model's algorithm.
struct Fragment {
  TokenId token = -1;  // -1 for plain text
  size_t begin = 0;
  size_t end = 0;
};

// Finds special tokens in text the way llama.cpp's partitioning does: tokens are tried one at a
// time, longest text first, and each one splits every remaining plain-text stretch at all of its
// non-overlapping occurrences, left to right. (This is not the same as leftmost-longest matching
// when special texts overlap.) A trie finds the candidates at each position and a heap visits
// them in that token order. The cost therefore grows with the text length, not with the number
// of special tokens.
class SpecialTokenMatcher {
 public:
  // Control and unknown tokens are matched only when the caller parses specials; user-defined
  // tokens always are.
  void build(const std::vector<std::string>& tokens, const std::vector<int32_t>& types);
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;
  size_t size() const { return order_.size(); }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    TokenId token = -1;  // special token whose text ends here
  };
  int32_t child(int32_t node, uint8_t byte) const;
  // Longest enabled special token that starts at pos and is at most max_len bytes long, or -1.
  TokenId longest_match(std::string_view text, size_t pos, size_t max_len, bool parse_special) const;

  std::vector<Node> nodes_;
  std::vector<TokenId> order_;     // special tokens, longest text first (ties: lower id first)
  std::vector<uint32_t> rank_;     // rank_[id] = position in order_, for special ids
  std::vector<uint32_t> length_;   // text length per special token id (0 for others)
  std::vector<bool> always_;       // user-defined: matched even without parse_special
  bool first_byte_[256] = {};
};

class VocabTokenizer : public Tokenizer {
 public:
  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const final;
  std::string token_to_piece(TokenId id, bool render_special) const final;

 protected:
  // Reads tokens, types, scores, special ids and flags. `spm` selects llama.cpp's per-algorithm
  // defaults (SPM: BOS 1, EOS 2, UNK 0, add_space_prefix true; BPE: BOS = EOS = 11); default_add_bos
  // applies when the file has no tokenizer.ggml.add_bos_token.
  void load_common(const gguf::File& file, bool spm, bool default_add_bos);

  // Appends the ids for one plain-text fragment. `after_special` is true for the first fragment
  // and for one that follows a special token (SPM adds its space prefix there).
  virtual void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const = 0;
  // Output text of a NORMAL token.
  virtual std::string normal_piece(TokenId id) const = 0;

  // Id of the byte token for `byte` (text "<0xHH>", else the one-byte text), or -1.
  TokenId byte_token(uint8_t byte) const { return byte_tokens_[byte]; }

  std::vector<float> scores_;  // empty when the file has none (BPE)
  TokenId unk_ = -1;
  bool add_space_prefix_ = false;
  SpecialTokenMatcher specials_;
  TokenId byte_tokens_[256];
};

}  // namespace lkv::detail
