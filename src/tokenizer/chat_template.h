// Chat prompt rendering for the supported model families.
//
// The family is chosen from the GGUF's tokenizer.chat_template text (and architecture), never by
// running Jinja: Gemma turns, ChatML (SmolLM2, Qwen) and Llama 3 headers.
#pragma once

#include <string>
#include <vector>

namespace lkv::gguf {
class File;
}

namespace lkv {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFormat { Gemma, ChatML, Llama3 };

// Detects the format from the file's metadata; throws lkv::Error when no supported format matches.
ChatFormat detect_chat_format(const gguf::File& file);
const char* chat_format_name(ChatFormat format);

// Renders messages, ending with the assistant generation prefix when add_generation_prompt. The
// result includes the template's own BOS text where the family has one, so encode it with
// add_special = false and parse_special = true.
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace lkv
