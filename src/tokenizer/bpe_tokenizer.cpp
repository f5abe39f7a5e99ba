// Byte-level BPE tokenizer (`tokenizer.ggml.model = "gpt2"`): Llama 3, Qwen2/2.5/3, SmolLM2.
//
// Reference behaviour (llama.cpp's BPE session, described in words): the pre-tokenizer splits the
// text into words, and each word's UTF-8 bytes are mapped to printable code points with GPT-2's
// byte-to-unicode table. Each word then starts as one symbol per mapped character. The adjacent
// pair with the lowest merge rank is merged first (ties: leftmost pair), until no adjacent pair
// has a merge. With ignore_merges (Llama 3) a word that is already a vocabulary entry is emitted
// whole.
//
// Merges are looked up by the pair of ids of their two sides. Texts that occur in the merge list
// but are not vocabulary entries get ids after the vocabulary, so merge chains through them still
// work; a final symbol with such an id falls back to the tokens of its single bytes, as in
// llama.cpp.
#include <spdlog/spdlog.h>

#include <queue>
#include <unordered_map>

#include "gguf/reader.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_tokenizer.h"
#include "util/error.h"

namespace lkv::detail {
namespace {

// GPT-2's reversible byte <-> code point map: printable Latin-1 bytes map to themselves, the other
// 68 bytes (controls, space, DEL, NBSP, soft hyphen, ...) to U+0100 onwards in byte order.
struct ByteMap {
  char32_t byte_to_cp[256];
  int16_t cp_to_byte[512];  // -1 where no byte maps to the code point
  std::string byte_to_utf8[256];

  ByteMap() {
    std::fill(std::begin(cp_to_byte), std::end(cp_to_byte), int16_t{-1});
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      byte_to_cp[b] = printable ? static_cast<char32_t>(b) : next++;
      cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
      append_utf8(byte_to_utf8[b], byte_to_cp[b]);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

struct Merge {
  int32_t rank;
  int32_t result;  // id of left+right (vocabulary id, or an id after the vocabulary)
};

struct Symbol {
  uint32_t begin;  // byte offset in the mapped word
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t id;      // text id, -1 when the text is in neither the vocabulary nor the merges
  int32_t prev;
  int32_t next;
};

struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;   // ids when pushed: a change means the pair is stale
  int32_t right_id;
  int32_t result;
};

// Min-heap order on rank, then the leftmost pair.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeTokenizer final : public VocabTokenizer {
 public:
  explicit BpeTokenizer(const gguf::File& file);

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
  std::string normal_piece(TokenId id) const override;

 private:
  // Id of a text for merging: vocabulary id, else an id after the vocabulary, else -1.
  int32_t text_id(std::string_view text) const;
  int32_t intern(const std::string& text);
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  void encode_word(std::string_view word, std::vector<TokenId>& out) const;

  PreTokenizer pre_ = PreTokenizer::Default;
  bool ignore_merges_ = false;
  std::unordered_map<std::string, int32_t> extra_ids_;  // merge texts outside the vocabulary
  std::vector<std::string> extra_texts_;
  std::unordered_map<uint64_t, Merge> merges_;
};

BpeTokenizer::BpeTokenizer(const gguf::File& file) {
  const auto pre_name = file.get_string_opt("tokenizer.ggml.pre");
  if (!pre_name || pre_name->empty()) {
    spdlog::warn("{}: no tokenizer.ggml.pre; using the 'default' pre-tokenizer (output may differ from the "
                 "model's own tokenizer)",
                 file.path());
  } else {
    pre_ = pre_tokenizer_from_name(*pre_name);
  }
  // Llama 3 files expect a BOS by default and skip merging for words that are whole entries.
  const bool llama3 = pre_ == PreTokenizer::Llama3;
  ignore_merges_ = llama3;
  load_common(file, /*spm=*/false, /*default_add_bos=*/llama3);

  if (!file.has("tokenizer.ggml.merges")) {
    fail("{}: byte-level BPE vocabulary without tokenizer.ggml.merges; reconvert the model", file.path());
  }
  const auto& merges = file.get_string_array("tokenizer.ggml.merges");
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    // "left right": the separator is the first space after the first byte, so a left side that is
    // itself a space still parses.
    const size_t sep = m.find(' ', 1);
    if (sep == std::string::npos) {
      spdlog::warn("{}: merge {} ('{}') has no separating space; ignored", file.path(), rank, m);
      continue;
    }
    const std::string left = m.substr(0, sep);
    const std::string right = m.substr(sep + 1);
    const int32_t l = intern(left), r = intern(right), res = intern(left + right);
    // The first occurrence of a pair sets its rank, as in llama.cpp.
    merges_.try_emplace(pair_key(l, r), Merge{static_cast<int32_t>(rank), res});
  }
}

int32_t BpeTokenizer::intern(const std::string& text) {
  const TokenId id = find_token(text);
  if (id >= 0) return id;
  auto [it, inserted] = extra_ids_.try_emplace(text, vocab_size() + static_cast<int32_t>(extra_texts_.size()));
  if (inserted) extra_texts_.push_back(text);
  return it->second;
}

int32_t BpeTokenizer::text_id(std::string_view text) const {
  const TokenId id = find_token(text);
  if (id >= 0) return id;
  if (extra_ids_.empty()) return -1;
  auto it = extra_ids_.find(std::string(text));
  return it == extra_ids_.end() ? -1 : it->second;
}

void BpeTokenizer::encode_text(std::string_view text, bool /*after_special*/, std::vector<TokenId>& out) const {
  std::vector<char32_t> cps;
  std::vector<uint32_t> starts;
  decode_utf8(text, cps, &starts);
  std::vector<uint32_t> ends;
  pre_tokenize(pre_, cps.data(), cps.size(), ends);

  const ByteMap& map = byte_map();
  std::string word;
  uint32_t begin = 0;
  for (const uint32_t end : ends) {
    word.clear();
    for (uint32_t b = starts[begin]; b < starts[end]; ++b) word += map.byte_to_utf8[static_cast<uint8_t>(text[b])];
    encode_word(word, out);
    begin = end;
  }
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (ignore_merges_) {
    const TokenId id = find_token(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t i = 0; i < word.size();) {
    const auto len = static_cast<uint32_t>(std::min(utf8_sequence_length(static_cast<uint8_t>(word[i])), word.size() - i));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(i), len, text_id(word.substr(i, len)), index - 1, -1});
    i += len;
    if (i < word.size()) symbols.back().next = index + 1;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> heap;
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t l = symbols[static_cast<size_t>(left)].id, r = symbols[static_cast<size_t>(right)].id;
    if (l < 0 || r < 0) return;
    const auto it = merges_.find(pair_key(l, r));
    if (it == merges_.end()) return;
    heap.push({it->second.rank, left, right, l, r, it->second.result});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = symbols[static_cast<size_t>(c.left)];
    Symbol& r = symbols[static_cast<size_t>(c.right)];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.id != c.left_id || r.id != c.right_id) continue;
    l.len += r.len;
    l.id = c.result;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = c.left;
    try_pair(l.prev, c.left);
    try_pair(c.left, l.next);
  }

  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& sym = symbols[static_cast<size_t>(i)];
    if (sym.id >= 0 && sym.id < vocab_size()) {
      out.push_back(sym.id);
      continue;
    }
    // Not a vocabulary entry: emit the entries for its single (mapped) bytes where they exist.
    for (const char byte : word.substr(sym.begin, sym.len)) {
      const TokenId id = find_token(std::string_view(&byte, 1));
      if (id >= 0) out.push_back(id);
    }
  }
}

std::string BpeTokenizer::normal_piece(TokenId id) const {
  const std::string& text = tokens_[static_cast<size_t>(id)];
  const ByteMap& map = byte_map();
  std::vector<char32_t> cps;
  decode_utf8(text, cps, nullptr);
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : cps) {
    if (cp < 512 && map.cp_to_byte[cp] >= 0) {
      out.push_back(static_cast<char>(map.cp_to_byte[cp]));
    } else {
      // Outside GPT-2's byte alphabet (only malformed vocabularies have such entries): keep the
      // character as UTF-8 rather than inventing bytes.
      append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const gguf::File& file) { return std::make_unique<BpeTokenizer>(file); }

}  // namespace lkv::detail
