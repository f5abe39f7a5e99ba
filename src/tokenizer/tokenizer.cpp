// Shared tokenizer machinery: vocabulary loading, llama.cpp's special-token fix-ups, special-token
// partitioning, the exact-text index and the encode/decode skeleton.
#include "tokenizer/tokenizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "gguf/reader.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_tokenizer.h"
#include "util/error.h"

namespace lkv {

namespace detail {
std::unique_ptr<Tokenizer> make_spm_tokenizer(const gguf::File& file);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(const gguf::File& file);
}  // namespace detail

namespace {

// FNV-1a: token texts are short (a few bytes on average), where it is as fast as anything.
uint64_t hash_text(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  const auto model = file.get_string_opt("tokenizer.ggml.model");
  if (!model) {
    fail("{}: no tokenizer.ggml.model key; the file has no vocabulary (use a GGUF converted with its tokenizer)",
         file.path());
  }
  if (*model == "llama") return detail::make_spm_tokenizer(file);
  if (*model == "gpt2") return detail::make_bpe_tokenizer(file);
  fail("{}: unsupported tokenizer.ggml.model '{}': supported are 'llama' (SentencePiece-style) and 'gpt2' "
       "(byte-level BPE)",
       file.path(), *model);
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool render_special) const {
  std::string out;
  for (const TokenId id : ids) out += token_to_piece(id, render_special);
  return out;
}

const std::string& Tokenizer::token_text(TokenId id) const {
  if (id < 0 || id >= vocab_size()) {
    fail("token id {} is out of range for a vocabulary of {} tokens", id, vocab_size());
  }
  return tokens_[static_cast<size_t>(id)];
}

bool Tokenizer::is_eog(TokenId id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

void Tokenizer::build_token_index() {
  size_t capacity = 16;
  while (capacity < tokens_.size() * 2) capacity *= 2;
  index_slots_.assign(capacity, -1);
  index_mask_ = capacity - 1;
  for (size_t id = 0; id < tokens_.size(); ++id) {
    uint64_t slot = hash_text(tokens_[id]) & index_mask_;
    while (index_slots_[slot] >= 0) {
      const TokenId other = index_slots_[slot];
      if (tokens_[static_cast<size_t>(other)] == tokens_[id]) {
        fail("vocabulary entries {} and {} have the same text '{}'; the GGUF's tokenizer.ggml.tokens is "
             "inconsistent (reconvert the model)",
             other, id, tokens_[id]);
      }
      slot = (slot + 1) & index_mask_;
    }
    index_slots_[slot] = static_cast<TokenId>(id);
  }
}

TokenId Tokenizer::find_token(std::string_view text) const {
  if (index_slots_.empty()) return -1;
  uint64_t slot = hash_text(text) & index_mask_;
  while (true) {
    const TokenId id = index_slots_[slot];
    if (id < 0) return -1;
    if (tokens_[static_cast<size_t>(id)] == text) return id;
    slot = (slot + 1) & index_mask_;
  }
}

namespace detail {

// ---------------------------------------------------------------------------------------------
// Special-token partitioning

int32_t SpecialTokenMatcher::child(int32_t node, uint8_t byte) const {
  const auto& kids = nodes_[static_cast<size_t>(node)].children;
  auto it = std::lower_bound(kids.begin(), kids.end(), byte, [](const auto& e, uint8_t b) { return e.first < b; });
  return (it != kids.end() && it->first == byte) ? it->second : -1;
}

void SpecialTokenMatcher::build(const std::vector<std::string>& tokens, const std::vector<int32_t>& types) {
  nodes_.assign(1, Node{});
  order_.clear();
  rank_.assign(tokens.size(), 0);
  length_.assign(tokens.size(), 0);
  always_.assign(tokens.size(), false);
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);

  for (size_t id = 0; id < tokens.size(); ++id) {
    const int32_t type = types[id];
    if ((type == kControl || type == kUnknown || type == kUserDefined) && !tokens[id].empty()) {
      order_.push_back(static_cast<TokenId>(id));
    }
  }
  std::stable_sort(order_.begin(), order_.end(), [&](TokenId a, TokenId b) {
    return tokens[static_cast<size_t>(a)].size() > tokens[static_cast<size_t>(b)].size();
  });

  for (size_t r = 0; r < order_.size(); ++r) {
    const auto id = static_cast<size_t>(order_[r]);
    const std::string& text = tokens[id];
    rank_[id] = static_cast<uint32_t>(r);
    length_[id] = static_cast<uint32_t>(text.size());
    always_[id] = types[id] == kUserDefined;
    first_byte_[static_cast<uint8_t>(text[0])] = true;
    int32_t node = 0;
    for (const char ch : text) {
      const auto byte = static_cast<uint8_t>(ch);
      int32_t next = child(node, byte);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& kids = nodes_[static_cast<size_t>(node)].children;
        auto it = std::lower_bound(kids.begin(), kids.end(), byte, [](const auto& e, uint8_t b) { return e.first < b; });
        kids.insert(it, {byte, next});
      }
      node = next;
    }
    nodes_[static_cast<size_t>(node)].token = static_cast<TokenId>(id);
  }
}

TokenId SpecialTokenMatcher::longest_match(std::string_view text, size_t pos, size_t max_len, bool parse_special) const {
  TokenId best = -1;
  int32_t node = 0;
  const size_t stop = std::min(text.size(), pos + max_len);
  for (size_t i = pos; i < stop; ++i) {
    node = child(node, static_cast<uint8_t>(text[i]));
    if (node < 0) break;
    const TokenId id = nodes_[static_cast<size_t>(node)].token;
    if (id >= 0 && (parse_special || always_[static_cast<size_t>(id)])) best = id;
  }
  return best;
}

void SpecialTokenMatcher::partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const {
  out.clear();
  if (text.empty()) return;

  // Candidates are visited in llama.cpp's order: by token priority (longest text first), then left
  // to right. Special texts that match at one position differ in length, so the heap keeps only
  // each position's best remaining candidate. A shorter one is looked up when that one fails.
  struct Candidate {
    uint32_t rank;
    uint32_t pos;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Candidate> heap;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) continue;
    const TokenId id = longest_match(text, pos, text.size(), parse_special);
    if (id >= 0) heap.push_back({rank_[static_cast<size_t>(id)], static_cast<uint32_t>(pos)});
  }
  if (heap.empty()) {
    out.push_back({-1, 0, text.size()});
    return;
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>{});

  // A candidate is accepted when its bytes are still plain text: exactly when llama.cpp's search
  // inside the fragments left by earlier matches would find it.
  std::vector<uint8_t> claimed(text.size(), 0);
  std::vector<std::pair<uint32_t, TokenId>> accepted;  // (position, token)
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate c = heap.back();
    heap.pop_back();
    if (claimed[c.pos]) continue;  // every candidate at this position overlaps the claimed byte
    const TokenId id = order_[c.rank];
    const uint32_t len = length_[static_cast<size_t>(id)];
    const auto first = claimed.begin() + c.pos;
    if (std::any_of(first, first + len, [](uint8_t v) { return v != 0; })) {
      const TokenId shorter = longest_match(text, c.pos, len - 1, parse_special);
      if (shorter >= 0) {
        heap.push_back({rank_[static_cast<size_t>(shorter)], c.pos});
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
      }
      continue;
    }
    std::fill(first, first + len, uint8_t{1});
    accepted.push_back({c.pos, id});
  }
  std::sort(accepted.begin(), accepted.end());

  size_t pos = 0;
  for (const auto& [start, id] : accepted) {
    if (pos < start) out.push_back({-1, pos, start});
    pos = start + length_[static_cast<size_t>(id)];
    out.push_back({id, start, pos});
  }
  if (pos < text.size()) out.push_back({-1, pos, text.size()});
}

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

// Token texts that llama.cpp treats as ends of a turn or of generation, whatever their stored type:
// they are forced to CONTROL (hidden in output, matched only when parsing specials) and added to
// the end-of-generation set. The list covers the families we support; "</s>" is in it because
// llama.cpp has it too, which makes Gemma's HTML-strikethrough token "</s>" a control token.
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|endoftext|>",
    "<|end_of_text|>", "<|end|>", "<EOT>", "<eos>", "</s>",
};
// Fill-in-the-middle markers: also forced to CONTROL. Padding, repository and file separators
// end generation as well (an infill model emits them after the middle part).
constexpr std::string_view kFimTexts[] = {
    "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>",
};
constexpr std::string_view kFimEndTexts[] = {
    "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<fim_pad>", "<reponame>",
};

}  // namespace

void VocabTokenizer::load_common(const gguf::File& file, bool spm, bool default_add_bos) {
  const std::string& where = file.path();
  tokens_ = file.get_string_array("tokenizer.ggml.tokens");
  const size_t n = tokens_.size();
  if (n == 0) fail("{}: tokenizer.ggml.tokens is empty", where);
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    fail("{}: tokenizer.ggml.tokens has {} entries, more than a 32-bit token id can address", where, n);
  }

  token_types_.assign(n, kNormal);
  if (file.has("tokenizer.ggml.token_type")) {
    const auto& types = file.get_number_array("tokenizer.ggml.token_type");
    if (types.size() != n) {
      fail("{}: tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}; reconvert the model",
           where, types.size(), n);
    }
    for (size_t i = 0; i < n; ++i) token_types_[i] = static_cast<int32_t>(types[i]);
  }
  scores_.clear();
  if (file.has("tokenizer.ggml.scores")) {
    const auto& scores = file.get_number_array("tokenizer.ggml.scores");
    if (scores.size() != n) {
      fail("{}: tokenizer.ggml.scores has {} entries but tokenizer.ggml.tokens has {}; reconvert the model",
           where, scores.size(), n);
    }
    scores_.assign(scores.begin(), scores.end());
  }

  build_token_index();

  // Special ids: llama.cpp's defaults per algorithm, overridden by the file when in range.
  auto in_range = [&](int64_t id) { return id >= 0 && static_cast<size_t>(id) < n; };
  auto read_id = [&](const char* key, TokenId fallback) -> TokenId {
    const auto value = file.get_u32_opt(key);
    if (!value) return in_range(fallback) ? fallback : -1;
    if (!in_range(*value)) {
      spdlog::warn("{}: {} = {} is outside the vocabulary of {} tokens; using {}", where, key, *value, n, fallback);
      return in_range(fallback) ? fallback : -1;
    }
    return static_cast<TokenId>(*value);
  };
  bos_ = read_id("tokenizer.ggml.bos_token_id", spm ? 1 : 11);
  eos_ = read_id("tokenizer.ggml.eos_token_id", spm ? 2 : 11);
  unk_ = read_id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
  const TokenId eot = read_id("tokenizer.ggml.eot_token_id", -1);
  const TokenId eom = read_id("tokenizer.ggml.eom_token_id", -1);

  add_bos_ = file.get_bool_opt("tokenizer.ggml.add_bos_token").value_or(default_add_bos);
  add_eos_ = file.get_bool_opt("tokenizer.ggml.add_eos_token").value_or(false);
  add_space_prefix_ = file.get_bool_opt("tokenizer.ggml.add_space_prefix").value_or(spm);
  if (add_bos_ && bos_ < 0) fail("{}: tokenizer.ggml.add_bos_token is true but there is no BOS token", where);
  if (add_eos_ && eos_ < 0) fail("{}: tokenizer.ggml.add_eos_token is true but there is no EOS token", where);

  // Type fix-ups and the end-of-generation set, as llama.cpp derives them from token texts.
  eog_.clear();
  auto force_control = [&](std::string_view text) -> TokenId {
    const TokenId id = find_token(text);
    if (id >= 0 && token_types_[static_cast<size_t>(id)] != kControl) {
      spdlog::debug("{}: token {} '{}' is treated as a control token", where, id, text);
      token_types_[static_cast<size_t>(id)] = kControl;
    }
    return id;
  };
  for (const auto text : kEndOfGenerationTexts) {
    if (const TokenId id = force_control(text); id >= 0) eog_.push_back(id);
  }
  for (const auto text : kFimTexts) force_control(text);
  for (const auto text : kFimEndTexts) {
    if (const TokenId id = force_control(text); id >= 0) eog_.push_back(id);
  }
  for (const TokenId id : {eos_, eot, eom}) {
    if (id >= 0) eog_.push_back(id);
  }
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());

  for (int b = 0; b < 256; ++b) {
    const std::string hex = fmt::format("<0x{:02X}>", b);
    TokenId id = find_token(hex);
    if (id < 0) id = find_token(std::string(1, static_cast<char>(b)));
    byte_tokens_[b] = id;
  }

  specials_.build(tokens_, token_types_);
}

// ---------------------------------------------------------------------------------------------
// Encode / decode skeleton

std::vector<TokenId> VocabTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  check_utf8(text);
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_) out.push_back(bos_);

  std::vector<Fragment> fragments;
  specials_.partition(text, parse_special, fragments);
  bool after_special = true;  // the first fragment counts as following a special token
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(text.substr(f.begin, f.end - f.begin), after_special, out);
      after_special = false;
    }
  }

  if (add_special && add_eos_) out.push_back(eos_);
  return out;
}

std::string VocabTokenizer::token_to_piece(TokenId id, bool render_special) const {
  const std::string& text = token_text(id);
  switch (token_types_[static_cast<size_t>(id)]) {
    case kControl:
    case kUnknown:
      return render_special ? text : std::string();
    case kUserDefined:
      return text;
    case kNormal:
      return normal_piece(id);
    case kByte:
      if (text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>') {
        const auto nibble = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          return -1;
        };
        const int hi = nibble(text[3]), lo = nibble(text[4]);
        if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
      }
      return normal_piece(id);
    default:
      // Unused and undefined types produce nothing, as in llama.cpp.
      return std::string();
  }
}

}  // namespace detail
}  // namespace lkv
