// Token-for-token agreement with llama.cpp on the real models (tests/golden/tokenizer_*.json,
// written by scripts/golden/make_tokenizer_golden.py). Skipped when models/ is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "gguf/reader.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv {
namespace {

using nlohmann::json;

struct Model {
  std::unique_ptr<gguf::File> file;
  std::unique_ptr<Tokenizer> tokenizer;
  json golden;
};

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open " + path);
  return json::parse(in);
}

// Loads each model once per test binary; returns nullptr when the file is absent.
const Model* load(const std::string& name, const std::string& file) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  const std::string path = std::string(LKV_SOURCE_DIR) + "/models/" + file;
  std::unique_ptr<Model> m;
  if (std::filesystem::exists(path)) {
    m = std::make_unique<Model>();
    m->file = gguf::File::open(path);
    m->tokenizer = Tokenizer::from_gguf(*m->file);
    m->golden = read_json(std::string(LKV_SOURCE_DIR) + "/tests/golden/tokenizer_" + name + ".json");
  }
  return (cache[name] = std::move(m)).get();
}

const Model* gemma() { return load("gemma3", "gemma-3-270m-q4_k_m.gguf"); }
const Model* smollm() { return load("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"); }

#define REQUIRE_MODEL(m) \
  if ((m) == nullptr) GTEST_SKIP() << "model file absent from models/; run scripts/fetch_models.sh"

// Golden text fields hold UTF-8 text, or hex when the bytes are not valid UTF-8.
std::string golden_bytes(const json& field) {
  if (field.contains("text")) return field["text"].get<std::string>();
  const std::string hex = field["hex"].get<std::string>();
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string shown(const std::string& s) { return json(s).dump(-1, ' ', true, json::error_handler_t::replace).substr(0, 120); }

void check_ids(const Model& m) {
  struct Variant {
    const char* key;
    bool add_special;
    bool parse_special;
  };
  const Variant variants[] = {{"ids_add_special", true, false}, {"ids_plain", false, false}, {"ids_parse_special", false, true}};
  const auto& cases = m.golden["cases"];
  size_t strings_differing = 0;
  std::vector<std::string> report;
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    bool differs = false;
    for (const Variant& v : variants) {
      const auto expected = c[v.key].get<std::vector<TokenId>>();
      const auto actual = m.tokenizer->encode(text, v.add_special, v.parse_special);
      if (actual != expected) {
        differs = true;
        if (report.size() < 12) {
          report.push_back(fmt::format("{} {}:\n  llama.cpp {}\n  ours      {}", shown(text), v.key, expected, actual));
        }
      }
    }
    strings_differing += differs;
  }
  EXPECT_EQ(strings_differing, 0u) << strings_differing << " of " << cases.size()
                                   << " strings tokenize differently from llama.cpp; first differences:\n"
                                   << fmt::format("{}", fmt::join(report, "\n"));
  std::printf("[ golden   ] %s: %zu/%zu strings match llama.cpp in all three modes\n",
              m.golden["model"].get<std::string>().c_str(), cases.size() - strings_differing, cases.size());
}

void check_decode(const Model& m) {
  size_t decode_diffs = 0, roundtrip_fails = 0, roundtrips = 0;
  std::vector<std::string> report;
  for (const auto& c : m.golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const std::string expected = golden_bytes(c["decoded"]);
    const std::string actual = m.tokenizer->decode(c["ids_plain"].get<std::vector<TokenId>>());
    if (actual != expected) {
      ++decode_diffs;
      if (report.size() < 8) report.push_back(fmt::format("decode {}: {} vs {}", shown(text), shown(expected), shown(actual)));
    }
    if (c["roundtrip"].get<bool>()) {
      ++roundtrips;
      if (m.tokenizer->decode(m.tokenizer->encode(text, false, false)) != text) {
        ++roundtrip_fails;
        if (report.size() < 8) report.push_back(fmt::format("round trip {}", shown(text)));
      }
    }
  }
  EXPECT_EQ(decode_diffs, 0u) << fmt::format("{}", fmt::join(report, "\n"));
  EXPECT_EQ(roundtrip_fails, 0u) << roundtrip_fails << " of " << roundtrips << " strings that round-trip in llama.cpp do not here\n"
                                 << fmt::format("{}", fmt::join(report, "\n"));
}

void check_pieces(const Model& m) {
  size_t diffs = 0;
  std::vector<std::string> report;
  for (const auto& p : m.golden["pieces"]) {
    const auto id = p["id"].get<TokenId>();
    for (const bool special : {false, true}) {
      const std::string expected = golden_bytes(p[special ? "special" : "plain"]);
      const std::string actual = m.tokenizer->token_to_piece(id, special);
      if (actual != expected) {
        ++diffs;
        if (report.size() < 10) report.push_back(fmt::format("id {} special={}: {} vs {}", id, special, shown(expected), shown(actual)));
      }
    }
  }
  EXPECT_EQ(diffs, 0u) << fmt::format("{}", fmt::join(report, "\n"));
}

void check_specials(const Model& m) {
  const Tokenizer& t = *m.tokenizer;
  EXPECT_EQ(t.vocab_size(), m.golden["vocab_size"].get<int32_t>());
  EXPECT_EQ(t.bos(), m.golden["bos"].get<TokenId>());
  EXPECT_EQ(t.eos(), m.golden["eos"].get<TokenId>());
  EXPECT_EQ(t.add_bos(), m.golden["add_bos"].get<bool>());
  EXPECT_EQ(t.add_eos(), m.golden["add_eos"].get<bool>());
  EXPECT_EQ(t.eog_ids(), m.golden["eog"].get<std::vector<TokenId>>());
  for (const TokenId id : t.eog_ids()) EXPECT_TRUE(t.is_eog(id));
  EXPECT_FALSE(t.is_eog(t.bos()));
}

TEST(TokenizerGolden, Gemma3Ids) { REQUIRE_MODEL(gemma()); check_ids(*gemma()); }
TEST(TokenizerGolden, SmolLM2Ids) { REQUIRE_MODEL(smollm()); check_ids(*smollm()); }
TEST(TokenizerGolden, Gemma3Decode) { REQUIRE_MODEL(gemma()); check_decode(*gemma()); }
TEST(TokenizerGolden, SmolLM2Decode) { REQUIRE_MODEL(smollm()); check_decode(*smollm()); }
TEST(TokenizerGolden, Gemma3Pieces) { REQUIRE_MODEL(gemma()); check_pieces(*gemma()); }
TEST(TokenizerGolden, SmolLM2Pieces) { REQUIRE_MODEL(smollm()); check_pieces(*smollm()); }
TEST(TokenizerGolden, Gemma3SpecialIds) { REQUIRE_MODEL(gemma()); check_specials(*gemma()); }
TEST(TokenizerGolden, SmolLM2SpecialIds) { REQUIRE_MODEL(smollm()); check_specials(*smollm()); }

TEST(TokenizerGolden, Gemma3KnownIds) {
  REQUIRE_MODEL(gemma());
  const Tokenizer& t = *gemma()->tokenizer;
  EXPECT_EQ(t.find_token("<start_of_turn>"), 105);
  EXPECT_EQ(t.find_token("<end_of_turn>"), 106);
  EXPECT_EQ(t.encode("<start_of_turn>", false, true), std::vector<TokenId>{105});
  EXPECT_EQ(t.encode("", true, false), std::vector<TokenId>{2});
  EXPECT_TRUE(t.encode("", false, false).empty());
  EXPECT_EQ(t.find_token("no such token text"), -1);
}

TEST(TokenizerGolden, InvalidUtf8IsRejectedWithOffset) {
  const Model* m = smollm() ? smollm() : gemma();
  REQUIRE_MODEL(m);
  const std::pair<std::string, size_t> inputs[] = {
      {"abc\xff", 3}, {"\x80", 0}, {"ok \xC3", 3}, {"\xE2\x82", 0}, {"a\xC0\xAF", 1},
      {"\xED\xA0\x80", 0}, {"\xF4\x90\x80\x80", 0}, {"caf\xC3\xA9 \xF0\x9F\x98", 6},
  };
  for (const auto& [text, offset] : inputs) {
    for (const Model* model : {gemma(), smollm()}) {
      if (!model) continue;
      try {
        model->tokenizer->encode(text, true, true);
        ADD_FAILURE() << "no error for " << shown(text);
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fmt::format("byte offset {}", offset)), std::string::npos) << e.what();
      }
    }
  }
}

TEST(TokenizerGolden, TokenIdsOutOfRangeThrow) {
  const Model* m = smollm() ? smollm() : gemma();
  REQUIRE_MODEL(m);
  EXPECT_THROW(m->tokenizer->token_to_piece(-1), Error);
  EXPECT_THROW(m->tokenizer->token_to_piece(m->tokenizer->vocab_size()), Error);
  EXPECT_THROW(m->tokenizer->decode({0, 1 << 30}), Error);
}

// Encode speed on a long prompt (32k tokens or more): printed, and loosely bounded so a quadratic
// slip in merging fails the test instead of only slowing it down. The prompt joins the golden
// strings of ordinary length (prose, code, several scripts), leaving out the long runs of one
// character.
void check_speed(const Model& m) {
  std::string text;
  const auto& cases = m.golden["cases"];
  while (text.size() < 150000) {
    for (const auto& c : cases) {
      const std::string s = c["text"].get<std::string>();
      if (c["roundtrip"].get<bool>() && s.size() <= 200) text += s + "\n";
    }
  }
  const Timer timer;
  const auto ids = m.tokenizer->encode(text, true, false);
  const double ms = timer.elapsed_ms();
  std::printf("[ speed    ] %s: %zu bytes -> %zu tokens in %.1f ms (%.0f tokens/s)\n",
              m.golden["model"].get<std::string>().c_str(), text.size(), ids.size(), ms, ids.size() / (ms / 1000.0));
  EXPECT_GT(ids.size(), 20000u);
  EXPECT_LT(ms, 20000.0);
  EXPECT_TRUE(m.tokenizer->decode(ids) == text) << "long prompt does not round-trip";
}

// Random bytes and random code points: invalid UTF-8 must raise lkv::Error, valid text must encode
// and decode without crashing (the sanitizer build checks memory safety on the way).
void check_random_inputs(const Model& m) {
  std::mt19937 rng(11);
  const char32_t ranges[][2] = {{0x00, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}};
  size_t rejected = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes;
    const int len = static_cast<int>(rng() % 64);
    for (int i = 0; i < len; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    try {
      const auto ids = m.tokenizer->encode(bytes, true, true);
      (void)m.tokenizer->decode(ids, true);
    } catch (const Error&) {
      ++rejected;
    }

    std::string text;
    for (int i = 0; i < len; ++i) {
      const auto& r = ranges[rng() % 5];
      append_utf8(text, r[0] + static_cast<char32_t>(rng() % (r[1] - r[0] + 1)));
    }
    const auto ids = m.tokenizer->encode(text, false, true);
    EXPECT_EQ(ids.empty(), text.empty());
    (void)m.tokenizer->decode(ids);
  }
  EXPECT_GT(rejected, 300u);  // random bytes are almost never valid UTF-8
}

TEST(TokenizerGolden, Gemma3RandomInputs) { REQUIRE_MODEL(gemma()); check_random_inputs(*gemma()); }
TEST(TokenizerGolden, SmolLM2RandomInputs) { REQUIRE_MODEL(smollm()); check_random_inputs(*smollm()); }

TEST(TokenizerGolden, Gemma3LongPromptSpeed) { REQUIRE_MODEL(gemma()); check_speed(*gemma()); }
TEST(TokenizerGolden, SmolLM2LongPromptSpeed) { REQUIRE_MODEL(smollm()); check_speed(*smollm()); }

// ------------------------------------------------------------------------------------------------
// Chat templates against tests/golden/chat_templates.json.

std::vector<ChatMessage> messages_of(const json& c) {
  std::vector<ChatMessage> out;
  for (const auto& m : c["messages"]) out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  return out;
}

TEST(ChatTemplateGolden, GemmaAndLlama3MatchLlamaCppRenderers) {
  const json golden = read_json(std::string(LKV_SOURCE_DIR) + "/tests/golden/chat_templates.json");
  ASSERT_FALSE(golden["cases"].empty());
  for (const auto& c : golden["cases"]) {
    const auto msgs = messages_of(c);
    const bool gen = c["add_generation_prompt"].get<bool>();
    const std::string name = c["name"].get<std::string>();
    EXPECT_EQ(render_chat(ChatFormat::Gemma, msgs, gen), c["gemma"].get<std::string>()) << name << " gen=" << gen;
    EXPECT_EQ(render_chat(ChatFormat::Llama3, msgs, gen), c["llama3"].get<std::string>()) << name << " gen=" << gen;
  }
}

TEST(ChatTemplateGolden, SmolLM2MatchesItsJinjaTemplate) {
  REQUIRE_MODEL(smollm());
  const ChatTemplate tmpl = detect_chat_template(*smollm()->file);
  EXPECT_EQ(tmpl.format, ChatFormat::ChatML);
  EXPECT_EQ(tmpl.default_system, "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  EXPECT_EQ(detect_chat_format(*smollm()->file), ChatFormat::ChatML);
  const json golden = read_json(std::string(LKV_SOURCE_DIR) + "/tests/golden/chat_templates.json");
  for (const auto& c : golden["cases"]) {
    const bool gen = c["add_generation_prompt"].get<bool>();
    EXPECT_EQ(render_chat(tmpl, messages_of(c), gen), c["smollm2"].get<std::string>())
        << c["name"].get<std::string>() << " gen=" << gen;
  }
}

TEST(ChatTemplateGolden, GemmaBaseFileFallsBackToGemmaFormat) {
  REQUIRE_MODEL(gemma());
  ASSERT_FALSE(gemma()->file->has("tokenizer.chat_template"));
  EXPECT_EQ(detect_chat_format(*gemma()->file), ChatFormat::Gemma);
  // The rendered prompt starts with BOS text; encoding it must not add a second BOS.
  const std::string prompt = render_chat(ChatFormat::Gemma, {{"user", "Hi"}}, true);
  const auto ids = gemma()->tokenizer->encode(prompt, false, true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 105);
  EXPECT_NE(ids[2], 2);
}

}  // namespace
}  // namespace lkv
