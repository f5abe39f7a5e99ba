// SentencePiece-style tokenizer (`tokenizer.ggml.model = "llama"`): Gemma, Llama 2.
//
// Reference behaviour (llama.cpp's SPM session, described in words): spaces become U+2581 and the
// text starts as one symbol per UTF-8 character. The adjacent pair whose concatenation is the
// vocabulary entry with the highest score is merged first (ties: leftmost pair), until no
// adjacent pair forms a vocabulary entry. A final symbol that is not an entry falls back to one
// <0xHH> byte token per UTF-8 byte. There is no other normalisation.
#include <queue>

#include "gguf/reader.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_tokenizer.h"
#include "util/error.h"

namespace lkv::detail {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

class SpmTokenizer final : public VocabTokenizer {
 public:
  explicit SpmTokenizer(const gguf::File& file) { load_common(file, /*spm=*/true, /*default_add_bos=*/true); }

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
  std::string normal_piece(TokenId id) const override;

 private:
  float score(TokenId id) const { return scores_.empty() ? 0.0f : scores_[static_cast<size_t>(id)]; }
};

struct Symbol {
  uint32_t begin;
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Candidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t len;  // combined length when pushed; a mismatch later means the pair is stale
};

// Max-heap order: higher score first, then the leftmost pair.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

void SpmTokenizer::encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const {
  std::string s;
  s.reserve(text.size() * 3 + 3);
  if (add_space_prefix_ && after_special) s += kSpaceMark;
  for (const char c : text) {
    if (c == ' ') {
      s += kSpaceMark;
    } else {
      s.push_back(c);
    }
  }
  if (s.empty()) return;

  std::vector<Symbol> symbols;
  symbols.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto len = static_cast<uint32_t>(std::min(utf8_sequence_length(static_cast<uint8_t>(s[i])), s.size() - i));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(i), len, index - 1, -1});
    i += len;
    if (i < s.size()) symbols.back().next = index + 1;
  }

  std::vector<Candidate> storage;
  storage.reserve(symbols.size());
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> heap(CandidateOrder{}, std::move(storage));
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const TokenId id = find_token(std::string_view(s).substr(l.begin, l.len + r.len));
    if (id < 0) return;
    heap.push({score(id), left, right, l.len + r.len});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = symbols[static_cast<size_t>(c.left)];
    Symbol& r = symbols[static_cast<size_t>(c.right)];
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = c.left;
    try_pair(l.prev, c.left);
    try_pair(c.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& sym = symbols[static_cast<size_t>(i)];
    const std::string_view piece = std::string_view(s).substr(sym.begin, sym.len);
    const TokenId id = find_token(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (const char byte : piece) {
      const TokenId b = byte_token(static_cast<uint8_t>(byte));
      if (b >= 0) {
        out.push_back(b);
      } else if (unk_ >= 0) {
        out.push_back(unk_);
      } else {
        fail("byte 0x{:02X} has no vocabulary entry (no <0x{:02X}> byte token and no unknown token)",
             static_cast<uint8_t>(byte), static_cast<uint8_t>(byte));
      }
    }
  }
}

std::string SpmTokenizer::normal_piece(TokenId id) const {
  const std::string& text = tokens_[static_cast<size_t>(id)];
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out.push_back(' ');
      i += kSpaceMark.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(const gguf::File& file) { return std::make_unique<SpmTokenizer>(file); }

}  // namespace lkv::detail
