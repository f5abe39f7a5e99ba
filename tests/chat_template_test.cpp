// Chat rendering rules that the golden files do not pin down: trimming, the Gemma system prefix,
// role checks, default system prompts and detection from template text.
#include <gtest/gtest.h>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace lkv {
namespace {

std::unique_ptr<gguf::File> file_with(std::vector<uint8_t>& storage, const std::string& arch, const std::string* tmpl) {
  gguf::Writer w;
  w.add_string("general.architecture", arch);
  if (tmpl) w.add_string("tokenizer.chat_template", *tmpl);
  storage = w.to_bytes();
  return gguf::File::from_memory(storage.data(), storage.size(), "chat.gguf");
}

TEST(ChatTemplateRender, GemmaTrimsTurnsButNotTheSystemPrefix) {
  const std::string out = render_chat(ChatFormat::Gemma,
                                      {{"system", " Be brief. "}, {"user", "\n  Hi there \t"}, {"assistant", " Hello "}}, true);
  EXPECT_EQ(out,
            "<bos><start_of_turn>user\n Be brief. \n\nHi there<end_of_turn>\n"
            "<start_of_turn>model\nHello<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplateRender, GemmaRequiresAlternatingTurns) {
  EXPECT_THROW(render_chat(ChatFormat::Gemma, {{"user", "a"}, {"user", "b"}}, true), Error);
  EXPECT_THROW(render_chat(ChatFormat::Gemma, {{"assistant", "a"}}, true), Error);
  EXPECT_THROW(render_chat(ChatFormat::Gemma, {{"user", "a"}, {"system", "b"}}, true), Error);
  EXPECT_EQ(render_chat(ChatFormat::Gemma, {}, true), "<bos><start_of_turn>model\n");
}

TEST(ChatTemplateRender, ChatMLDefaultSystemPrompt) {
  const ChatTemplate tmpl{ChatFormat::ChatML, "Default."};
  EXPECT_EQ(render_chat(tmpl, {{"user", " x "}}, false), "<|im_start|>system\nDefault.<|im_end|>\n<|im_start|>user\n x <|im_end|>\n");
  EXPECT_EQ(render_chat(tmpl, {{"system", "S"}, {"user", "u"}}, true),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(tmpl, {}, true), "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(ChatFormat::ChatML, {{"user", "u"}}, false), "<|im_start|>user\nu<|im_end|>\n");
  EXPECT_THROW(render_chat(ChatFormat::ChatML, {{"", "u"}}, false), Error);
}

TEST(ChatTemplateRender, Llama3HeadersAndTrim) {
  EXPECT_EQ(render_chat(ChatFormat::Llama3, {{"system", " s "}, {"user", "u\n"}}, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\ns<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nu<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateDetect, FromTemplateTextAndArchitecture) {
  std::vector<uint8_t> storage;
  const std::string gemma = "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}{% endfor %}";
  const std::string llama3 = "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>{% endfor %}";
  const std::string qwen =
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}"
      "{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}"
      "{%- endif %}";
  const std::string plain_chatml = "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n'}}{% endfor %}";
  const std::string unknown = "[INST] {{ messages[0]['content'] }} [/INST]";

  EXPECT_EQ(detect_chat_format(*file_with(storage, "gemma3", &gemma)), ChatFormat::Gemma);
  EXPECT_EQ(detect_chat_format(*file_with(storage, "llama", &llama3)), ChatFormat::Llama3);
  const ChatTemplate q = detect_chat_template(*file_with(storage, "qwen2", &qwen));
  EXPECT_EQ(q.format, ChatFormat::ChatML);
  EXPECT_EQ(q.default_system, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  EXPECT_EQ(detect_chat_template(*file_with(storage, "llama", &plain_chatml)).default_system, "");
  EXPECT_THROW(detect_chat_format(*file_with(storage, "llama", &unknown)), Error);

  EXPECT_EQ(detect_chat_format(*file_with(storage, "gemma3", nullptr)), ChatFormat::Gemma);
  EXPECT_EQ(detect_chat_format(*file_with(storage, "qwen2", nullptr)), ChatFormat::ChatML);
  EXPECT_THROW(detect_chat_format(*file_with(storage, "llama", nullptr)), Error);
  EXPECT_STREQ(chat_format_name(ChatFormat::Llama3), "llama3");
}

}  // namespace
}  // namespace lkv
