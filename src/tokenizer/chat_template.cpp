#include "tokenizer/chat_template.h"

#include <spdlog/spdlog.h>

#include "gguf/reader.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace lkv {
namespace {

// Jinja's `trim` filter is Python's str.strip(): it removes whitespace as str.isspace() defines
// it, which is White_Space plus U+001C..U+001F.
bool is_strip_space(char32_t cp) { return unicode::is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

std::string trim(const std::string& text) {
  std::vector<char32_t> cps;
  std::vector<uint32_t> starts;
  decode_utf8(text, cps, &starts);
  size_t first = 0, last = cps.size();
  while (first < last && is_strip_space(cps[first])) ++first;
  while (last > first && is_strip_space(cps[last - 1])) --last;
  return text.substr(starts[first], starts[last] - starts[first]);
}

std::string render_gemma(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out = "<bos>";
  size_t first = 0;
  std::string prefix;
  if (!messages.empty() && messages[0].role == "system") {
    prefix = messages[0].content + "\n\n";
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool expect_user = (i - first) % 2 == 0;
    if (m.role != (expect_user ? "user" : "assistant")) {
      fail("Gemma chat turns must alternate user/assistant, starting with user after an optional system "
           "message; message {} has role '{}' where '{}' was expected",
           i, m.role, expect_user ? "user" : "assistant");
    }
    out += "<start_of_turn>";
    out += expect_user ? "user" : "model";
    out += "\n";
    if (i == first) out += prefix;
    out += trim(m.content);
    out += "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

std::string render_chatml(const std::vector<ChatMessage>& messages, const std::string& default_system,
                          bool add_generation_prompt) {
  std::string out;
  auto turn = [&](const std::string& role, const std::string& content) {
    out += "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
  };
  if (!messages.empty() && messages[0].role != "system" && !default_system.empty()) turn("system", default_system);
  for (const ChatMessage& m : messages) turn(m.role, m.content);
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  // The template puts its BOS in front of the first message.
  if (!messages.empty()) out += "<|begin_of_text|>";
  for (const ChatMessage& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

void check_roles(const std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role.empty()) fail("chat message {} has an empty role; use system, user or assistant", i);
  }
}

// The literal system prompt a ChatML template writes when the conversation has none: the text
// between "<|im_start|>system\n" and "<|im_end|>" inside one string literal. Occurrences that
// splice in template expressions (quotes, braces, '+') are the template's own system-message
// rendering, not a default, and are skipped.
std::string find_default_system(const std::string& tmpl) {
  static const std::string kOpen = "<|im_start|>system\n";
  for (size_t pos = tmpl.find(kOpen); pos != std::string::npos; pos = tmpl.find(kOpen, pos + 1)) {
    const size_t begin = pos + kOpen.size();
    const size_t end = tmpl.find("<|im_end|>", begin);
    if (end == std::string::npos) break;
    const std::string text = tmpl.substr(begin, end - begin);
    if (!text.empty() && text.find_first_of("'\"{}+") == std::string::npos) return text;
  }
  return {};
}

}  // namespace

const char* chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::Gemma: return "gemma";
    case ChatFormat::ChatML: return "chatml";
    case ChatFormat::Llama3: return "llama3";
  }
  return "?";
}

ChatTemplate detect_chat_template(const gguf::File& file) {
  ChatTemplate result;
  if (const auto tmpl = file.get_string_opt("tokenizer.chat_template")) {
    if (tmpl->find("<start_of_turn>") != std::string::npos) {
      result.format = ChatFormat::Gemma;
    } else if (tmpl->find("<|start_header_id|>") != std::string::npos) {
      result.format = ChatFormat::Llama3;
    } else if (tmpl->find("<|im_start|>") != std::string::npos) {
      result.format = ChatFormat::ChatML;
      result.default_system = find_default_system(*tmpl);
    } else {
      fail("{}: tokenizer.chat_template matches no supported chat format (Gemma <start_of_turn>, ChatML "
           "<|im_start|>, Llama 3 <|start_header_id|>); use a raw prompt instead of chat mode",
           file.path());
    }
    return result;
  }

  const std::string arch = file.get_string_opt("general.architecture").value_or("");
  if (arch.rfind("gemma", 0) == 0) {
    result.format = ChatFormat::Gemma;
  } else if (arch == "qwen2" || arch == "qwen3") {
    result.format = ChatFormat::ChatML;
  } else {
    fail("{}: no tokenizer.chat_template and architecture '{}' has no known chat format; use a raw prompt "
         "instead of chat mode",
         file.path(), arch);
  }
  spdlog::info("{}: no tokenizer.chat_template; using the {} chat format for architecture '{}'", file.path(),
               chat_format_name(result.format), arch);
  return result;
}

ChatFormat detect_chat_format(const gguf::File& file) { return detect_chat_template(file).format; }

std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  return render_chat(ChatTemplate{format, {}}, messages, add_generation_prompt);
}

std::string render_chat(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
  check_roles(messages);
  switch (tmpl.format) {
    case ChatFormat::Gemma: return render_gemma(messages, add_generation_prompt);
    case ChatFormat::ChatML: return render_chatml(messages, tmpl.default_system, add_generation_prompt);
    case ChatFormat::Llama3: return render_llama3(messages, add_generation_prompt);
  }
  fail("unknown chat format {}", static_cast<int>(tmpl.format));
}

}  // namespace lkv
