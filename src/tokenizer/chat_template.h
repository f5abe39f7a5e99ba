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
//
// Per family, following the models' own templates:
//  * Gemma: "<bos>", then "<start_of_turn>user|model\n" + content + "<end_of_turn>\n" per turn.
//    A leading system message is not a turn: its text plus "\n\n" opens the first user turn.
//    Contents are trimmed of surrounding whitespace (the system text is not). Turns must
//    alternate user/assistant starting with user; anything else throws lkv::Error, as the
//    template raises.
//  * ChatML: "<|im_start|>" + role + "\n" + content + "<|im_end|>\n" per message, untrimmed, no BOS.
//  * Llama 3: "<|begin_of_text|>", then "<|start_header_id|>" + role + "<|end_header_id|>\n\n" +
//    trimmed content + "<|eot_id|>" per message.
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// A detected template: its format and, for ChatML templates that insert one when the
// conversation does not start with a system message (SmolLM2, Qwen2.5), that default system
// prompt (empty otherwise). The prompt is read from the template text itself.
struct ChatTemplate {
  ChatFormat format = ChatFormat::ChatML;
  std::string default_system;
};

// Like detect_chat_format, plus the default system prompt. Without tokenizer.chat_template the
// format follows general.architecture (gemma* -> Gemma, qwen2/qwen3 -> ChatML) and an info line
// reports the fallback; other architectures throw.
ChatTemplate detect_chat_template(const gguf::File& file);

// render_chat for a detected template: inserts its default system prompt when the first message
// is not a system message.
std::string render_chat(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace lkv
