#include "eval/mtbench.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "eval/prompt.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

using nlohmann::json;

EvalSample parse_question(const std::string& line) {
  json object;
  try {
    object = json::parse(line);
  } catch (const json::parse_error& e) {
    fail("invalid JSON: {}", e.what());
  }
  if (!object.is_object()) fail("expected a JSON object, got {}", object.type_name());
  auto id = object.find("question_id");
  if (id == object.end()) fail("missing field \"question_id\"");
  if (!id->is_number_integer()) fail("field \"question_id\" must be an integer, not {}", id->type_name());
  auto category = object.find("category");
  if (category == object.end()) fail("missing field \"category\"");
  if (!category->is_string()) fail("field \"category\" must be a string, not {}", category->type_name());
  auto turns = object.find("turns");
  if (turns == object.end()) fail("missing field \"turns\"");
  if (!turns->is_array() || turns->empty()) fail("field \"turns\" must be a non-empty array of strings");

  EvalSample sample;
  sample.task = "mt_bench";
  sample.id = fmt::format("mt_bench-{}-{}", id->get<int64_t>(), category->get<std::string>());
  sample.metric = "full_cache_agreement";
  for (size_t i = 0; i < turns->size(); ++i) {
    const json& turn = (*turns)[i];
    if (!turn.is_string() || turn.get<std::string>().empty()) fail("field \"turns\" item {} must be a non-empty string", i);
    sample.turns.push_back(turn.get<std::string>());
  }
  return sample;
}

}  // namespace

std::vector<EvalSample> load_mtbench(const std::string& path, BadLineAction on_bad_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("MT-Bench questions '{}' not found or unreadable; run scripts/fetch_mtbench.sh", path);
  std::vector<EvalSample> samples;
  std::set<std::string> ids;
  std::string line;
  int line_number = 0, skipped = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      EvalSample sample = parse_question(line);
      if (!ids.insert(sample.id).second) fail("duplicate question {}", sample.id);
      samples.push_back(std::move(sample));
    } catch (const Error& e) {
      if (on_bad_line == BadLineAction::Stop) {
        fail("{}:{}: {} (use --on-bad-line skip to skip bad lines)", path, line_number, e.what());
      }
      ++skipped;
      spdlog::warn("{}:{}: skipped: {}", path, line_number, e.what());
    }
  }
  if (skipped > 0) spdlog::warn("{}: skipped {} bad line(s); {} questions loaded", path, skipped, samples.size());
  if (samples.empty()) fail("MT-Bench file '{}' has no valid questions", path);
  return samples;
}

std::vector<std::vector<TokenId>> mtbench_turn_tokens(const EvalSample& sample, const ChatTemplate& chat,
                                                      const Tokenizer& tokenizer) {
  if (sample.turns.empty()) fail("sample {} has no turns", sample.id);
  std::vector<std::vector<TokenId>> out;
  std::vector<ChatMessage> messages = {{"user", sample.turns[0]}};
  out.push_back(tokenizer.encode(render_chat(chat, messages, true), false, true));
  for (size_t i = 1; i < sample.turns.size(); ++i) {
    // Only the text after the previous answer is needed, and it does not depend on that answer.
    std::vector<ChatMessage> rendered = messages;
    rendered.push_back({"assistant", kChatSplitMark});
    rendered.push_back({"user", sample.turns[i]});
    const auto [before, after] = split_at_chat_mark(render_chat(chat, rendered, true));
    (void)before;
    out.push_back(tokenizer.encode(after, false, true));
    messages.push_back({"assistant", "answer"});
    messages.push_back({"user", sample.turns[i]});
  }
  return out;
}

}  // namespace lkv::eval
