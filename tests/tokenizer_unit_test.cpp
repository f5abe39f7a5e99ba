// Tokenizer behaviour on tiny synthetic vocabularies built with our GGUF writer (no model files
// needed), the pre-tokenizers against a regex-engine reference, and UTF-8 validation.
#include <gtest/gtest.h>

#include <fstream>
#include <list>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_tokenizer.h"
#include "util/error.h"

namespace lkv {
namespace {

using Ids = std::vector<TokenId>;

// A vocabulary described in the test, turned into an in-memory GGUF file.
struct VocabSpec {
  std::string model = "llama";
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
  std::function<void(gguf::Writer&)> extra;

  // Adds a token and returns its id.
  TokenId add(const std::string& text, int32_t type = 1, float score = 0.0f) {
    tokens.push_back(text);
    types.push_back(type);
    scores.push_back(score);
    return static_cast<TokenId>(tokens.size() - 1);
  }
};

struct Built {
  std::vector<uint8_t> bytes;
  std::unique_ptr<gguf::File> file;
  std::unique_ptr<Tokenizer> tokenizer;
};

std::unique_ptr<Built> build(const VocabSpec& spec) {
  gguf::Writer w;
  w.add_string("general.architecture", "test");
  w.add_string("tokenizer.ggml.model", spec.model);
  w.add_string_array("tokenizer.ggml.tokens", spec.tokens);
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(spec.types));
  if (spec.model == "llama") w.add_array("tokenizer.ggml.scores", std::span<const float>(spec.scores));
  if (!spec.merges.empty()) w.add_string_array("tokenizer.ggml.merges", spec.merges);
  if (spec.extra) spec.extra(w);
  auto b = std::make_unique<Built>();
  b->bytes = w.to_bytes();
  b->file = gguf::File::from_memory(b->bytes.data(), b->bytes.size(), "synthetic.gguf");
  b->tokenizer = Tokenizer::from_gguf(*b->file);
  return b;
}

// SPM vocabulary: <unk>, <s>, </s>, 256 byte tokens, then what the test adds.
VocabSpec spm_base() {
  VocabSpec v;
  v.add("<unk>", 2);
  v.add("<s>", 3);
  v.add("</s>", 3);
  for (int b = 0; b < 256; ++b) v.add(fmt::format("<0x{:02X}>", b), 6);
  return v;
}

// ------------------------------------------------------------------------------------------------
// SentencePiece-style merging

TEST(TokenizerSpm, HigherScoreMergesFirst) {
  for (const bool bc_first : {true, false}) {
    VocabSpec v = spm_base();
    const TokenId a = v.add("a", 1, -1), b = v.add("b", 1, -1), c = v.add("c", 1, -1);
    const TokenId ab = v.add("ab", 1, bc_first ? -5 : -2);
    const TokenId bc = v.add("bc", 1, bc_first ? -2 : -5);
    (void)b;
    v.extra = [](gguf::Writer& w) { w.add_bool("tokenizer.ggml.add_space_prefix", false); };
    auto t = build(v);
    EXPECT_EQ(t->tokenizer->encode("abc", false, false), bc_first ? (Ids{a, bc}) : (Ids{ab, c}));
  }
}

TEST(TokenizerSpm, EqualScoresMergeLeftmostPairFirst) {
  VocabSpec v = spm_base();
  const TokenId a = v.add("a", 1, -1);
  const TokenId aa = v.add("aa", 1, -3);
  v.extra = [](gguf::Writer& w) { w.add_bool("tokenizer.ggml.add_space_prefix", false); };
  auto t = build(v);
  EXPECT_EQ(t->tokenizer->encode("aaa", false, false), (Ids{aa, a}));
}

TEST(TokenizerSpm, SpacesBecomeMarksAndUnknownBytesFallBack) {
  VocabSpec v = spm_base();
  const TokenId sp_a = v.add("\xE2\x96\x81" "a", 1, -1);
  const TokenId a = v.add("a", 1, -2);
  v.add("\xE2\x96\x81", 1, -3);
  v.extra = [](gguf::Writer& w) { w.add_bool("tokenizer.ggml.add_space_prefix", false); };
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  // "é" is not in the vocabulary: its two UTF-8 bytes become <0xC3> <0xA9> (ids 3 + byte).
  EXPECT_EQ(tok.encode("a a\xC3\xA9", false, false), (Ids{a, sp_a, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok.decode({a, sp_a, 3 + 0xC3, 3 + 0xA9}), "a a\xC3\xA9");
  EXPECT_EQ(tok.token_to_piece(sp_a), " a");
}

TEST(TokenizerSpm, SpacePrefixDefaultAndAfterSpecial) {
  VocabSpec v = spm_base();
  const TokenId sp_a = v.add("\xE2\x96\x81" "a", 1, -1);
  const TokenId ctl = v.add("<ctl>", 3);
  auto t = build(v);  // no add_space_prefix key: SentencePiece's default (true)
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_EQ(tok.encode("a", false, false), (Ids{sp_a}));
  EXPECT_EQ(tok.encode("<ctl>a", false, true), (Ids{ctl, sp_a}));
  // BOS is added by default for SentencePiece vocabularies (ids 1/2 are the defaults).
  EXPECT_EQ(tok.encode("a", true, false), (Ids{1, sp_a}));
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), 2);
}

TEST(TokenizerSpm, AddEosAndEndOfGeneration) {
  VocabSpec v = spm_base();
  const TokenId a = v.add("a", 1, -1);
  const TokenId eot = v.add("<end_of_turn>", 4);  // stored as user-defined: forced to control
  v.extra = [](gguf::Writer& w) {
    w.add_bool("tokenizer.ggml.add_space_prefix", false);
    w.add_bool("tokenizer.ggml.add_eos_token", true);
  };
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_EQ(tok.encode("a", true, false), (Ids{1, a, 2}));
  EXPECT_EQ(tok.eog_ids(), (Ids{2, eot}));
  EXPECT_TRUE(tok.is_eog(eot));
  // Forced to control: plain text without parse_special, hidden when decoding.
  EXPECT_NE(tok.encode("<end_of_turn>", false, false), (Ids{eot}));
  EXPECT_EQ(tok.encode("<end_of_turn>", false, true), (Ids{eot}));
  EXPECT_EQ(tok.token_to_piece(eot), "");
  EXPECT_EQ(tok.token_to_piece(eot, true), "<end_of_turn>");
}

// ------------------------------------------------------------------------------------------------
// Special-token partitioning

TEST(TokenizerSpecial, UserDefinedAlwaysControlOnlyWhenParsing) {
  VocabSpec v = spm_base();
  const TokenId ud = v.add("<ud>", 4);
  const TokenId ctl = v.add("<ctl>", 3);
  const TokenId x = v.add("x", 1, -1);
  v.extra = [](gguf::Writer& w) { w.add_bool("tokenizer.ggml.add_space_prefix", false); };
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_EQ(tok.encode("x<ud>x", false, false), (Ids{x, ud, x}));
  EXPECT_EQ(tok.encode("x<ctl>x", false, true), (Ids{x, ctl, x}));
  const Ids plain = tok.encode("x<ctl>x", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), ctl), 0);
  EXPECT_EQ(tok.decode(plain), "x<ctl>x");
  EXPECT_EQ(tok.token_to_piece(ud), "<ud>");
}

TEST(TokenizerSpecial, LongerTokensClaimTextFirst) {
  // llama.cpp splits on the longest special text first, wherever it is: "bcd" wins over the
  // earlier but shorter "ab" in "abcd".
  VocabSpec v = spm_base();
  const TokenId ab = v.add("ab", 4);
  const TokenId bcd = v.add("bcd", 4);
  const TokenId a = v.add("a", 1, -1);
  v.extra = [](gguf::Writer& w) { w.add_bool("tokenizer.ggml.add_space_prefix", false); };
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_EQ(tok.encode("abcd", false, false), (Ids{a, bcd}));
  EXPECT_EQ(tok.encode("abab", false, false), (Ids{ab, ab}));
  // Runs: three-character matches are taken left to right, the rest falls to shorter ones.
  EXPECT_EQ(tok.encode("bcdbcdab", false, false), (Ids{bcd, bcd, ab}));
}

// The partitioning as llama.cpp describes it, written naively: for each special token in priority
// order, split every remaining plain-text fragment at each occurrence, left to right.
std::vector<detail::Fragment> naive_partition(std::string_view text, const std::vector<std::string>& tokens,
                                              const std::vector<int32_t>& types, bool parse_special) {
  std::vector<TokenId> order;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const bool special = types[id] == detail::kControl || types[id] == detail::kUnknown || types[id] == detail::kUserDefined;
    const bool enabled = parse_special || types[id] == detail::kUserDefined;
    if (special && enabled && !tokens[id].empty()) order.push_back(static_cast<TokenId>(id));
  }
  std::stable_sort(order.begin(), order.end(), [&](TokenId a, TokenId b) { return tokens[a].size() > tokens[b].size(); });
  std::list<detail::Fragment> frags;
  if (!text.empty()) frags.push_back({-1, 0, text.size()});
  for (const TokenId id : order) {
    const std::string& t = tokens[static_cast<size_t>(id)];
    for (auto it = frags.begin(); it != frags.end(); ++it) {
      if (it->token >= 0) continue;
      const size_t match = text.substr(0, it->end).find(t, it->begin);
      if (match == std::string_view::npos) continue;
      const detail::Fragment whole = *it;
      it = frags.erase(it);
      if (match > whole.begin) frags.insert(it, {-1, whole.begin, match});
      frags.insert(it, {id, match, match + t.size()});
      it = frags.insert(it, {-1, match + t.size(), whole.end});  // searched again next iteration
      if (it->begin == it->end) it = frags.erase(it);
      --it;
    }
  }
  return {frags.begin(), frags.end()};
}

TEST(TokenizerSpecial, PartitionMatchesNaiveReference) {
  // Overlapping special texts over a two-letter alphabet make every ordering rule matter.
  const std::vector<std::string> tokens = {"a", "ab", "ba", "aab", "bab", "abab", "b", "bb", "aaaa", "x"};
  const std::vector<int32_t> types = {1, 4, 3, 4, 3, 4, 3, 4, 3, 1};
  detail::SpecialTokenMatcher matcher;
  matcher.build(tokens, types);
  std::mt19937 rng(7);
  size_t checked = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) text.push_back("abx"[rng() % 3]);
    for (const bool parse : {false, true}) {
      std::vector<detail::Fragment> ours;
      matcher.partition(text, parse, ours);
      const auto expected = naive_partition(text, tokens, types, parse);
      ASSERT_EQ(ours.size(), expected.size()) << text << " parse=" << parse;
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_EQ(ours[i].token, expected[i].token) << text << " fragment " << i;
        ASSERT_EQ(ours[i].begin, expected[i].begin) << text << " fragment " << i;
        ASSERT_EQ(ours[i].end, expected[i].end) << text << " fragment " << i;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6000u);
}

// ------------------------------------------------------------------------------------------------
// Byte-level BPE

// GPT-2's byte alphabet as vocabulary entries 0..255 (in byte order), so every byte encodes.
VocabSpec bpe_base(const std::string& pre) {
  VocabSpec v;
  v.model = "gpt2";
  char32_t next = 256;  // where GPT-2 puts the bytes that are not printable Latin-1
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    std::string s;
    append_utf8(s, printable ? static_cast<char32_t>(b) : next++);
    v.add(s);
  }
  v.extra = [pre](gguf::Writer& w) { w.add_string("tokenizer.ggml.pre", pre); };
  return v;
}

TEST(TokenizerBpe, LowestRankMergesFirst) {
  VocabSpec v = bpe_base("gpt-2");
  const TokenId bc = v.add("bc"), abc = v.add("abc"), ab = v.add("ab");
  v.merges = {"b c", "a bc", "a b"};
  auto t = build(v);
  EXPECT_EQ(t->tokenizer->encode("abc", false, false), (Ids{abc}));
  EXPECT_EQ(t->tokenizer->encode("ab", false, false), (Ids{ab}));
  EXPECT_EQ(t->tokenizer->encode("abab", false, false), (Ids{ab, ab}));
  (void)bc;
}

TEST(TokenizerBpe, SpaceMapsToGAndDecodesBack) {
  VocabSpec v = bpe_base("gpt-2");
  const TokenId g_a = v.add("\xC4\xA0" "a");  // "Ġa"
  v.merges = {"\xC4\xA0 a"};
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_EQ(tok.encode(" a", false, false), (Ids{g_a}));
  EXPECT_EQ(tok.token_to_piece(g_a), " a");
  // Multi-byte text round-trips through the byte alphabet.
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x98\x80\n\t";
  EXPECT_EQ(tok.decode(tok.encode(text, false, false)), text);
  EXPECT_FALSE(tok.add_bos());
}

TEST(TokenizerBpe, MergeChainsThroughTextsOutsideTheVocabulary) {
  VocabSpec v = bpe_base("gpt-2");
  const TokenId xyz = v.add("xyz");
  v.merges = {"x y", "xy z"};  // "xy" itself is no vocabulary entry
  auto t = build(v);
  EXPECT_EQ(t->tokenizer->encode("xyz", false, false), (Ids{xyz}));
  // A final symbol outside the vocabulary falls back to its single characters.
  EXPECT_EQ(t->tokenizer->encode("xy", false, false), (Ids{'x', 'y'}));
}

TEST(TokenizerBpe, Llama3IgnoreMergesAndBos) {
  VocabSpec v = bpe_base("llama-bpe");
  const TokenId hello = v.add("hello");
  const TokenId bos = v.add("<|begin_of_text|>", 3);
  v.extra = [bos](gguf::Writer& w) {
    w.add_string("tokenizer.ggml.pre", "llama-bpe");
    w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  };
  v.merges = {"x y"};  // nothing builds "hello": it only forms because the whole word is an entry
  auto t = build(v);
  EXPECT_EQ(t->tokenizer->encode("hello", true, false), (Ids{bos, hello}));
}

TEST(TokenizerBpe, ConfigurationErrorsNameTheProblem) {
  {
    VocabSpec v = bpe_base("unknown-pre");
    v.merges = {"a b"};
    try {
      build(v);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("unknown-pre"), std::string::npos) << e.what();
    }
  }
  {
    VocabSpec v = bpe_base("gpt-2");  // no merges key
    EXPECT_THROW(build(v), Error);
  }
  {
    VocabSpec v = spm_base();
    v.model = "bert";
    try {
      build(v);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bert"), std::string::npos) << e.what();
    }
  }
  {
    VocabSpec v = spm_base();
    v.add("dup");
    v.add("dup");
    try {
      build(v);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("same text"), std::string::npos) << e.what();
    }
  }
  {
    VocabSpec v = spm_base();
    v.types.pop_back();  // one type short
    try {
      build(v);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("token_type"), std::string::npos) << e.what();
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Pre-tokenizers against the split regexes run by a regex engine (tests/golden/tokenizer_pretokenizer.json).

TEST(TokenizerPreTokenizer, MatchesRegexEngineOnGoldenStrings) {
  std::ifstream in(std::string(LKV_SOURCE_DIR) + "/tests/golden/tokenizer_pretokenizer.json");
  ASSERT_TRUE(in) << "tests/golden/tokenizer_pretokenizer.json missing";
  const auto golden = nlohmann::json::parse(in);
  for (const char* name : {"gpt-2", "smollm", "llama-bpe", "qwen2", "default"}) {
    const PreTokenizer kind = pre_tokenizer_from_name(name);
    size_t mismatches = 0, total = 0;
    std::vector<std::string> report;
    for (const auto& c : golden["cases"]) {
      const std::string text = c["text"].get<std::string>();
      std::vector<char32_t> cps;
      decode_utf8(text, cps, nullptr);
      std::vector<uint32_t> ends;
      pre_tokenize(kind, cps.data(), cps.size(), ends);
      const auto expected = c["ends"][name].get<std::vector<uint32_t>>();
      ++total;
      if (ends != expected) {
        ++mismatches;
        if (report.size() < 6) report.push_back(fmt::format("{}: {} vs {}", nlohmann::json(text).dump().substr(0, 80), expected, ends));
      }
    }
    EXPECT_EQ(mismatches, 0u) << name << ": " << mismatches << " of " << total << " strings split differently\n"
                              << fmt::format("{}", fmt::join(report, "\n"));
  }
  EXPECT_THROW(pre_tokenizer_from_name("deepseek-llm"), Error);
}

// ------------------------------------------------------------------------------------------------
// UTF-8

TEST(TokenizerUtf8, FindsFirstMalformedSequence) {
  const std::pair<std::string, size_t> cases[] = {
      {"", std::string_view::npos},
      {std::string("a\0b", 3), std::string_view::npos},
      {"caf\xC3\xA9 \xF0\x9F\x98\x80", std::string_view::npos},
      {"\xF4\x8F\xBF\xBF", std::string_view::npos},  // U+10FFFF
      {"\x80", 0},
      {"ab\xC3", 2},
      {"\xC1\xBF", 0},          // overlong
      {"\xE0\x80\x80", 0},      // overlong
      {"\xED\xBF\xBF", 0},      // surrogate
      {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
      {"\xF8\x88\x80\x80\x80", 0},
      {"ok\xE2\x82x", 2},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(find_invalid_utf8(text), expected) << nlohmann::json::binary({text.begin(), text.end()}).dump();
}

TEST(TokenizerUtf8, EncodeRejectsInvalidInputAndAcceptsEmpty) {
  VocabSpec v = spm_base();
  v.add("a", 1, -1);
  auto t = build(v);
  const Tokenizer& tok = *t->tokenizer;
  EXPECT_TRUE(tok.encode("", false, true).empty());
  EXPECT_EQ(tok.encode("", true, true), (Ids{1}));
  try {
    tok.encode("abc\xC3(", true, true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lkv
